"""The policy library (/policies): filters, permalinks by 文号, DOCX and PDF downloads read
back, and older policies added without a consultation, typed or imported from Word."""

import io
from datetime import date
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader

from consult.extensions import db
from consult.jobs import queue as jobs
from consult.jobs.models import BuiltFile
from consult.policies import services
from consult.policies.models import Policy

CORPUS = Path(__file__).resolve().parents[1] / "consultations" / "corpus"
TEXT = ("第一章 总则\n第一条 为了规范公共数据开放，制定本办法。\n"
        "第二章 附则\n第二条 本办法自2027年1月1日起施行。")


@pytest.fixture
def library(make):
    data = make.unit("市大数据局")
    housing = make.unit("市住房保障局")
    a = make.user("approver", data)
    b = make.user("approver", housing)

    def add(unit, actor, number, title, issued_on, type_="normative_document", publish=True):
        policy = services.create_standalone_policy(unit, services.PolicyInput(
            title=title, document_number=number, issued_on=issued_on, effective_on=None,
            text=TEXT, type=type_), actor=actor)
        if publish:
            services.publish_policy(policy, actor=actor)
        return policy

    return {
        "data": data, "housing": housing,
        "rule": add(data, a, "郑政令〔2025〕250号", "郑州市公共数据管理办法", date(2025, 4, 1),
                    "rule"),
        "open": add(data, a, "郑政规〔2026〕3号", "郑州市公共数据开放实施细则", date(2026, 2, 1)),
        "rent": add(housing, b, "郑房规〔2026〕1号", "郑州市公共租赁住房管理办法",
                    date(2026, 5, 1)),
        "draft": add(housing, b, "郑房规〔2026〕2号", "尚未发布的住房文件", date(2026, 6, 1),
                     publish=False),
    }


def _titles(client, query):
    response = client.get(f"/policies?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return {t for t in ("郑州市公共数据管理办法", "郑州市公共数据开放实施细则",
                        "郑州市公共租赁住房管理办法", "尚未发布的住房文件") if t in html}


def test_filters_by_unit_type_year_and_words(client, library):
    everything = {"郑州市公共数据管理办法", "郑州市公共数据开放实施细则",
                  "郑州市公共租赁住房管理办法"}
    assert _titles(client, "") == everything
    assert _titles(client, f"unit={library['data'].id}") == {"郑州市公共数据管理办法",
                                                             "郑州市公共数据开放实施细则"}
    assert _titles(client, "type=rule") == {"郑州市公共数据管理办法"}
    assert _titles(client, "year=2026") == {"郑州市公共数据开放实施细则",
                                            "郑州市公共租赁住房管理办法"}
    assert _titles(client, "q=租赁") == {"郑州市公共租赁住房管理办法"}
    assert _titles(client, "q=郑房规[2026]1号") == {"郑州市公共租赁住房管理办法"}
    assert _titles(client, "validity=in_force&year=2025&type=rule") == {"郑州市公共数据管理办法"}
    assert _titles(client, "year=2024") == set()


@pytest.mark.parametrize("query", ["type=law", "validity=valid", "year=abc", "year=99999",
                                   "unit=x", "page=0"])
def test_bad_filters_are_400(client, query):
    assert client.get(f"/policies?{query}").status_code == 400


def test_permalink_by_document_number_however_typed(client, library):
    policy = library["open"]
    for number in ("郑政规〔2026〕3号", "郑政规[2026]3号", "郑政规（2026）3号",
                   "郑政规 〔2026〕 3号"):
        response = client.get(f"/policies/number/{number}")
        assert response.status_code == 301, number
        assert response.headers["Location"].endswith(f"/policies/{policy.id}")
    missing = client.get("/policies/number/郑政规〔2099〕1号")
    assert missing.status_code == 404 and "没有找到该文号的文件" in missing.get_data(as_text=True)
    # An unpublished policy has no permalink yet.
    assert client.get("/policies/number/郑房规〔2026〕2号").status_code == 404


def test_a_document_number_is_used_once(library, make):
    unit = library["data"]
    with pytest.raises(Exception) as error:
        services.create_standalone_policy(unit, services.PolicyInput(
            title="另一份", document_number="郑政规[2026]3号", issued_on=date(2026, 2, 1),
            effective_on=None, text=TEXT), actor=make.user("approver", unit))
    assert error.value.code == "document_number_taken"


def test_the_docx_download_reads_back(client, library):
    policy = library["rule"]
    response = client.get(f"/policies/{policy.id}.docx")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    paragraphs = [p.text for p in docx.Document(io.BytesIO(response.data)).paragraphs]
    assert paragraphs[0] == "郑州市公共数据管理办法" and "郑政令〔2025〕250号" in paragraphs
    assert "第一章 总则" in paragraphs
    assert any(p.startswith("第一条") and "为了规范公共数据开放" in p for p in paragraphs)
    assert any("http://" in p and f"/policies/{policy.id}" in p for p in paragraphs)
    etag = response.headers["ETag"]
    assert client.get(f"/policies/{policy.id}.docx",
                      headers={"If-None-Match": etag}).status_code == 304


def test_the_pdf_is_built_by_a_job_and_reads_back(client, library):
    policy = library["rule"]
    url = f"/policies/{policy.id}.pdf"
    first = client.get(url)
    assert first.status_code == 202 and first.headers["Retry-After"]
    assert "正在生成" in first.get_data(as_text=True)
    assert client.get(url).status_code == 202  # the same job, not a second
    assert jobs.run_due() == 1
    response = client.get(url)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    squeezed = "".join(text.split())
    assert "郑州市公共数据管理办法" in squeezed and "郑政令〔2025〕250号" in squeezed
    assert "第一条为了规范公共数据开放" in squeezed
    assert db.session.scalar(db.select(db.func.count(BuiltFile.id))
                             .where(BuiltFile.policy_id == policy.id)) == 1


def test_unpublished_policies_have_no_pages_or_downloads(client, library):
    draft = library["draft"]
    for url in (f"/policies/{draft.id}", f"/policies/{draft.id}.docx",
                f"/policies/{draft.id}.pdf", f"/policies/{draft.id}/changes"):
        assert client.get(url).status_code == 404, url


def test_the_policy_page_shows_articles_chapters_and_downloads(client, library):
    policy = library["rule"]
    html = client.get(f"/policies/{policy.id}").get_data(as_text=True)
    assert '<h3 class="chapter-heading">第一章 总则</h3>' in html
    assert 'id="article-1"' in html and 'id="article-2"' in html
    assert f'href="/policies/{policy.id}.pdf"' in html
    assert f'href="/policies/{policy.id}.docx"' in html
    assert "/policies/number/" in html


# --- older policies, without a consultation ---------------------------------------------------


def _upload(client, post_form, unit, name, *, action="import", **fields):
    data = {"unit_id": unit.id, "type": "normative_document", "title": "",
            "document_number": "", "issued_on": "", "text": "", "action": action, **fields}
    if name:
        data["file"] = (io.BytesIO((CORPUS / name).read_bytes()), name)
    return post_form(client, "/staff/policies/new", data, page="/staff/policies/new",
                     content_type="multipart/form-data")


def test_an_older_policy_imported_from_word_keeps_its_headings(client_as, post_form, make):
    unit = make.unit("市财政局")
    editor = make.user("editor", unit)
    client = client_as(editor)
    assert "添加以往的政策文件" in client.get("/staff").get_data(as_text=True)
    response = _upload(client, post_form, unit, "03_ministry_measures_1996_parts_and_points.docx")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "财政部关于印发《会计基础工作规范》的补充办法" in html  # the title, detected
    assert "8 条" in html and "一、关于会计机构和会计人员" in html
    text = html.split('name="text"')[1].split(">", 1)[1].split("</textarea>")[0]
    response = _upload(client, post_form, unit, None, action="save",
                       title="财政部关于印发《会计基础工作规范》的补充办法",
                       document_number="财会字〔1996〕19号", issued_on="1996-06-17",
                       text=text.replace("&amp;", "&").replace("&lt;", "<")
                       .replace("&gt;", ">").replace("&#34;", '"').replace("&#39;", "'"))
    assert response.status_code == 302, response.get_data(as_text=True)
    policy = db.session.scalar(db.select(Policy).where(Policy.document_number
                                                       == "财会字〔1996〕19号"))
    assert policy.consultation is None and policy.published_at is None
    assert [a.label for a in policy.articles] == ["一", "一.1", "一.2", "二", "二.1", "二.2",
                                                  "二.3", "三"]
    assert policy.articles[0].chapter == "一、关于会计机构和会计人员"
    assert policy.articles[-1].heading == "关于会计监督"


def test_bad_imports_and_other_units_are_refused(client_as, post_form, make):
    unit = make.unit("市财政局")
    other = make.unit("市商务局")
    client = client_as(make.user("editor", unit))
    response = _upload(client, post_form, unit, None)
    assert response.status_code == 422 and "请选择要上传的文件" in response.get_data(as_text=True)
    fake = post_form(client, "/staff/policies/new",
                     {"unit_id": unit.id, "type": "rule", "action": "import",
                      "file": (io.BytesIO(b"%PDF-1.4 not a draft"), "x.docx")},
                     page="/staff/policies/new", content_type="multipart/form-data")
    assert fake.status_code == 422 and "PDF" in fake.get_data(as_text=True)
    assert _upload(client, post_form, other, None, action="save", title="越权",
                   document_number="商〔2026〕1号", issued_on="2026-01-01",
                   text="第一条 内容。").status_code == 403
    missing = _upload(client, post_form, unit, None, action="save", title="",
                      document_number="", issued_on="", text="")
    assert missing.status_code == 422
    assert "请填写文件标题" in missing.get_data(as_text=True)


def test_hostile_text_is_escaped_on_every_page(client, make):
    unit = make.unit()
    approver = make.user("approver", unit)
    policy = services.create_standalone_policy(unit, services.PolicyInput(
        title="<script>alert(1)</script>办法", document_number="郑<b>〔2026〕1号",
        issued_on=date(2026, 1, 1), effective_on=None,
        text="第一条 <img src=x onerror=alert(1)>内容。"), actor=approver)
    services.publish_policy(policy, actor=approver)
    for url in (f"/policies/{policy.id}", "/policies", f"/policies/{policy.id}/changes"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "&lt;script&gt;" in html or "&lt;img" in html or url == "/policies"
