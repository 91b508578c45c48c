"""Signed, expiring tokens for links sent by mail (comment verification, citizen accounts).

The signature's timestamp comes from `consult.clock`, so tests can travel past the expiry.
Each use has its own salt, so a token made for one purpose is worthless for another.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from consult import clock
from consult.errors import ConsultError


class LinkInvalid(ConsultError):
    """A link that was never ours or was altered (400)."""

    status = 400
    code = "link_invalid"


class LinkExpired(ConsultError):
    """A genuine link that is too old (410)."""

    status = 410
    code = "link_expired"


class _ClockSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=salt, signer=_ClockSigner
    )


def make_token(salt: str, payload: Any) -> str:
    return _serializer(salt).dumps(payload)


def read_token(salt: str, token: str, *, max_age_days: int | None = None) -> Any:
    """The payload of a token made with `salt`; LinkExpired or LinkInvalid otherwise."""
    days = max_age_days if max_age_days is not None else current_app.config["VERIFY_MAX_AGE_DAYS"]
    try:
        return _serializer(salt).loads(token, max_age=days * 86400)
    except SignatureExpired as error:
        raise LinkExpired(_("该链接已过期（有效期 %(days)d 天）。", days=days)) from error
    except BadSignature as error:
        raise LinkInvalid(_("该链接无效，请检查是否完整复制了邮件中的链接。")) from error
