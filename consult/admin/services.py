"""The platform office's administration (F24): units and their hierarchy, staff accounts and
their roles, settings, and the audit log. Every change here is audited (ids only, never names
or addresses: the chain must outlive an erasure) and flushed, never committed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from consult import audit, clock, settings
from consult.apitokens import services as tokens
from consult.apitokens.models import ApiToken
from consult.auth import services as auth_services
from consult.auth.models import Membership, Role, Unit, User
from consult.consultations.windows import STATUTORY_BUSINESS_MIN_DAYS, STATUTORY_MIN_DAYS
from consult.errors import Conflict, ValidationFailed
from consult.extensions import db

audit.register_actions({
    "create_unit": _l("新增单位"),
    "edit_unit": _l("修改单位"),
    "invite_user": _l("开通工作账号"),
    "edit_user": _l("修改工作账号"),
    "add_role": _l("授予角色"),
    "remove_role": _l("撤销角色"),
    "deactivate_user": _l("停用工作账号"),
    "reactivate_user": _l("恢复工作账号"),
    "send_password_reset": _l("发送重设密码邮件"),
    "change_setting": _l("修改平台设置"),
    "reset_setting": _l("恢复默认设置"),
})

NAME_MAX, SHORT_NAME_MAX = 200, 60
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# ------------------------------------------------------------------------------ units


@dataclass
class UnitInput:
    name: str
    short_name: str | None
    parent_id: int | None
    is_legal_office: bool


def _check_unit(data: UnitInput, unit: Unit | None) -> tuple[str, Unit | None]:
    name = (data.name or "").strip()
    if not name or len(name) > NAME_MAX:
        message = _("请填写单位名称（不超过 %(n)d 字）。", n=NAME_MAX)
        raise ValidationFailed(message, fields={"name": message})
    if len((data.short_name or "").strip()) > SHORT_NAME_MAX:
        message = _("简称不超过 %(n)d 字。", n=SHORT_NAME_MAX)
        raise ValidationFailed(message, fields={"short_name": message})
    same = db.session.scalar(db.select(Unit).where(Unit.name == name))
    if same is not None and same is not unit:
        message = _("已有名为“%(name)s”的单位。", name=name)
        raise ValidationFailed(message, fields={"name": message})
    parent = None
    if data.parent_id is not None:
        parent = db.session.get(Unit, data.parent_id)
        if parent is None:
            message = _("上级单位不存在。")
            raise ValidationFailed(message, fields={"parent_id": message})
        if unit is not None and parent.id in unit.descendant_ids():
            message = _("上级单位不能是本单位或本单位的下级单位。")
            raise ValidationFailed(message, fields={"parent_id": message})
    return name, parent


def create_unit(data: UnitInput, *, actor: User) -> Unit:
    """Add a unit, under its parent (None: a top-level unit)."""
    name, parent = _check_unit(data, None)
    unit = Unit(name=name, short_name=(data.short_name or "").strip() or None, parent=parent,
                is_legal_office=data.is_legal_office)
    db.session.add(unit)
    db.session.flush()
    audit.record(actor, "create_unit", unit, unit_id=unit.id,
                 detail={"parent_id": unit.parent_id, "legal_office": unit.is_legal_office})
    return unit


def update_unit(unit: Unit, data: UnitInput, *, actor: User) -> bool:
    """Rename a unit or move it under another (never under itself or one of its own)."""
    name, parent = _check_unit(data, unit)
    before = {"name": unit.name, "short_name": unit.short_name, "parent_id": unit.parent_id,
              "legal_office": unit.is_legal_office}
    unit.name, unit.short_name = name, (data.short_name or "").strip() or None
    unit.parent, unit.is_legal_office = parent, data.is_legal_office
    db.session.flush()
    after = {"name": unit.name, "short_name": unit.short_name, "parent_id": unit.parent_id,
             "legal_office": unit.is_legal_office}
    changed = sorted(k for k in before if before[k] != after[k])
    if changed:
        audit.record(actor, "edit_unit", unit, unit_id=unit.id, detail={
            "changed": changed, "parent_id": [before["parent_id"], after["parent_id"]]})
    return bool(changed)


def unit_tree() -> list[tuple[Unit, int]]:
    """Every unit with its depth, each under its parent, by name."""
    units = db.session.scalars(db.select(Unit).order_by(Unit.name)).all()
    children: dict[int | None, list[Unit]] = {}
    ids = {u.id for u in units}
    for unit in units:
        parent = unit.parent_id if unit.parent_id in ids else None
        children.setdefault(parent, []).append(unit)
    out: list[tuple[Unit, int]] = []
    seen: set[int] = set()

    def walk(parent: int | None, depth: int) -> None:
        for unit in children.get(parent, []):
            if unit.id not in seen:
                seen.add(unit.id)
                out.append((unit, depth))
                walk(unit.id, depth + 1)

    walk(None, 0)
    out += [(u, 0) for u in units if u.id not in seen]  # a cycle made outside this page
    return out


# ------------------------------------------------------------------------------ accounts

ROLES = (Role.EDITOR, Role.APPROVER, Role.LEGAL_REVIEWER, Role.ADMIN)


def _email(value: str) -> str:
    email = (value or "").strip().lower()
    if not EMAIL.match(email) or len(email) > 254:
        message = _("请填写有效的电子邮箱。")
        raise ValidationFailed(message, fields={"email": message})
    return email


def invite_user(*, email: str, name: str, unit: Unit, role: Role, actor: User) -> User:
    """Open a staff account with `role` in `unit` and mail its owner a link to set the
    password (the account has no usable password until then)."""
    email = _email(email)
    name = (name or "").strip()
    if not name or len(name) > 100:
        message = _("请填写姓名（不超过 100 字）。")
        raise ValidationFailed(message, fields={"name": message})
    if db.session.scalar(db.select(User.id).where(User.email == email)) is not None:
        message = _("该电子邮箱已有工作账号。")
        raise ValidationFailed(message, fields={"email": message})
    user = User(email=email, name=name)
    user.set_password(auth_services.unusable_password())
    user.memberships.append(Membership(unit=unit, role=Role(role)))
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "invite_user", user, unit_id=unit.id, detail={"role": str(role)})
    auth_services.queue_password_link(user, invited=True)
    return user


def rename_user(user: User, name: str, *, actor: User) -> None:
    name = (name or "").strip()
    if not name or len(name) > 100:
        message = _("请填写姓名（不超过 100 字）。")
        raise ValidationFailed(message, fields={"name": message})
    if name != user.name:
        user.name = name
        audit.record(actor, "edit_user", user, detail={"changed": ["name"]})


def add_role(user: User, unit: Unit, role: Role, *, actor: User) -> Membership:
    """Give `user` `role` in `unit` (and so in the units below it)."""
    if any(m.unit_id == unit.id and m.role == role for m in user.memberships):
        raise Conflict(_("该账号在该单位已有这一角色。"), code="role_exists")
    membership = Membership(unit=unit, role=Role(role))
    user.memberships.append(membership)
    db.session.flush()
    audit.record(actor, "add_role", user, unit_id=unit.id, detail={"role": str(role)})
    return membership


def _admins_left(without: Membership | None = None, without_user: User | None = None) -> int:
    """Active platform admins that would remain."""
    count = 0
    for user in db.session.scalars(db.select(User).where(User.active.is_(True))):
        if user is without_user:
            continue
        if user.is_admin or any(m.role == Role.ADMIN and m is not without
                                for m in user.memberships):
            count += 1
    return count


def remove_role(membership: Membership, *, actor: User) -> None:
    """Take a role away; the last platform admin's admin role stays."""
    if membership.role == Role.ADMIN and _admins_left(without=membership) == 0:
        raise Conflict(_("这是最后一个平台管理员账号，不能撤销其管理员角色。"), code="last_admin")
    user = membership.user
    audit.record(actor, "remove_role", user, unit_id=membership.unit_id,
                 detail={"role": str(membership.role)})
    user.memberships.remove(membership)
    db.session.flush()


def deactivate(user: User, *, actor: User) -> None:
    """Stop an account: it cannot sign in, and every session it has ends at once (its
    session stamp changes, `consult.auth.models`)."""
    if user.id == actor.id:
        raise Conflict(_("不能停用自己的账号。"), code="self")
    if not user.active:
        raise Conflict(_("该账号已停用。"), code="inactive")
    if _admins_left(without_user=user) == 0:
        raise Conflict(_("这是最后一个平台管理员账号，不能停用。"), code="last_admin")
    user.active = False
    db.session.flush()
    audit.record(actor, "deactivate_user", user)


def reactivate(user: User, *, actor: User) -> None:
    if user.active:
        raise Conflict(_("该账号未停用。"), code="active")
    user.active = True
    db.session.flush()
    audit.record(actor, "reactivate_user", user)


def send_password_reset(user: User, *, actor: User) -> None:
    """Mail a link to set a new password; the old one works until the link is used."""
    if not user.active:
        raise Conflict(_("该账号已停用，请先恢复。"), code="inactive")
    auth_services.queue_password_link(user, invited=False)
    audit.record(actor, "send_password_reset", user)


# ------------------------------------------------------------------------------ API tokens
# Every unit's tokens, issued and revoked through the token service (`consult.apitokens`), which
# decides who may manage them, checks them and audits each action.

TOKEN_STATUSES = ("active", "revoked", "expired", "all")


def _active(now):
    return db.and_(ApiToken.revoked_at.is_(None),
                   db.or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now))


def api_tokens(actor: User, *, unit_id: int | None = None, status: str = "all"):
    """The tokens `actor` manages (an admin: every unit's), newest first, by unit and status
    (`TOKEN_STATUSES`)."""
    query = tokens.tokens_for(actor)
    now = clock.now()
    if unit_id:
        query = query.where(ApiToken.unit_id == unit_id)
    if status == "active":
        query = query.where(_active(now))
    elif status == "revoked":
        query = query.where(ApiToken.revoked_at.is_not(None))
    elif status == "expired":
        query = query.where(ApiToken.revoked_at.is_(None), ApiToken.expires_at <= now)
    return query.options(db.selectinload(ApiToken.user), db.selectinload(ApiToken.unit),
                         db.selectinload(ApiToken.created_by))


def active_api_tokens() -> int:
    return db.session.scalar(db.select(db.func.count(ApiToken.id)).where(_active(clock.now())))


def issue_api_token(*, unit: Unit, email: str, name: str, scopes: list[str],
                    expires_in_days: int | None, actor: User) -> tuple[ApiToken, str]:
    """A token for the staff member (or system account) with `email` in `unit`, by the token
    service; returns it with its plaintext, shown once."""
    user = db.session.scalar(db.select(User).where(
        db.func.lower(User.email) == (email or "").strip().lower()))
    if user is None:
        message = _("没有这个邮箱的工作人员账号。")
        raise ValidationFailed(message, fields={"email": message})
    return tokens.create_token(user=user, unit=unit, name=name, scopes=scopes,
                               expires_in_days=expires_in_days, actor=actor)


def revoke_api_token(token: ApiToken, *, actor: User) -> bool:
    """Revoke a token at once (its next request is 401); False when it already was."""
    if token.revoked_at is not None:
        return False
    tokens.revoke_token(token, actor=actor)
    return True


# ------------------------------------------------------------------------------ settings


@dataclass(frozen=True)
class SettingSpec:
    key: str
    label: object
    kind: str  # "days" (an int), "minimums" (days per type), "dates" (ISO dates), "text"
    minimum: int = 0
    maximum: int = 3650
    hint: object = ""


SETTINGS = (
    SettingSpec("WINDOW_MIN_DAYS", _l("各类文件的最短征求意见期限"), "minimums",
                hint=_l("规章和重大行政决策不少于 30 日，行政规范性文件不少于 7 个工作日"
                        "（法定下限，不能再短）。修改只适用于此后创建的征求意见，"
                        "已创建的沿用创建时的期限。")),
    SettingSpec("WINDOW_BUSINESS_MIN_DAYS", _l("涉及市场主体经营活动的行政规范性文件（日）"),
                "days", STATUTORY_BUSINESS_MIN_DAYS, 365,
                hint=_l("不少于 30 日（法定下限）。只适用于此后创建的征求意见。")),
    SettingSpec("HOLIDAYS", _l("法定节假日"), "dates",
                hint=_l("每行一个日期，格式 2026-10-01。")),
    SettingSpec("MAKEUP_WORKDAYS", _l("调休上班日"), "dates",
                hint=_l("每行一个日期，格式 2026-09-28。")),
    SettingSpec("REPORT_DUE_DAYS", _l("征集截止后公布采纳情况的期限（日）"), "days", 1, 365,
                hint=_l("超过期限未公布的，在工作台和统计数据中列为逾期，并发送提醒。")),
    SettingSpec("CONTACT_RETENTION_DAYS", _l("意见提出人联系方式的保存期限（日）"), "days", 1,
                3650, hint=_l("采纳情况公布后满该期限，删除电子邮箱和电话。")),
    SettingSpec("SITE_NAME", _l("平台名称"), "text", 0, 60),
    SettingSpec("SITE_SPONSOR", _l("主办单位"), "text", 0, 100),
    SettingSpec("SITE_OPERATOR", _l("承办单位"), "text", 0, 100),
    SettingSpec("SITE_CONTACT", _l("联系方式"), "text", 0, 200),
    SettingSpec("SITE_CONTACT_EMAIL", _l("联系邮箱"), "text", 0, 200),
    SettingSpec("SITE_ID_CODE", _l("网站标识码"), "text", 0, 40),
    SettingSpec("SITE_ICP", _l("ICP 备案号"), "text", 0, 100),
    SettingSpec("SITE_PSB", _l("公网安备号"), "text", 0, 100),
)
SPECS = {spec.key: spec for spec in SETTINGS}
WINDOW_TYPES = ("rule", "major_decision", "normative_document", "other")


def _parse(spec: SettingSpec, raw) -> object:
    """A value from the form, checked; ValidationFailed names the field (the key)."""
    def fail(message):
        raise ValidationFailed(message, fields={spec.key: message})

    if spec.kind == "days":
        text = str(raw if raw is not None else "").strip()
        if not text.isascii() or not text.isdigit() or not spec.minimum <= int(text) <= \
                spec.maximum:
            fail(_("请填写 %(min)d 至 %(max)d 之间的整数。", min=spec.minimum,
                   max=spec.maximum))
        return int(text)
    if spec.kind == "minimums":
        values = {}
        for code in WINDOW_TYPES:
            text = str((raw or {}).get(code, "")).strip()
            floor = STATUTORY_MIN_DAYS[code]
            if not text.isascii() or not text.isdigit() or not floor <= int(text) <= 365:
                message = _("不能少于法定的 %(n)d 日，也不能超过 365 日。", n=floor)
                raise ValidationFailed(message, fields={f"{spec.key}-{code}": message,
                                                        spec.key: message})
            values[code] = int(text)
        return values
    if spec.kind == "dates":
        values = sorted({line.strip() for line in str(raw or "").replace(",", "\n")
                         .splitlines() if line.strip()})
        for value in values:
            try:
                date.fromisoformat(value)
            except ValueError:
                fail(_("“%(value)s”不是日期（格式：2026-10-01）。", value=value[:20]))
            if len(value) != 10:
                fail(_("“%(value)s”不是日期（格式：2026-10-01）。", value=value[:20]))
        if len(values) > 2000:
            fail(_("日期太多（最多 2000 个）。"))
        return values
    text = str(raw or "").strip()
    if len(text) > spec.maximum or "\n" in text:
        fail(_("不超过 %(n)d 字，且只有一行。", n=spec.maximum))
    return text


def current_values() -> dict[str, object]:
    """What each setting is now: the saved override, else the configuration's default."""
    return {spec.key: settings.value(spec.key) for spec in SETTINGS}


def defaults() -> dict[str, object]:
    return {spec.key: current_app.config.get(spec.key) for spec in SETTINGS}


def save_settings(raw: dict[str, object], *, actor: User) -> list[str]:
    """Check every value first (all or nothing), then save those that differ from what holds
    now; a value equal to the environment's default removes the override. One audit row per
    changed key (the key and the values: none of them personal). Returns the keys changed."""
    parsed = {spec.key: _parse(spec, raw.get(spec.key)) for spec in SETTINGS}
    now_values, default_values = current_values(), defaults()
    changed = []
    for key, value in parsed.items():
        if value == now_values[key]:
            continue
        changed.append(key)
        row = db.session.get(settings.Setting, key)
        before = now_values[key]
        if value == default_values[key]:
            if row is not None:
                db.session.delete(row)
            action = "reset_setting"
        else:
            if row is None:
                row = settings.Setting(key=key)
                db.session.add(row)
            row.value, row.updated_at, row.updated_by_id = value, clock.now(), actor.id
            action = "change_setting"
        db.session.flush()
        audit.record(actor, action, _SettingRef(key), detail={
            "key": key, "before": _brief(before), "after": _brief(value)})
    settings.forget()
    return changed


def _brief(value):
    """A setting's value for the audit log: long date lists by their length and ends."""
    if isinstance(value, list) and len(value) > 6:
        return {"count": len(value), "first": value[0], "last": value[-1]}
    return value


class _SettingRef:
    """What the audit row of a setting names: the settings table; the key is in `detail`."""

    __tablename__ = "settings"
    id = 0
    unit_id = None

    def __init__(self, key: str):
        self.key = key
