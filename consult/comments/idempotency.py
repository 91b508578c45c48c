"""Idempotency keys, scoped to the client and the consultation (F11, SPEC §5).

A retried submission with the same key (the API's `Idempotency-Key` header, the web form's
nonce, the staff register's nonce) makes one comment and gets the first answer again. A key
belongs to one client and one consultation:

- the API's client is the rate-limit client (consult/ratelimit.py): an IPv4 address or an IPv6
  /64, the forwarded address behind PROXY_FIX;
- the web form's client is the browser's session (`consult.ratelimit.session_client()`, set
  when the form is shown, so that a retry whose first answer was lost still carries it);
- the staff register's client is the staff member.

Another client's key is just another key: it finds nothing of theirs (no tracking number leaks)
and blocks nothing. The same client and key with a different request is a 422
(`idempotency_key_reused`). What is stored is a keyed hash of client, consultation and key —
never the client's address — and a fingerprint of the request to compare retries with.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import json

from flask import current_app
from flask_babel import gettext as _

from consult.comments.models import Comment
from consult.errors import ValidationFailed
from consult.extensions import db

PREFIX = "v2:"  # keys stored before scoping were raw; they can never equal a scoped one


def scoped(client: str | None, consultation_id: int, key: str) -> str:
    """What is stored for `key` used by `client` on a consultation: a keyed hash of the three."""
    secret = current_app.config["SECRET_KEY"].encode()
    message = "\x1f".join([client or "", str(consultation_id), key]).encode()
    return PREFIX + hmac.new(secret, message, hashlib.sha256).hexdigest()


# The canonical JSON of a request: one encoder, not one made by `json.dumps` on every call.
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@functools.cache
def _field_names(cls) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(cls))


def fingerprint(data) -> str:
    """The request as a digest (every field of the CommentInput), to tell a retry from a reuse."""
    # Its fields are scalars: read as they are (what `dataclasses.asdict` gave, without its
    # deep copy); enums by their values.
    values = {}
    for name in _field_names(type(data)):
        value = getattr(data, name)
        values[name] = value.value if hasattr(value, "value") else value
    if isinstance(values.get("body"), str):
        values["body"] = values["body"].strip()
    return hashlib.sha256(_CANONICAL.encode(values).encode()).hexdigest()


def lookup(key: str):
    """The comment already made with this scoped key, if any."""
    return db.session.scalar(db.select(Comment).where(Comment.idempotency_key == key))


def replay(existing, request_fingerprint: str | None):
    """The first comment again, if this is a true retry; 422 if the key came with another body."""
    stored = existing.idempotency_fingerprint
    if stored and request_fingerprint and not hmac.compare_digest(stored, request_fingerprint):
        message = _("该幂等键（或表单）已经提交过另一份内容。"
                    "如要提出新的意见，请重新打开表单或使用新的幂等键。")
        raise ValidationFailed(message, code="idempotency_key_reused")
    return existing
