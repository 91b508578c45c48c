"""A citizen's attachment to a comment (F6): private by default, shown to the unit's staff.

Files are checked and stored by `consult.uploads` inside `submit_comment`; staff download them
through `comments.manage_attachment`. Templates get `files_of` as `comment_files(comments)`: one
query for a whole page of comments.
"""

from __future__ import annotations

from consult.comments.models import Comment
from consult.extensions import db
from consult.uploads import Attachment


def files_of(comments) -> dict[int, list[Attachment]]:
    """Attachments of `comments` by comment id, oldest first."""
    ids = [c.id for c in comments]
    files: dict[int, list[Attachment]] = {}
    if not ids:
        return files
    for attachment in db.session.scalars(
        db.select(Attachment)
        .where(Attachment.owner_type == Comment.__tablename__, Attachment.owner_id.in_(ids))
        .order_by(Attachment.id)
    ):
        files.setdefault(attachment.owner_id, []).append(attachment)
    return files
