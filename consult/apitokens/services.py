"""Creating, listing, revoking and checking API tokens. Callable from any page (the token
page here, the oversight helper's admin pages)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from consult import audit, clock
from consult.apitokens.models import ApiToken, Scope
from consult.auth.models import Unit, User
from consult.errors import ConsultError, NotAllowed, ValidationFailed
from consult.extensions import db
from consult.permissions import Perm, has_permission, is_admin, unit_ids_with

PREFIX = "cst_"
NAME_MAX = 100
MAX_DAYS = 730

audit.register_actions({
    "api_token_create": _l("创建接口令牌"),
    "api_token_revoke": _l("吊销接口令牌"),
    "api_token_use": _l("使用接口令牌"),
    "api_token_refused": _l("接口调用被拒绝"),
})


class InvalidToken(ConsultError):
    """No token, an unknown one, or one revoked or expired (401). `token`: the one shown,
    when it is known (revoked, expired, its user inactive)."""

    status = 401
    code = "invalid_token"
    token: ApiToken | None = None


class MissingScope(ConsultError):
    status = 403
    code = "insufficient_scope"


def digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def can_manage(user: User | None, unit: Unit) -> bool:
    """Platform admins, and approvers of the unit (or of a unit above it)."""
    return is_admin(user) or has_permission(user, Perm.APPROVE, unit)


def manageable_units(user: User) -> list[Unit]:
    query = db.select(Unit).order_by(Unit.name)
    if not is_admin(user):
        query = query.where(Unit.id.in_(unit_ids_with(user, Perm.APPROVE) or {-1}))
    return db.session.scalars(query).all()


def tokens_for(user: User):
    """The tokens `user` may see and revoke, newest first."""
    query = db.select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if not is_admin(user):
        query = query.where(ApiToken.unit_id.in_(unit_ids_with(user, Perm.APPROVE) or {-1}))
    return query


def create_token(*, user: User, unit: Unit, name: str, scopes: list[str],
                 expires_in_days: int | None, actor: User) -> tuple[ApiToken, str]:
    """A new token for `user` in `unit`; returns it with its plaintext (shown once)."""
    if not can_manage(actor, unit):
        raise NotAllowed(_("只有平台管理员和本单位审核人可以管理接口令牌。"))
    name = " ".join((name or "").split())
    errors = {}
    if not name or len(name) > NAME_MAX:
        errors["name"] = _("请填写用途（不超过 %(n)d 字）。", n=NAME_MAX)
    if not has_permission(user, Perm.VIEW_STAFF, unit) or not user.active:
        errors["user"] = _("令牌的使用人须是该单位的在职工作人员（或系统账号）。")
    chosen = sorted(set(scopes or []))
    if not chosen or any(s not in Scope._value2member_map_ for s in chosen):
        errors["scopes"] = _("请至少选择一项有效的权限范围。")
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_DAYS:
        errors["expires_in_days"] = _("有效期须为 1 至 %(n)d 天。", n=MAX_DAYS)
    if errors:
        raise ValidationFailed(next(iter(errors.values())), fields=errors)
    plaintext = PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    token = ApiToken(name=name, user=user, unit=unit, scopes=chosen, token_hash=digest(plaintext),
                     prefix=plaintext[:10], created_by_id=actor.id, created_at=now,
                     expires_at=now + timedelta(days=expires_in_days) if expires_in_days
                     else None)
    db.session.add(token)
    audit.record(actor, "api_token_create", token,
                 detail={"user_id": user.id, "scopes": chosen})
    return token, plaintext


def revoke_token(token: ApiToken, *, actor: User) -> ApiToken:
    if not can_manage(actor, token.unit):
        raise NotAllowed(_("只有平台管理员和本单位审核人可以管理接口令牌。"))
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.revoked_by_id = actor.id
        audit.record(actor, "api_token_revoke", token)
    return token


def authenticate(header: str | None) -> ApiToken:
    """The active token of an `Authorization: Bearer …` header, or InvalidToken (401)."""
    scheme, _sep, value = (header or "").partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value.startswith(PREFIX) or len(value) > 100:
        raise InvalidToken(_("需要有效的接口令牌（Authorization: Bearer …）。"))
    token = db.session.scalar(db.select(ApiToken).where(ApiToken.token_hash == digest(value)))
    if token is None or not hmac.compare_digest(token.token_hash, digest(value)):
        raise InvalidToken(_("接口令牌无效。"))
    refusal = None
    if not token.active:
        refusal = InvalidToken(_("接口令牌已吊销或已过期。"), code="token_revoked")
    elif not token.user.active:
        refusal = InvalidToken(_("接口令牌的使用人已停用。"), code="token_user_inactive")
    if refusal is not None:
        refusal.token = token
        raise refusal
    return token


def require_scope(token: ApiToken, scope: Scope, unit: Unit) -> None:
    """403 unless the token carries `scope` and `unit` is its unit or below it."""
    if scope.value not in (token.scopes or []):
        raise MissingScope(_("该接口令牌没有此项权限（%(scope)s）。", scope=scope.value))
    if not _within(unit, token.unit):
        raise NotAllowed(_("该接口令牌不能操作其他单位的事项。"), code="other_unit")


def _within(unit: Unit, top: Unit) -> bool:
    seen = 0
    while unit is not None and seen < 20:
        if unit.id == top.id:
            return True
        unit, seen = unit.parent, seen + 1
    return False


def record_use(token: ApiToken, *, method: str, endpoint: str) -> None:
    """Every use is audited (who, which token, what) and stamps the token."""
    token.last_used_at = clock.now()
    audit.record(token.user, "api_token_use", token,
                 detail={"method": method, "endpoint": endpoint})


class _NoToken:
    """The audit row's object when no known token was shown (object id 0)."""

    __tablename__ = ApiToken.__tablename__
    id = 0
    unit_id = None


def record_refusal(token: ApiToken | None, *, method: str, endpoint: str, route: dict,
                   status: int, code: str, fields: list[str]) -> None:
    """Audit a refused write-API call: the token (id only, never its secret) and its user,
    or object id 0 when no known token was shown; the route (method, endpoint, its numeric
    ids), the reason (`code`), the status and the names of the fields refused."""
    ids = {name: value for name, value in route.items() if isinstance(value, int)}
    audit.record(token.user if token is not None else None, "api_token_refused",
                 token if token is not None else _NoToken(), reason=code,
                 detail={"method": method, "endpoint": endpoint, "route": ids,
                         "status": status, "fields": fields})
