"""Domain events: how a lower domain lets a higher one follow a change, without importing it.

The domains keep one order (README, `.importlinter`): a domain may call the ones below it, never
one above. Where a change in a lower domain must be followed, in the same transaction, by one in
a higher domain — a comment hidden after the report is out needs the report's next revision —
the lower domain sends a signal here and the higher one receives it (connected when its module
is imported; `consult.create_app` imports every receiving module). Receivers run at once, inside
the sender's transaction; like services they flush and never commit.

Signals (blinker, which Flask itself uses):
- `comment_hidden(comment, actor=)`: a moderator hid a comment (comments → answers: a
  published report gets its next revision);
- `comments_erased(consultation_ids, comments=, reason=)`: personal data of comments was erased
  (comments → answers: published reports are redacted);
- `extension_recipients(consultation)`: who, besides its subscribers, is told of a longer window;
  each receiver returns {address: language} (consultations ← comments: commenters who asked);
- `comment_submitted(comment, session=)`: a citizen's comment was written by one INSERT, without
  the ORM's flush (consult/comments/services.py, for speed): what the read models do after a
  flush that adds a comment — its search index row (written after the commit:
  consult/search/indexer.py), the pages that show it — they do here.
"""

from __future__ import annotations

from blinker import Namespace, Signal

events = Namespace()

comment_hidden = events.signal("comment-hidden")
comments_erased = events.signal("comments-erased")
extension_recipients = events.signal("extension-recipients")
comment_submitted = events.signal("comment-submitted")


def send_required(signal: Signal, sender, **kwargs) -> list:
    """Send `signal` to receivers that must be there: a change that nobody follows up would be
    silently wrong (a report still showing a hidden comment), so no receiver is a wiring error."""
    if not signal.receivers:
        raise RuntimeError(f"no receiver is connected to the signal {signal.name!r}")
    return signal.send(sender, **kwargs)
