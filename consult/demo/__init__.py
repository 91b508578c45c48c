"""The demo data set behind `flask --app app demo`: idempotent, dated relative to today.

Everything is looked up before it is created (units by name, users by e-mail, catalogue items
by year and title, consultations by title), so a second run adds nothing. A consultation is
created whole, with its version, articles, comments, answers, report and policy, or not at all.
Reports and policies go through their services, run on a clock set back to the day they
happened, so that every date in the demo tells one consistent story.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from consult import audit, clock
from consult.answers.models import Disposition, DispositionCode, Report
from consult.answers.services import publish_report
from consult.audit import AuditEvent
from consult.auth.models import Membership, Role, Unit, User
from consult.catalogue import services as catalogue_services
from consult.catalogue.models import CatalogueChange, CatalogueItem
from consult.comments.models import Category, Channel, Comment, CommentStatus, HiddenReason
from consult.comments.tracking import new_tracking_no
from consult.consultations import legal
from consult.consultations.models import (
    Article,
    Consultation,
    ConsultationType,
    DraftVersion,
    LegalDecision,
    LegalReview,
    State,
)
from consult.consultations.parsing import parse_articles
from consult.demo import content
from consult.demo.hearings import load_hearings
from consult.extensions import db
from consult.policies import changes
from consult.policies.models import ChangeKind, Interpretation, InterpretationKind, Policy
from consult.policies.services import (
    ChangeInput,
    PolicyInput,
    add_interpretation,
    create_policy,
    create_standalone_policy,
    link_answer,
    publish_policy,
    record_change,
    record_filing,
)

# What load_demo() counts, in the order it reports them.
COUNTED = {
    "units": Unit,
    "users": User,
    "memberships": Membership,
    "catalogue_items": CatalogueItem,
    "catalogue_changes": CatalogueChange,
    "legal_reviews": LegalReview,
    "consultations": Consultation,
    "versions": DraftVersion,
    "articles": Article,
    "comments": Comment,
    "dispositions": Disposition,
    "reports": Report,
    "policies": Policy,
    "interpretations": Interpretation,
    "audit_events": AuditEvent,
}

# States past approval, in lifecycle order; "scheduled" covers scheduled, open and closed.
_APPROVED = (State.SCHEDULED, State.REPORT_PUBLISHED, State.POLICY_ISSUED)


def load_demo() -> dict[str, int]:
    """Create whatever of the demo data set is missing, commit, and count the rows added."""
    before = _counts()
    today = clock.today()
    units = _load_units()
    users = _load_staff(units)
    catalogue = _load_catalogue(units, users, today)
    for spec in content.CONSULTATIONS:
        _load_consultation(spec, units, users, catalogue, today)
    load_hearings()
    db.session.commit()
    after = _counts()
    return {name: after[name] - before[name] for name in COUNTED}


def _counts() -> dict[str, int]:
    """Rows of each counted model now in the database."""
    return {
        name: db.session.scalar(db.select(db.func.count()).select_from(model))
        for name, model in COUNTED.items()
    }


def _fill(text: str, today: date) -> str:
    """Put the current and next year into a text of the content module."""
    return text.replace("{year}", str(today.year)).replace("{next_year}", str(today.year + 1))


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """An aware UTC moment at local `hour:minute` of `day`."""
    return clock.start_of_day(day) + timedelta(hours=hour, minutes=minute)


def _load_units() -> dict[str, Unit]:
    """The units by name, created (parents first) where missing."""
    units: dict[str, Unit] = {}
    for spec in content.UNITS:
        unit = db.session.scalar(db.select(Unit).where(Unit.name == spec["name"]))
        if unit is None:
            unit = Unit(
                name=spec["name"],
                short_name=spec["short_name"],
                parent=units[spec["parent"]] if spec["parent"] else None,
                is_legal_office=spec.get("is_legal_office", False),
            )
            db.session.add(unit)
        units[unit.name] = unit
    db.session.flush()
    return units


def _load_staff(units: dict[str, Unit]) -> dict[str, User]:
    """The staff by e-mail, created where missing, each with their one membership."""
    users: dict[str, User] = {}
    for spec in content.STAFF:
        user = db.session.scalar(db.select(User).where(User.email == spec["email"]))
        if user is None:
            user = User(email=spec["email"], name=spec["name"],
                        is_admin=spec.get("is_admin", False))
            user.set_password(content.PASSWORD)
            db.session.add(user)
        if spec["role"]:
            unit, role = units[spec["unit"]], Role(spec["role"])
            if not any(m.unit_id == unit.id and m.role == role for m in user.memberships):
                user.memberships.append(Membership(unit=unit, role=role))
        users[user.email] = user
    db.session.flush()
    return users


def _load_catalogue(units: dict[str, Unit], users: dict[str, User],
                    today: date) -> dict[str, CatalogueItem]:
    """This year's catalogue by title: created, numbered and published by the platform office
    where missing, with the changes made after publication."""
    office = users["admin@demo.consult"]
    now = clock.now()
    # Published early in the year, before the consultations it announces (or now, on the first
    # day of January).
    published_at = min(now, max(_at(date(today.year, 1, 2), 10), now - timedelta(days=240)))
    items: dict[str, CatalogueItem] = {}
    for spec in content.CATALOGUE:
        title = _fill(spec["title"], today)
        item = db.session.scalar(
            db.select(CatalogueItem).where(
                CatalogueItem.year == today.year, CatalogueItem.title == title
            )
        )
        if item is None:
            with clock.at(published_at - timedelta(days=3)):
                item = catalogue_services.create_item(
                    units[spec["unit"]], _catalogue_input(spec, title, today), actor=office
                )
                while item.status != spec["status"]:
                    catalogue_services.set_status(
                        item, catalogue_services.next_status(item.status), actor=office
                    )
        elif item.number is None:  # an item from before numbering
            item.number = catalogue_services.next_number(item.year)
        if item.published_at is None:
            with clock.at(published_at):
                catalogue_services.publish_item(item, actor=office)
        revision = spec.get("revision")
        if revision and not item.changes:
            data = _catalogue_input({**spec, **revision}, title, today)
            with clock.at(published_at + (now - published_at) / 2):
                catalogue_services.update_item(item, data, actor=office,
                                               reason=revision["reason"])
        db.session.flush()
        items[title] = item
    return items


def _catalogue_input(spec: dict, title: str, today: date) -> catalogue_services.ItemInput:
    start, end = spec["planned"]
    return catalogue_services.ItemInput(
        year=today.year, title=title, legal_basis=spec["legal_basis"],
        methods=list(spec["methods"]), planned_start=today + timedelta(days=start),
        planned_end=today + timedelta(days=end),
    )


def _load_consultation(spec: dict, units: dict[str, Unit], users: dict[str, User],
                       catalogue: dict[str, CatalogueItem], today: date) -> None:
    """Create one consultation with everything that happened to it, unless it exists."""
    title = _fill(spec["title"], today)
    if db.session.scalar(db.select(Consultation.id).where(Consultation.title == title)):
        return
    editor, approver = users[spec["editor"]], users[spec["approver"]]
    target = State(spec["state"])
    opens_on = today + timedelta(days=spec["opens_offset"])
    closes_on = today + timedelta(days=spec["closes_offset"])
    # Drafted about two weeks before it opens (or before today, for one not open yet).
    anchor = min(opens_on, today)
    created_at = _at(anchor - timedelta(days=12), 9, 30)

    consultation = Consultation(
        title=title,
        type=ConsultationType(spec["type"]),
        unit=units[spec["unit"]],
        catalogue_item=catalogue[spec["catalogue"]] if spec["catalogue"] else None,
        summary=_fill(spec["summary"], today),
        explanation=_fill(spec["explanation"], today),
        state=State.DRAFT,
        opens_at=clock.start_of_day(opens_on),
        closes_at=clock.end_of_day(closes_on),
        created_by=editor,
        created_at=created_at,
        updated_at=created_at,
    )
    parsed = parse_articles(_fill(spec["text"], today))
    version = DraftVersion(number=1, created_at=created_at, preamble=parsed.preamble or None)
    consultation.versions.append(version)
    for item in parsed.articles:
        version.articles.append(Article(
            number=item.number, label=item.label, chapter=item.chapter,
            section=item.section, heading=item.heading, text=item.text,
        ))
    db.session.add(consultation)
    with clock.at(created_at):
        audit.record(editor, "create", consultation)

    if target != State.DRAFT:
        _submit_and_approve(consultation, target, editor, approver, users, anchor)
    if consultation.state in _APPROVED:
        _add_comments(consultation, spec, editor, approver)
    if "report" in spec:
        report = spec["report"]
        with clock.at(_at(today + timedelta(days=report["published_offset"]), 10)):
            publish_report(consultation, summary=report["summary"], actor=approver)
    if "policy" in spec:
        _add_policy(consultation, spec["policy"], editor, approver, today)
    if consultation.state != target:
        raise RuntimeError(f"demo consultation {title!r} ended {consultation.state}, not {target}")


def _submit_and_approve(consultation: Consultation, target: State, editor: User,
                        approver: User, users: dict[str, User], anchor: date) -> None:
    """Submit (editor), review legality (rules, major decisions) and approve (approver)."""
    consultation.submitted_by = editor
    consultation.submitted_at = _at(anchor - timedelta(days=8), 15)
    consultation.state = State.PENDING_APPROVAL
    with clock.at(consultation.submitted_at):
        audit.record(editor, "submit", consultation,
                     detail={"from": State.DRAFT.value, "to": State.PENDING_APPROVAL.value})
    if target == State.PENDING_APPROVAL:
        return
    if consultation.type in (ConsultationType.RULE, ConsultationType.MAJOR_DECISION):
        legal = users["legal@demo.consult"]
        with clock.at(_at(anchor - timedelta(days=6), 11)):
            audit.record(legal, "legal_review", consultation,
                         reason="经合法性审核，未发现与上位法相抵触的内容，同意公开征求意见。")
    consultation.approved_by = approver
    consultation.approved_at = _at(anchor - timedelta(days=4), 16)
    consultation.state = State.SCHEDULED
    with clock.at(consultation.approved_at):
        audit.record(approver, "approve", consultation,
                     detail={"from": State.PENDING_APPROVAL.value, "to": State.SCHEDULED.value})


def _add_comments(consultation: Consultation, spec: dict, editor: User, approver: User) -> None:
    """The comments received in the window, with the answers given so far."""
    articles = {article.label: article for article in consultation.current_version.articles}
    opens_on = clock.local_date(consultation.opens_at)
    closes_on = clock.local_date(consultation.closes_at)
    answer_span = spec.get("report", {}).get("answer_offset", 2)
    now = clock.now()
    # Mail about reports the demo publishes itself would go to made-up addresses: ask for none.
    notify = "report" not in spec
    for i, item in enumerate(spec["comments"]):
        label = item["article"]
        if label is not None and label not in articles:
            raise KeyError(f"{consultation.title}: no article {label}")
        channel = Channel(item.get("channel", "web"))
        received_at = min(
            _at(opens_on + timedelta(days=item["day"]), 8 + (i * 5) % 13, (i * 17) % 60),
            now - timedelta(minutes=5),
        )
        by_staff = channel != Channel.WEB
        comment = Comment(
            tracking_no=new_tracking_no(),
            consultation=consultation,
            version=consultation.current_version,
            article=articles[label] if label else None,
            body=item["body"],
            category=Category(item["category"]),
            channel=channel,
            region=item.get("region"),
            display_name=item.get("name"),
            publish_name=item.get("publish_name", False),
            email=item.get("email"),
            phone=item.get("phone"),
            notify=notify and bool(item.get("email")),
            status=CommentStatus.HIDDEN if "hidden" in item else CommentStatus.PUBLISHED,
            hidden_reason=HiddenReason(item["hidden"]) if "hidden" in item else None,
            received_at=received_at,
            # Letters, hearings and symposia are entered by staff a day or so later.
            created_at=min(received_at + timedelta(days=1), now) if by_staff else received_at,
            recorded_by_id=editor.id if by_staff else None,
        )
        db.session.add(comment)
        if "answer" in item:
            code, reason = item["answer"]
            answered_on = closes_on + timedelta(days=1 + i % answer_span)
            comment.disposition = Disposition(
                code=DispositionCode(code),
                reason=reason,
                answered_by=approver if i % 2 else editor,
                answered_at=min(_at(answered_on, 9 + i % 8, (i * 13) % 60), now),
            )
    db.session.flush()


def _add_policy(consultation: Consultation, spec: dict, editor: User, approver: User,
                today: date) -> None:
    """The final policy and its interpretation, drafted by the editor, published together."""
    issued_on = today + timedelta(days=spec["issued_offset"])
    effective_on = today + timedelta(days=spec["effective_offset"])
    data = PolicyInput(
        title=spec["title"], document_number=spec["document_number"], issued_on=issued_on,
        effective_on=effective_on, text=spec["text"],
    )
    interpretation = spec["interpretation"]
    if legal.requires_review(consultation):  # a rule or major decision: 合法性审核 first
        reviewer = db.session.scalar(db.select(User).where(User.email == "legal@demo.consult"))
        with clock.at(_at(issued_on - timedelta(days=4), 11)):
            legal.review(consultation, LegalDecision.APPROVED,
                         "经合法性审核，修改后的文本符合上位法规定，制定程序合法，同意提请审议。",
                         actor=reviewer)
    with clock.at(_at(issued_on - timedelta(days=2), 14)):
        policy = create_policy(consultation, data, actor=editor)
        add_interpretation(policy, title=interpretation["title"],
                           kind=InterpretationKind(interpretation["kind"]),
                           body=interpretation["body"], actor=editor)
    with clock.at(_at(issued_on, 10)):
        publish_policy(policy, actor=approver)
    # The editor links each adopted answer to the article it changed, as the platform
    # proposes (the comparison at /policies/<id>/changes lists them beside the article).
    with clock.at(_at(issued_on + timedelta(days=1), 15)):
        for disposition_id, (number, _how) in changes.propose_links(
                policy, changes.compare(policy)).items():
            link_answer(policy, db.session.get(Disposition, disposition_id), number,
                        actor=editor)
    if "filing" in spec:
        filing = spec["filing"]
        filed_on = issued_on + timedelta(days=filing["offset"])
        with clock.at(_at(filed_on, 16)):
            record_filing(policy, filed_with=filing["with"], filed_on=filed_on,
                          filing_number=_fill(filing["number"], today), actor=editor)
    for older in spec.get("replaces", []):
        _add_replaced(policy, older, editor, approver, today)


def _add_replaced(policy: Policy, spec: dict, editor: User, approver: User,
                  today: date) -> None:
    """An earlier policy of the unit (no consultation here), replaced by `policy` when it took
    effect: its history and the new one's show the change both ways."""
    issued_on = today + timedelta(days=spec["issued_offset"])
    data = PolicyInput(title=spec["title"], document_number=spec["document_number"],
                       issued_on=issued_on, effective_on=issued_on, text=spec["text"],
                       valid_until=today + timedelta(days=spec["valid_until_offset"]),
                       type=ConsultationType(spec["type"]))
    with clock.at(_at(issued_on, 10)):
        older = create_standalone_policy(policy.unit, data, actor=editor)
        publish_policy(older, actor=approver)
    with clock.at(_at(policy.issued_on, 11)):
        record_change(older, ChangeInput(ChangeKind.REPLACE, policy.effective_on or
                                         policy.issued_on, by_policy=policy,
                                         note=spec["note"]), actor=approver)
