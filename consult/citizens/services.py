"""Citizen accounts: sign-up by mailed link, sign-in, my comments, my data, correction, erasure.

A citizen account is not a staff account: its own table, its own session key
(`session["citizen_id"]`), its own loader `current_citizen()`. Staff authorization never sees it.

The password is chosen on the page the mailed link opens, never at sign-up: whoever controls the
mailbox controls the account, so nobody can pre-register someone else's address with a password
of their own. The same link, asked for again, resets a forgotten password.
"""

from __future__ import annotations

import hmac

from flask import current_app, g, session
from flask_babel import gettext as _

from consult import audit, clock, mail
from consult.citizens.models import Citizen
from consult.comments.models import Comment
from consult.comments.privacy import erase_comments, forget_mail_to
from consult.comments.services import public_text
from consult.errors import Conflict, ValidationFailed
from consult.extensions import db
from consult.security import log as security_log
from consult.security import passwords
from consult.tokens import LinkInvalid, make_token, read_token
from consult.uploads import attachments_of
from consult.urls import external_url

SESSION_KEY = "citizen_id"
SESSION_STAMP = "citizen_stamp"
PASSWORD_SALT = "citizen-password"
EMAIL_SALT = "citizen-email"


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def by_email(email: str) -> Citizen | None:
    email = normalize_email(email)
    if not email:
        return None
    return db.session.scalar(db.select(Citizen).where(Citizen.email == email))


# ------------------------------------------------------------------ session


def current_citizen() -> Citizen | None:
    """The signed-in citizen of this request, or None (also once erased or password changed)."""
    if "citizen" in g:
        return g.citizen
    citizen = None
    citizen_id = session.get(SESSION_KEY)
    if isinstance(citizen_id, int):
        found = db.session.get(Citizen, citizen_id)
        stamp = session.get(SESSION_STAMP)
        if found is not None and found.is_active and isinstance(stamp, str) \
                and hmac.compare_digest(stamp, found.session_stamp):
            citizen = found
    g.citizen = citizen
    return citizen


# The security log names the signed-in citizen of each request (consult/security/log.py).
security_log.register_citizen_loader(current_citizen)


def sign_in(citizen: Citizen) -> None:
    session[SESSION_KEY] = citizen.id
    session[SESSION_STAMP] = citizen.session_stamp
    g.citizen = citizen


def sign_out(*, everywhere: bool = False) -> None:
    """Forget the account in this session; `everywhere`: end every session of it (logout)."""
    citizen = current_citizen() if everywhere else None
    if citizen is not None:
        citizen.end_sessions()
        db.session.flush()
    session.pop(SESSION_KEY, None)
    session.pop(SESSION_STAMP, None)
    g.citizen = None


def authenticate(email: str, password: str, *, language: str | None = None) -> Citizen | None:
    """The active account with this email and password; None whatever the reason. Exactly one
    password check whatever the address names (no timing tells who has an account). The account
    keeps the `language` it signed in with: its mail is written in it."""
    citizen = by_email(email)
    if not passwords.check(citizen.password_hash if citizen else None, password) \
            or not citizen.is_active:
        return None
    if language:
        citizen.language = language
    return citizen


# ------------------------------------------------------------------ sign-up and password links


def register(email: str, display_name: str | None = None, *,
             language: str | None = None) -> Citizen:
    """Start a sign-up (or a password reset): mail a link to set the password.

    The page answers the same whether or not the address has an account, so it tells nobody
    who is registered; the mail itself says which case it is. A new account keeps the page's
    `language`; an existing one keeps its own (whoever asks for the link may not own it).
    """
    email = normalize_email(email)
    citizen = by_email(email)
    if citizen is None:
        citizen = Citizen(email=email, display_name=(display_name or "").strip() or None,
                          created_at=clock.now(), language=language)
        db.session.add(citizen)
        db.session.flush()
    _queue_password_link(citizen)
    return citizen


def _queue_password_link(citizen: Citizen) -> None:
    token = make_token(PASSWORD_SALT, {"c": citizen.id, "e": citizen.email,
                                       "s": citizen.password_stamp})
    link = external_url("citizens.set_password", token=token)
    mail.queue_mail("citizen_password", citizen.email, language=citizen.language, link=link,
                    new_account=citizen.email_verified_at is None,
                    days=current_app.config["VERIFY_MAX_AGE_DAYS"])


def citizen_for_password_link(token: str) -> Citizen:
    """The account a password link names; a used or outdated link is invalid (400)."""
    payload = read_token(PASSWORD_SALT, token)
    citizen = None
    if isinstance(payload, dict) and isinstance(payload.get("c"), int):
        citizen = db.session.get(Citizen, payload["c"])
    if (citizen is None or citizen.erased_at is not None or citizen.email != payload.get("e")
            or citizen.password_stamp != payload.get("s")):
        raise LinkInvalid(_("该链接无效或已经使用过。如需要，请重新申请。"))
    return citizen


def set_password(token: str, password: str) -> Citizen:
    """Follow a mailed link: the address is verified and the password set (single use)."""
    citizen = citizen_for_password_link(token)
    _check_password(password)
    citizen.set_password(password)
    if citizen.email_verified_at is None:
        citizen.email_verified_at = clock.now()
    db.session.flush()
    return citizen


def _check_password(password: str) -> None:
    if len(password or "") < 8:
        message = _("密码至少需要 8 个字符。")
        raise ValidationFailed(message, code="weak_password", fields={"password": message})


# ------------------------------------------------------------------ correction


def update_profile(citizen: Citizen, *, display_name: str | None, email: str) -> bool:
    """Correct the display name now; a new email is changed once its own link is followed.

    Returns True when a confirmation mail went to the new address.
    """
    citizen.display_name = (display_name or "").strip() or None
    email = normalize_email(email)
    if not email or email == citizen.email:
        return False
    token = make_token(EMAIL_SALT, {"c": citizen.id, "old": citizen.email, "new": email})
    link = external_url("citizens.confirm_email", token=token)
    mail.queue_mail("citizen_email", email, language=citizen.language, link=link,
                    days=current_app.config["VERIFY_MAX_AGE_DAYS"])
    return True


def read_email_change(token: str) -> tuple[Citizen, str]:
    """The account and new address an email-change link names (400/410 when not valid)."""
    payload = read_token(EMAIL_SALT, token)
    citizen = None
    if isinstance(payload, dict) and isinstance(payload.get("c"), int):
        citizen = db.session.get(Citizen, payload["c"])
    if citizen is None or citizen.erased_at is not None or citizen.email != payload.get("old"):
        raise LinkInvalid(_("该链接无效或已经使用过。如需要，请重新申请。"))
    return citizen, normalize_email(payload.get("new"))


def confirm_email_change(token: str) -> Citizen:
    """Apply an email change from its link; the old address on my comments follows."""
    citizen, new = read_email_change(token)
    if by_email(new) is not None:
        raise Conflict(_("该电子邮箱已被其他账号使用。"), code="email_taken")
    old = citizen.email
    citizen.email = new
    for comment in my_comments(citizen):
        if comment.email and comment.email.lower() == old:
            comment.email = new
    db.session.flush()
    return citizen


# ------------------------------------------------------------------ my comments, my data


def my_comments(citizen: Citizen) -> list[Comment]:
    """The comments made while signed in to this account, newest first."""
    return db.session.scalars(
        db.select(Comment).where(Comment.citizen_id == citizen.id)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .options(db.selectinload(Comment.consultation), db.selectinload(Comment.article),
                 db.selectinload(Comment.disposition))
    ).all()


def _iso(moment) -> str | None:
    return clock.local(moment).isoformat() if moment else None


def export_data(citizen: Citizen) -> dict:
    """Everything kept about the account and its comments, contact data included (PIPL Art 45)."""
    comments = []
    for comment in my_comments(citizen):
        answer = None
        if (comment.consultation.report_published and comment.disposition is not None
                and comment.needs_answer):
            answer = {"disposition": comment.disposition.code.value,
                      "reason": comment.disposition.reason}
        comments.append({
            "tracking_no": comment.tracking_no,
            "consultation": {"id": comment.consultation_id, "title": comment.consultation.title},
            "article": comment.article.number if comment.article else None,
            "article_label": comment.article.label if comment.article else None,
            "body": comment.body,
            "public_text": public_text(comment),
            "category": comment.category.value,
            "channel": comment.channel.value,
            "region": comment.region,
            "display_name": comment.display_name,
            "publish_name": comment.publish_name,
            "email": comment.email,
            "phone": comment.phone,
            "notify": comment.notify,
            "status": comment.status.value,
            "hidden_reason": comment.hidden_reason.value if comment.hidden_reason else None,
            "created_at": _iso(comment.created_at),
            "verified_at": _iso(comment.verified_at),
            "attachments": [{"filename": a.filename, "kind": a.kind, "size": a.size}
                            for a in attachments_of(comment)],
            "answer": answer,
            "receipt_url": external_url("comments.receipt", tracking_no=comment.tracking_no),
        })
    return {
        "account": {
            "email": citizen.email,
            "display_name": citizen.display_name,
            "email_verified_at": _iso(citizen.email_verified_at),
            "created_at": _iso(citizen.created_at),
        },
        "comments": comments,
        "exported_at": _iso(clock.now()),
    }


# ------------------------------------------------------------------ erasure


def erase_account(citizen: Citizen) -> int:
    """Erase the account and the personal data on its comments (see consult.comments.privacy).

    The row stays as an empty tombstone (no email, name or password) so that the audit log's
    reference to it stays valid. Returns the number of comments concerned.
    """
    comments = my_comments(citizen)
    count = erase_comments(comments, reason=_("应本人要求删除个人信息"))
    for comment in comments:
        comment.citizen_id = None
    email = citizen.email
    citizen.email = None
    citizen.display_name = None
    citizen.password_hash = None
    citizen.erased_at = clock.now()
    if email:
        forget_mail_to({email})
    audit.record(None, "erase_account", citizen, detail={"comments": count})
    return count
