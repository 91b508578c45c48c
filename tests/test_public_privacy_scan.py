"""No public page, API answer, feed or export shows a commenter's e-mail, phone or ID number.

The demo data set is loaded, personal data is planted where commenters put it (comment text,
display name, region, moderator's note) and where they give it privately (contact fields), the
published reports are re-issued so that their frozen content holds it too, and then every GET
route outside /staff, /admin and /account is requested — found by walking `app.url_map`, its
parameters filled from the demo's objects — and every answer (HTML, JSON, CSV, XLSX, PDF, ...)
is searched. A new public route whose parameters this test cannot fill makes it fail: teach
`FILLERS` (or `ENDPOINT_FILLERS`) how to fill it, so that the new page is scanned too.
"""

from __future__ import annotations

import html
import io
import itertools
import json
import re
import unicodedata
import zipfile
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from consult.answers.models import Report
from consult.answers.services import publish_report, published_report
from consult.comments.masking import MARK, is_resident_id
from consult.comments.models import Comment, CommentStatus
from consult.consultations.models import Consultation
from consult.consultations.policy import is_public
from consult.demo import load_demo
from consult.extensions import db
from consult.jobs.queue import run_due
from consult.policies.models import Interpretation, Policy

PRIVATE_PREFIXES = ("/staff", "/admin", "/account")
# In a filler's values: what that one page may show (its link's holder's own address).
ALLOWED = "_allowed"
# Routes that are not pages of the public site, with the reason.
SKIPPED = {
    "static": "the site's own CSS/JS/images, no data",
}

# What a commenter may write into the free-text fields: it must reach the public masked.
IN_TEXT = {
    "mobile in the text": "139 1234 5678",
    "ID number in the text": "11010519491231002X",
    "email in the text": "body.leak@example.net",
    "landline in the text": "0371-67188888",
    "bank card in the text": "6228 4800 1234 5671",
    "full-width mobile in the text": "１３５１２３４５６７８",
}
IN_NAME = {"mobile in the name": "13611112222"}
IN_REGION = {"ID number in the region": "410105198501011235"}
IN_NOTE = {"ID number in the moderator's note": "370202197712010127",
           "email in the moderator's note": "note.leak@example.net"}
# What a commenter gives privately: never shown at all.
CONTACT = {"contact email": "contact.leak@example.net", "contact phone": "137 0000 1111"}

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
MOBILE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_RE = re.compile(r"(?<![0-9])\d{17}[\dXx](?![0-9A-Za-z])")
# A SHA-256 digest (a report's, a file's) is public and random: one in a few hundred holds eleven
# decimal digits in a row that read as a mobile number. Digests are taken out before the search.
DIGEST_RE = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{40,64}(?![0-9A-Za-z])")


def _squeezed(value: str) -> str:
    """Full-width folded, and the spaces and hyphens between digits removed."""
    value = unicodedata.normalize("NFKC", value)
    return re.sub(r"(?<=\d)[ \-](?=\d)", "", value)


# ------------------------------------------------------------------ the demo, with planted data


def _plant(comment: Comment, *, contact: bool = True) -> None:
    comment.body = comment.body + "\n联系我：" + "，".join(IN_TEXT.values())
    comment.display_name = "王先生" + IN_NAME["mobile in the name"]
    comment.publish_name = True
    comment.region = "金水区" + IN_REGION["ID number in the region"]
    if hasattr(comment, "hidden_note") and comment.status == CommentStatus.HIDDEN:
        comment.hidden_note = "含个人信息：" + "，".join(IN_NOTE.values())
    if contact:
        comment.email = CONTACT["contact email"]
        comment.phone = CONTACT["contact phone"]


@pytest.fixture
def demo(session):
    load_demo()
    planted: list[Comment] = []
    for consultation in session.scalars(db.select(Consultation).order_by(Consultation.id)):
        if not is_public(consultation):
            continue
        comments = session.scalars(
            db.select(Comment).where(Comment.consultation_id == consultation.id)
            .order_by(Comment.created_at, Comment.id)
        ).all()
        # The first comments (first on every paginated list), and one of each other state.
        chosen = comments[:2] + [
            next((c for c in comments if c.status == status), None)
            for status in (CommentStatus.HIDDEN, CommentStatus.UNVERIFIED,
                           CommentStatus.PENDING_MODERATION)
        ]
        for comment in {c.id: c for c in chosen if c is not None}.values():
            _plant(comment)
            planted.append(comment)
    session.flush()
    # Re-issue every published report, so that its frozen content carries the planted data.
    for consultation in session.scalars(db.select(Consultation)):
        report = published_report(consultation)
        if report is not None:
            publish_report(consultation, summary=report.summary, actor=report.published_by,
                           correction_note="更正：补充意见内容。")
    session.commit()
    run_due()  # the jobs that build the reports' PDF and XLSX
    assert planted, "the demo has no comments to plant personal data in"
    return planted


# ------------------------------------------------------------------ filling the routes


def _ids(model, where=None):
    query = db.select(model.id).order_by(model.id)
    if where is not None:
        query = query.where(where)
    return list(db.session.scalars(query))


def _public_consultations():
    return [c.id for c in db.session.scalars(db.select(Consultation).order_by(Consultation.id))
            if is_public(c)]


def _catalogue_items():
    from consult.catalogue.models import CatalogueItem

    return _ids(CatalogueItem)


# Values for a route parameter, by its name: functions of the planted comments.
FILLERS = {
    "consultation_id": lambda planted: _public_consultations(),
    "tracking_no": lambda planted: [c.tracking_no for c in planted],
    "policy_id": lambda planted: _ids(Policy),
    "interpretation_id": lambda planted: _ids(Interpretation),
    "item_id": lambda planted: _catalogue_items(),
    "document_number": lambda planted: [p.document_number for p in db.session.scalars(
        db.select(Policy).where(Policy.published_at.is_not(None)).order_by(Policy.id))],
}


def _verification_links(planted):
    from consult.comments.services import verification_token

    return [{"token": verification_token(c)} for c in planted
            if c.status == CommentStatus.UNVERIFIED] or [{"token": verification_token(planted[0])}]


def _erasure_links(planted):
    from consult.comments.privacy import ERASE_SALT
    from consult.tokens import make_token

    return [{"token": make_token(ERASE_SALT, {"c": c.id, "e": c.email})} for c in planted[:3]]


SUBSCRIBER = "subscriber.own@example.org"


def _subscription_links(planted):
    """A subscription's secret links show its own address to whoever holds them: allowed."""
    from consult.consultations import subscriptions

    for id_ in _public_consultations():
        consultation = db.session.get(Consultation, id_)
        if subscriptions.accepts_subscriptions(consultation):
            subscription = subscriptions.subscribe(consultation, SUBSCRIBER)
            return [{"token": subscription.token, ALLOWED: {SUBSCRIBER}}]
    return []


ALERT_SUBSCRIBER = "alert.own@example.org"


def _alert_links(planted):
    """An alert's secret links show its own address to whoever holds them: allowed."""
    from consult.feeds import alerts

    alert = alerts.subscribe(ALERT_SUBSCRIBER, unit_id=None, type_=None, keyword="建议")
    return [{"token": alert.token, ALLOWED: {ALERT_SUBSCRIBER}}]
def _staff_password_links(planted):
    """An invitation's link shows its own account's address to whoever holds it: allowed."""
    from consult.auth.models import User
    from consult.auth.services import PASSWORD_SALT, _password_fingerprint
    from consult.tokens import make_token

    user = db.session.scalar(db.select(User).order_by(User.id))
    token = make_token(PASSWORD_SALT, {"u": user.id, "p": _password_fingerprint(user)})
    return [{"token": token, ALLOWED: {user.email}}]


def _stats_tables(planted):
    from consult.oversight.tables import NAMES

    return [{"name": name} for name in NAMES]


def _files_of(owner_table: str, owner_param: str):
    """The uploaded files of one kind of owner, as {owner_param, attachment_id}."""
    from consult.uploads import Attachment

    def fill(planted):
        files = db.session.scalars(db.select(Attachment).where(
            Attachment.owner_type == owner_table).order_by(Attachment.id))
        return [{owner_param: item.owner_id, "attachment_id": item.id} for item in files]

    return fill


def _smallest_report_first(planted):
    """Consultations with a published report, the shortest report first (see AT_MOST)."""
    reports = [published_report(db.session.get(Consultation, id_))
               for id_ in _public_consultations()]
    reports = sorted((r for r in reports if r is not None),
                     key=lambda r: len(r.content.get("items", [])))
    return [{"consultation_id": r.consultation_id} for r in reports]


def _versions(planted):
    return [{"consultation_id": id_, "number": version.number}
            for id_ in _public_consultations()
            for version in db.session.get(Consultation, id_).versions]


def _built_policy_pdf(planted):
    """The demo's issued policy with its PDF built (the download is 202 until then)."""
    from flask import current_app

    from consult.policies import files

    policy = db.session.scalar(db.select(Policy).where(Policy.consultation_id.is_not(None),
                                                       Policy.published_at.is_not(None)))
    files.request_build(policy, "pdf", current_app.config["BABEL_DEFAULT_LOCALE"])
    db.session.commit()
    run_due()
    return [{"policy_id": policy.id}]


# Whole sets of values for routes whose parameters belong together, by the set of names.
GROUP_FILLERS = {
    frozenset({"table", "fmt"}): lambda planted: [
        {"table": t, "fmt": f} for t in ("consultations", "comments", "policies")
        for f in ("csv", "xlsx")],
    frozenset({"consultation_id", "number"}): _versions,
    frozenset({"hearing_id", "attachment_id"}): _files_of("hearings", "hearing_id"),
    frozenset({"consultation_id", "attachment_id"}): _files_of("consultations",
                                                              "consultation_id"),
}
# ... or by endpoint, for tokens and special cases.
ENDPOINT_FILLERS = {
    "answers.report_pdf": _smallest_report_first,
    "policies.pdf": _built_policy_pdf,
    "comments.verify": _verification_links,
    "citizens.erase_comment": _erasure_links,
    "consultations.subscription_confirm": _subscription_links,
    "consultations.unsubscribe": _subscription_links,
    "feeds.alert_confirm": _alert_links,
    "feeds.alert_unsubscribe": _alert_links,
    "auth.set_password": _staff_password_links,
    "oversight.table_csv": _stats_tables,
    "oversight.yearly_download": lambda planted: [{"extension": "csv"}, {"extension": "xlsx"}],
}
# Routes the demo may have nothing for (the test then may find no page to scan there).
MAY_BE_EMPTY = {
    "hearings.file": "files staff upload, which the demo does not make up",
    "consultations.attachment": "files staff upload, which the demo does not make up",
    "consultations.compare": "needs a consultation with a second version",
    "policies.by_number": "a permalink: 301 to /policies/<id>, which is scanned",
    "main.large_text": "the 长者模式 switch: 303 back to the page it is on, which is scanned",
}
# Routes scanned at most this many times with a 200: WeasyPrint takes seconds per PDF, and
# every report revision's frozen content, which the PDF is made from, is checked on its own.
AT_MOST = {"answers.report_pdf": 1, "policies.pdf": 1}
# Query strings tried on routes without parameters (list filters, search).
QUERIES = ["", "?status=all", "?status=closed", "?status=reported", "?q=建议"]


def public_rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint in SKIPPED:
            continue
        if rule.rule.startswith(PRIVATE_PREFIXES):
            continue
        yield rule


def urls_of(app, rule, planted) -> list[tuple[str, frozenset[str]]]:
    """Every URL of `rule` the demo can fill, with what it may show; fails when a parameter
    cannot be filled."""
    if rule.endpoint in ENDPOINT_FILLERS:
        value_sets = ENDPOINT_FILLERS[rule.endpoint](planted)
    elif frozenset(rule.arguments) in GROUP_FILLERS:
        value_sets = GROUP_FILLERS[frozenset(rule.arguments)](planted)
    elif not rule.arguments:
        value_sets = [{}]
    else:
        unknown = sorted(name for name in rule.arguments if name not in FILLERS)
        assert not unknown, (
            f"the privacy scan cannot fill {unknown} of the public route {rule.rule} "
            f"({rule.endpoint}): add a filler in tests/test_public_privacy_scan.py")
        names = sorted(rule.arguments)
        value_sets = [dict(zip(names, values, strict=True)) for values in
                      itertools.product(*(FILLERS[name](planted) for name in names))]
    if not value_sets:
        assert rule.endpoint in MAY_BE_EMPTY, f"no demo data to fill {rule.rule}"
        return []
    with app.test_request_context():
        from flask import url_for

        urls = [(url_for(rule.endpoint, **{k: v for k, v in values.items() if k != ALLOWED}),
                 frozenset(values.get(ALLOWED, ()))) for values in value_sets]
    if not rule.arguments:
        urls = [(urls[0][0] + query, urls[0][1]) for query in QUERIES]
    return urls


# ------------------------------------------------------------------ reading the answers


def text_of(response) -> str:
    """Everything a reader of the response could see, as text."""
    data = response.get_data()
    mimetype = response.mimetype or ""
    if mimetype == "application/pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    if mimetype.endswith(("spreadsheetml.sheet", "zip")):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return html.unescape("\n".join(
                archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
                if name.endswith((".xml", ".rels"))))
    text = data.decode("utf-8", "replace")
    if mimetype.endswith("json"):
        return json.dumps(json.loads(text), ensure_ascii=False)
    return html.unescape(text)


def official_contacts() -> set[str]:
    """Addresses and numbers the units publish themselves (feedback mailboxes in a draft's
    explanation, say): public by intent, so the generic detectors let them pass."""
    texts = []
    for consultation in db.session.scalars(db.select(Consultation)):
        texts += [consultation.title, consultation.summary, consultation.explanation]
        for version in consultation.versions:
            texts += [version.preamble] + [article.text for article in version.articles]
    texts += [policy.text for policy in db.session.scalars(db.select(Policy))]
    texts += [item.body for item in db.session.scalars(db.select(Interpretation))]
    folded = unicodedata.normalize("NFKC", "\n".join(t for t in texts if t))
    return set(EMAIL_RE.findall(folded)) | set(MOBILE_RE.findall(folded))


def leaks_in(text: str, allowed: frozenset[str] = frozenset()) -> list[str]:
    """The planted or generic personal data found in `text` (`allowed`: official contacts)."""
    text = DIGEST_RE.sub("#", text)
    squeezed = _squeezed(text)
    folded = unicodedata.normalize("NFKC", text)
    planted = {**IN_TEXT, **IN_NAME, **IN_REGION, **IN_NOTE, **CONTACT}
    found = [name for name, value in planted.items() if _squeezed(value) in squeezed]
    found += [f"an e-mail address {m}" for m in EMAIL_RE.findall(folded) if m not in allowed]
    found += [f"a mobile number {m}" for m in MOBILE_RE.findall(folded) if m not in allowed]
    found += [f"an ID number {m}" for m in ID_RE.findall(squeezed) if is_resident_id(m)]
    return found


def test_no_public_page_shows_personal_data(app, client, demo):
    planted = demo
    contacts = {value for c in db.session.scalars(db.select(Comment))
                for value in (c.email, c.phone) if value}
    allowed = frozenset(official_contacts())
    assert not allowed & {*IN_TEXT.values(), *CONTACT.values(), *IN_NOTE.values()}
    scanned: dict[str, int] = {}
    problems: list[str] = []
    queue = [(rule, url, own) for rule in public_rules(app)
             for url, own in urls_of(app, rule, planted)]
    seen = {url for _rule, url, _own in queue}
    while queue:
        rule, url, own = queue.pop(0)
        if scanned.get(rule.rule, 0) >= AT_MOST.get(rule.endpoint, len(seen)):
            continue
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        if response.status_code != 200:
            continue
        scanned[rule.rule] = scanned.get(rule.rule, 0) + 1
        text = text_of(response)
        problems += [f"{url}: {leak}" for leak in leaks_in(text, allowed | own)]
        problems += [f"{url}: the contact {value}" for value in contacts
                     if _squeezed(value) in _squeezed(text)]
        # Later pages of a paginated list are pages too.
        for link in re.findall(r'href="([^"]*[?&](?:amp;)?page=\d+[^"]*)"', response.get_data(
                as_text=True)) if response.mimetype == "text/html" else []:
            link = html.unescape(link)
            parts = urlsplit(link)
            if parts.path == urlsplit(url).path and link not in seen and len(seen) < 2000:
                query = urlencode(sorted(parse_qsl(parts.query)))
                target = f"{parts.path}?{query}"
                if target not in seen:
                    seen.add(target)
                    queue.append((rule, target, own))
        response.close()
    assert not problems, "\n".join(sorted(set(problems)))
    missing = [rule.rule for rule in public_rules(app)
               if rule.rule not in scanned and rule.endpoint not in MAY_BE_EMPTY]
    assert not missing, f"public routes never answered 200 with the demo: {missing}"
    # The planted data did reach the public pages, masked (the scan is not looking at nothing).
    shown = next(c for c in planted if c.status == CommentStatus.PUBLISHED)
    receipt = client.get(f"/receipts/{shown.tracking_no}").get_data(as_text=True)
    assert receipt.count(MARK) >= len(IN_TEXT) and f"王先生{MARK}" in receipt
    page = client.get(f"/consultations/{shown.consultation_id}").get_data(as_text=True)
    assert f"金水区{MARK}" in page and f"王先生{MARK}" in page


def test_the_scan_finds_what_it_looks_for():
    """The detectors of this test, on a page that leaks everything planted."""
    page = "<p>" + " ".join([*IN_TEXT.values(), *CONTACT.values(), *IN_NOTE.values()]) + "</p>"
    found = leaks_in(page)
    for name in [*IN_TEXT, *CONTACT, *IN_NOTE]:
        assert name in found
    assert leaks_in(f"<p>{MARK}，第15条，2026年11月25日，450000</p>") == []
    digest = "3fa9" + "17004108178" + "c" * 49  # a SHA-256 holding a mobile-shaped run
    assert leaks_in(f'<p>{digest}</p><p>"digest": "{digest}"</p>') == []
    assert leaks_in("<p>15800001111</p>") == ["a mobile number 15800001111"]


def test_every_report_revision_in_the_demo_is_public_data_only(demo):
    """The frozen report JSON (what the downloads are built from) holds no contact data."""
    for report in db.session.scalars(db.select(Report)):
        leaks = leaks_in(json.dumps(report.content, ensure_ascii=False))
        assert not leaks, (report.id, leaks)
