"""Finding 1 (high): links built from a forged Host or X-Forwarded-Host hand accounts over.

The app is served over real HTTP and every request carries a forged `Host`, a forged
`X-Forwarded-Host`, or both, with PROXY_FIX on and off. Every absolute URL the site writes —
password-reset and sign-up mail, comment verification and receipt mail, subscription and erasure
mail, every link in the JSON API, the report PDF — must name BASE_URL, never the forged host.

Twice over: with TRUSTED_HOSTS off (`*`), the links alone must be right; with the default
TRUSTED_HOSTS (BASE_URL's host and the local names), a request naming another host is a clean
400 and changes nothing.
"""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import pytest

from consult.answers.services import publish_report
from consult.comments.models import Comment
from consult.consultations.models import Verification
from consult.extensions import db
from consult.mail import OutboxMessage
from tests.security.conftest import CSRF, NONCE

BASE_URL = "https://consult.example.gov.cn"
REAL_HOST = "consult.example.gov.cn"
FORGED = "evil.example"
URL = re.compile(r"https?://[A-Za-z0-9._~:/?#@!$&*+,;=%-]+")

FORGERIES = {
    "host": {"Host": FORGED},
    "forwarded-host": {"Host": REAL_HOST, "X-Forwarded-Host": FORGED},
    "both": {"Host": FORGED, "X-Forwarded-Host": FORGED},
}


@pytest.fixture
def world(make):
    unit = make.unit("市网信办")
    open_c = make.consultation("open", unit=unit, title="公开征集")
    verify_c = make.consultation("open", unit=unit, title="需要验证邮箱的征集",
                                 verification=Verification.EMAIL)
    closed = make.consultation("closed", unit=unit, title="已反馈的征集")
    approver = make.user("approver", unit)
    answered = make.comment(closed, article=2, body="建议缩短办理时限。")
    make.answer(answered, "adopted", None)
    publish_report(closed, summary="共收到意见1条。", actor=approver)
    mine = make.comment(open_c, body="我的意见。", email="author@example.net")
    item = make.catalogue_item(unit, published=True)
    item.consultations.append(open_c)
    citizen = make.citizen("victim@example.net")
    db.session.flush()
    return {"open": open_c, "verify": verify_c, "reported": closed, "mine": mine,
            "item": item, "citizen": citizen}


def _form(client, path: str, fields: dict):
    page = client.get(path)
    assert page.status == 200, (path, page.status, page.text[-2000:])
    data = {"csrf_token": page.field(CSRF), **fields}
    if NONCE.search(page.text):
        data["nonce"] = page.field(NONCE)
    return client.post(path, form=data)


def _comment(client, c, email: str):
    return _form(client, f"/consultations/{c.id}/comment", {
        "article": "", "body": "建议公开办理进度。", "category": "individual", "region": "",
        "display_name": "", "email": email, "phone": "", "notify": "y", "remark": ""})


def _every_flow(served, headers: dict, world) -> list:
    """Everything that writes an absolute URL, asked for with `headers`; returns the replies."""
    client = served.client()
    client.headers.update(headers)
    c, verify_c, reported = world["open"], world["verify"], world["reported"]
    api = "/api/v1"
    replies = [
        _form(client, "/account/reset", {"email": world["citizen"].email}),
        _form(client, "/account/register", {"email": "newcomer@example.net",
                                            "display_name": "新人"}),
        _comment(client, verify_c, "verify-me@example.net"),
        _comment(client, c, "receipt@example.net"),
        _form(client, f"/consultations/{c.id}/subscribe", {"email": "reader@example.net"}),
        _form(client, "/privacy/erase", {"tracking_no": world["mine"].tracking_no,
                                         "email": "author@example.net"}),
        client.post(f"{api}/consultations/{c.id}/comments",
                    json={"body": "接口提交的意见。", "category": "other",
                          "email": "api@example.net"}),
        client.get(f"{api}/consultations?status=all"),
        client.get(f"{api}/consultations/{c.id}"),
        client.get(f"{api}/consultations/{reported.id}"),
        client.get(f"{api}/consultations/{c.id}/comments"),
        client.get(f"{api}/consultations/{reported.id}/report"),
        client.get(f"{api}/receipts/{world['mine'].tracking_no}"),
        client.get(f"{api}/catalogue"),
        client.get(f"{api}/search?q=%E5%85%AC%E5%BC%80"),  # 公开
        client.get("/feeds/consultations.atom"),
        client.get(f"/feeds/consultations.atom?unit={c.unit_id}"),
        client.get("/consultations.ics"),
        client.get(f"/consultations/{c.id}.ics"),
        client.get(f"/consultations/{reported.id}.ics"),
        client.get("/"),
        client.get(f"/consultations/{c.id}"),
        client.get(f"/consultations/{reported.id}/report"),
        _built_pdf(served, client, reported),
    ]
    return replies


def _built_pdf(served, client, reported):
    """The report PDF: the first download asks the worker to build it (202), then it is there."""
    from consult.jobs import queue

    reply = client.get(f"/consultations/{reported.id}/report.pdf")
    if reply.status == 202:
        with served.app.app_context():  # the served app's settings (REPORT_PDF_MAX_ITEMS)
            queue.run_due()
        reply = client.get(f"/consultations/{reported.id}/report.pdf")
    return reply


def _pdf_text(body: bytes) -> str:
    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def _written_urls(replies) -> list[str]:
    """Every absolute URL in the replies (bodies, Location headers) and in the mail."""
    texts = []
    for reply in replies:
        texts.append(reply.headers.get("Location", ""))
        if reply.headers.get("Content-Type") != "application/pdf":
            texts.append(reply.text)
    texts += [m.body for m in db.session.scalars(db.select(OutboxMessage))]
    return [url for text in texts for url in URL.findall(text)]


@pytest.mark.parametrize("proxy_fix", [False, True], ids=["direct", "proxy-fix"])
@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_no_link_names_a_forged_host_even_with_trusted_hosts_off(serve, world, make,
                                                                  proxy_fix, forgery):
    served = serve(BASE_URL=BASE_URL, PROXY_FIX=proxy_fix, TRUSTED_HOSTS="*",
                   REPORT_PDF_MAX_ITEMS=0)  # the PDF then lists its links
    replies = _every_flow(served, FORGERIES[forgery], world)
    assert [r.status for r in replies[:6]] == [200, 200, 303, 303, 302, 200]
    assert replies[6].status == 201 and all(r.status == 200 for r in replies[7:])

    everything = b"".join(r.body for r in replies) + "".join(
        f"{k}: {v}" for r in replies for k, v in r.headers.items()).encode()
    assert FORGED.encode() not in everything
    urls = _written_urls(replies)
    assert not [u for u in urls if FORGED in u]
    ours = [u for u in urls if u.startswith(BASE_URL + "/")]
    mails = db.session.scalars(db.select(OutboxMessage)).all()
    for address in ("victim@example.net", "newcomer@example.net", "verify-me@example.net",
                    "receipt@example.net", "reader@example.net", "author@example.net",
                    "api@example.net"):
        bodies = [m.body for m in mails if m.recipient == address]
        assert bodies, f"no mail to {address}"
        assert all(BASE_URL + "/" in body for body in bodies), (address, bodies)
    assert replies[6].json["receipt_url"].startswith(BASE_URL + "/receipts/")
    assert replies[6].headers["Location"].startswith(BASE_URL + "/api/v1/receipts/")
    pdf = "".join(_pdf_text(replies[-1].body).split())  # a URL may wrap from line to line
    assert FORGED not in pdf
    assert f"{BASE_URL}/consultations/{world['reported'].id}/report.csv" in pdf
    assert f"{BASE_URL}/consultations/{world['reported'].id}/report" in urls  # the JSON link
    assert f"{BASE_URL}/catalogue/{world['item'].id}" in urls
    assert f"{BASE_URL}/feeds/consultations.atom" in urls  # the feed's own link
    assert f"{BASE_URL}/consultations/{world['open'].id}" in urls
    assert len(ours) > 10


@pytest.mark.parametrize("proxy_fix", [False, True], ids=["direct", "proxy-fix"])
@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_trusted_hosts_refuse_a_forged_host_with_a_clean_400(serve, world, proxy_fix, forgery):
    served = serve(BASE_URL=BASE_URL, PROXY_FIX=proxy_fix)
    client = served.client(**FORGERIES[forgery])
    # X-Forwarded-Host means something only behind the proxy; directly, it is ignored.
    ignored = forgery == "forwarded-host" and not proxy_fix
    c = world["open"]
    before = db.session.scalar(db.select(db.func.count(Comment.id)))
    for method, path, kw in [
        ("GET", "/account/reset", {}),
        ("POST", "/account/reset", {"form": {"email": world["citizen"].email}}),
        ("GET", f"/api/v1/consultations/{c.id}", {}),
        ("POST", f"/api/v1/consultations/{c.id}/comments",
         {"json": {"body": "意见", "category": "other", "email": "api@example.net"}}),
        ("GET", "/", {}),
        ("GET", "/no-such-page", {}),
    ]:
        reply = client.request(method, path, **kw)
        if ignored:
            assert FORGED not in reply.text
            continue
        assert reply.status == 400, (method, path, reply.status, reply.text[:300])
        assert FORGED not in reply.text
        if path.startswith("/api/"):
            assert reply.json["error"]["code"] == "untrusted_host"
        else:
            assert "text/html" in reply.headers["Content-Type"]
    if not ignored:
        assert db.session.scalar(db.select(db.func.count(Comment.id))) == before
        assert db.session.scalars(db.select(OutboxMessage)).all() == []


@pytest.mark.parametrize("host", [REAL_HOST, "localhost", "127.0.0.1", f"{REAL_HOST}:443"])
def test_the_sites_own_names_are_served(serve, world, host):
    served = serve(BASE_URL=BASE_URL)
    reply = served.client(Host=host).get(f"/api/v1/consultations/{world['open'].id}")
    assert reply.status == 200
    assert reply.json["url"] == f"{BASE_URL}/consultations/{world['open'].id}"



def test_absolute_links_follow_base_url_and_never_the_request(app):
    from consult.urls import external_url

    with app.test_request_context("/", headers={"Host": "evil.example"}):
        assert external_url("comments.lookup") == app.config["BASE_URL"] + "/receipts"
        assert external_url("comments.lookup") == app.config["BASE_URL"] + "/receipts"  # kept
        old = app.config["BASE_URL"]
        app.config["BASE_URL"] = "https://consult.example.gov.cn/city"
        try:  # a new BASE_URL (tests, a reconfigured app): links follow it at once
            assert external_url("comments.lookup") == \
                "https://consult.example.gov.cn/city/receipts"
        finally:
            app.config["BASE_URL"] = old


@pytest.mark.parametrize("endpoint, values", [
    ("comments.receipt", {"tracking_no": "ZX26-7K3M-9QXD"}),
    ("api.receipt", {"tracking_no": "ZX26-7K3M-9QXD"}),
    ("comments.receipt", {"tracking_no": "ZX26-7K3M-9QXD", "lang": "en"}),  # a query value
    ("comments.receipt", {"tracking_no": "意见 1/2?#"}),  # quoted: built by Werkzeug
    ("consultations.detail", {"consultation_id": 7}),  # an int converter
    ("consultations.detail", {"consultation_id": "7"}),
    ("comments.lookup", {}),
])
def test_a_link_from_its_template_is_the_link_werkzeug_builds(app, endpoint, values):
    """Links of plain values are put together from a URL built once with stand-ins
    (consult/urls.py `_template`): the same URL as Werkzeug's build, twice and after BASE_URL
    changes."""
    from consult.urls import external_url

    old = app.config["BASE_URL"]
    try:
        for base_url in (old, "https://consult.example.gov.cn/city"):
            app.config["BASE_URL"] = base_url
            with app.test_request_context("/"):
                parts = urlsplit(base_url)
                expected = app.url_map.bind(
                    parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme,
                ).build(endpoint, dict(values), force_external=True)
                assert external_url(endpoint, **values) == expected
                assert external_url(endpoint, **values) == expected  # from the template kept
                assert external_url(endpoint, **values, _anchor="a 1") == expected + "#a%201"
    finally:
        app.config["BASE_URL"] = old
