"""Test data factories. Every object is flushed into the current test transaction."""

from __future__ import annotations

import itertools
from datetime import timedelta

from consult import clock
from consult.answers.models import Disposition, DispositionCode
from consult.auth.models import Membership, Role, Unit, User
from consult.comments.models import Category, Comment, CommentStatus
from consult.comments.tracking import new_tracking_no
from consult.consultations import services
from consult.consultations.models import (
    Article,
    Consultation,
    ConsultationType,
    DraftVersion,
    State,
)
from consult.consultations.parsing import parse_articles
from consult.extensions import db

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery"


def unit(name: str | None = None, parent: Unit | None = None, **kw) -> Unit:
    obj = Unit(name=name or f"测试单位{next(_seq)}", parent=parent, **kw)
    db.session.add(obj)
    db.session.flush()
    return obj


def user(role: str | Role | None = "editor", unit: Unit | None = None, *, email=None,
         name=None, admin: bool = False, password: str = PASSWORD) -> User:
    """A staff user holding `role` in `unit` (a new unit when none is given)."""
    n = next(_seq)
    obj = User(email=email or f"user{n}@example.org", name=name or f"用户{n}", is_admin=admin)
    obj.set_password(password)
    if role and not admin:
        obj.memberships.append(Membership(unit=unit or globals()["unit"](), role=Role(role)))
    db.session.add(obj)
    db.session.flush()
    return obj


DEFAULT_TEXT = "\n".join(
    f"第{label}条 这是第{label}条的内容，规定了有关事项。"
    for label in ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"]
)


def consultation(state: str | State = State.OPEN, unit: Unit | None = None, *,
                 type: str = "normative_document", text: str = DEFAULT_TEXT,
                 title: str | None = None, **kw) -> Consultation:
    """A consultation in the given public state (open/closed/... set through dates and clock)."""
    state = State(state)
    now = clock.now()
    if state == State.OPEN:
        opens, closes = now - timedelta(days=5), now + timedelta(days=25)
    elif state == State.SCHEDULED:
        opens, closes = now + timedelta(days=5), now + timedelta(days=40)
    elif state in (State.DRAFT, State.PENDING_APPROVAL):
        opens, closes = now + timedelta(days=1), now + timedelta(days=40)
    else:  # closed and later
        opens, closes = now - timedelta(days=40), now - timedelta(days=5)
    stored = State.SCHEDULED if state in (State.OPEN, State.CLOSED) else state
    if state not in (State.DRAFT, State.PENDING_APPROVAL):  # it went public once
        kw.setdefault("approved_at", opens - timedelta(days=1))
    obj = Consultation(
        title=title or f"测试征求意见稿{next(_seq)}", type=ConsultationType(type),
        unit=unit or globals()["unit"](), state=stored, summary="摘要", explanation="起草说明",
        opens_at=kw.pop("opens_at", opens), closes_at=kw.pop("closes_at", closes), **kw,
    )
    version = DraftVersion(number=1)
    obj.versions.append(version)
    for item in parse_articles(text).articles:
        version.articles.append(Article(number=item.number, label=item.label,
                                        chapter=item.chapter, section=item.section,
                                        heading=item.heading, text=item.text))
    db.session.add(obj)
    db.session.flush()
    return obj


def comment(consultation: Consultation, *, article: int | None = None, body: str = "建议修改。",
            status: CommentStatus = CommentStatus.PUBLISHED,
            category: Category = Category.INDIVIDUAL, **kw) -> Comment:
    version = consultation.current_version
    obj = Comment(
        tracking_no=new_tracking_no(), consultation=consultation, version=version,
        article=next(a for a in version.articles if a.number == article) if article else None,
        body=body, status=status, category=category, **kw,
    )
    db.session.add(obj)
    db.session.flush()
    return obj


def answer(comment: Comment, code: str = "not_adopted", reason: str | None = "已有相关规定。",
           by: User | None = None) -> Disposition:
    obj = Disposition(comment=comment, code=DispositionCode(code), reason=reason,
                      answered_by=by, answered_at=clock.now())
    db.session.add(obj)
    db.session.flush()
    return obj


def catalogue_item(unit: Unit | None = None, *, title: str | None = None, year: int | None = None,
                   status: str = "planned", published: bool = False, **kw):
    """A catalogue item of `unit` (a new unit when none is given), numbered within its year."""
    from consult.catalogue.models import CatalogueItem, CatalogueStatus

    year = year or clock.today().year
    number = (db.session.scalar(db.select(db.func.max(CatalogueItem.number))
                                .where(CatalogueItem.year == year)) or 0) + 1
    obj = CatalogueItem(
        unit=unit or globals()["unit"](), year=year, number=number,
        title=title or f"测试决策事项{next(_seq)}", legal_basis=kw.pop("legal_basis", "《测试法》"),
        methods=kw.pop("methods", ["online_comment"]), status=CatalogueStatus(status),
        published_at=clock.now() if published else None, **kw,
    )
    db.session.add(obj)
    db.session.flush()
    return obj


def citizen(email: str | None = None, *, password: str = PASSWORD, verified: bool = True,
            display_name: str | None = None):
    """A citizen account (not staff); verified and with a password unless told otherwise."""
    from consult.citizens.models import Citizen

    obj = Citizen(email=email or f"citizen{next(_seq)}@example.net", display_name=display_name,
                  created_at=clock.now(), email_verified_at=clock.now() if verified else None)
    if password:
        obj.set_password(password)
    db.session.add(obj)
    db.session.flush()
    return obj


# ------------------------------------------------------------------ drafts as typed

PASTED_DRAFT = """关于加强城市道路停车管理的若干规定（征求意见稿）
第一章 总则
第一条 为了规范城市道路停车秩序，
根据有关法律法规，制定本规定。
第二条 本规定适用于本市城市道路范围内的机动车停放管理。
第二章 停车泊位
第三条 公安交通管理部门会同城市管理部门设置道路停车泊位。
"""


def draft_form(unit, **overrides) -> dict:
    """The new-draft form as an editor fills it in (`overrides` for the fields to change)."""
    today = clock.today()
    data = {
        "unit_id": unit.id,
        "title": "关于加强城市道路停车管理的若干规定（征求意见稿）",
        "type": "normative_document",
        "summary": "规范道路停车。",
        "explanation": "为解决停车难问题，起草本规定。",
        "opens_on": (today + timedelta(days=1)).isoformat(),
        "closes_on": (today + timedelta(days=30)).isoformat(),
        "short_window_reason": "",
        "text": PASTED_DRAFT,
    }
    data.update(overrides)
    return data


def draft_input(**overrides):
    """What the services take for a draft (`consultations.services.DraftInput`)."""
    today = clock.today()
    values = dict(
        title="关于进一步优化营商环境的若干措施（征求意见稿）",
        type=ConsultationType.NORMATIVE_DOCUMENT,
        summary="摘要", explanation="起草说明",
        opens_on=today + timedelta(days=1), closes_on=today + timedelta(days=30),
        text="第一条 总则。\n第二条 适用范围。\n第三条 施行日期。",
    )
    values.update(overrides)
    return services.DraftInput(**values)
