"""Search (F19) on both databases: Chinese words of two characters, simplified and traditional
alike, ranking, filters, and nothing that is not public."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import inspect

from consult import clock
from consult.comments.models import CommentStatus
from consult.comments.moderation import hide_comment
from consult.consultations.models import State
from consult.extensions import db
from consult.policies.models import Interpretation, InterpretationKind, Policy
from consult.search.engine import SearchParams, search
from consult.search.indexing import reindex
from consult.search.models import Kind, SearchDocument

FINES = ("第一条 为了促进就业创业，制定本办法。\n"
         "第二条 本办法适用于本市行政区域内的就业补贴。\n"
         "第十条 违反本办法规定的，由人力资源社会保障部门责令改正，处一千元以上一万元以下罚款。")


@pytest.fixture
def corpus(make, unit):
    """Two public consultations with comments, a draft, a policy: what the tests look for."""
    jobs = make.consultation(State.OPEN, unit, title="郑州市就业创业补贴实施办法（征求意见稿）",
                             text=FINES)
    other_unit = make.unit("市测试数据局")
    data = make.consultation(State.CLOSED, other_unit, title="郑州市公共数据开放管理办法",
                             type="rule")
    make.comment(data, body="建议在数据开放中同时考虑稳就业的需要。")
    make.comment(jobs, body="穩就業是民生之本，建議提高補貼標準。")
    draft = make.consultation(State.DRAFT, unit, title="保密的草稿标题养老")
    return {"jobs": jobs, "data": data, "draft": draft, "other_unit": other_unit}


def kinds_titles(q, **filters):
    results = search(SearchParams(q=q, **filters))
    return [(h.kind.value, h.title) for h in results.hits]


def test_fine_finds_the_draft_by_its_article_text(client, corpus):
    hits = search(SearchParams(q="罚款")).hits
    assert [(h.kind, h.consultation_id) for h in hits] == [(Kind.ARTICLE, corpus["jobs"].id)]
    page = client.get("/search?q=罚款").get_data(as_text=True)
    assert f'/consultations/{corpus["jobs"].id}#article-3' in page
    assert "<mark>罚款</mark>" in page


def test_simplified_and_traditional_find_the_same_documents(corpus):
    simplified = kinds_titles("就业")
    assert simplified and kinds_titles("就業") == simplified
    assert kinds_titles("稳就业") == kinds_titles("穩就業")
    bodies = {h.body for h in search(SearchParams(q="稳就业")).hits}
    assert any("穩就業" in body for body in bodies)  # shown as written
    assert any("稳就业" in body for body in bodies)


def test_a_two_character_word_matches_only_where_its_characters_stand_together(make, unit):
    make.consultation(State.OPEN, unit, title="关于就业的办法")
    make.consultation(State.OPEN, unit, title="成就与事业")  # 就 and 业, not side by side
    assert [t for _, t in kinds_titles("就业") if _ == "consultation"] == ["关于就业的办法"]


def test_one_character_finds_it_anywhere_in_a_word(make, unit):
    make.consultation(State.OPEN, unit, title="城市更新条例")
    titles = [t for k, t in kinds_titles("新") if k == "consultation"]
    assert titles == ["城市更新条例"]


def test_english_numbers_and_document_numbers(make, unit):
    make.consultation(State.OPEN, unit, title="郑州市2027年政务公开工作要点 Open Data")
    policy = Policy(unit=unit, title="郑州市预付式消费管理办法", document_number="郑政〔2026〕12号",
                    issued_on=date(2026, 3, 1), text="第一条 为了规范预付式消费。",
                    published_at=clock.now())
    db.session.add(policy)
    db.session.flush()
    assert kinds_titles("2027")[0][0] == "consultation"
    assert kinds_titles("open data")[0][0] == "consultation"
    assert kinds_titles("OPEN")[0][0] == "consultation"
    assert kinds_titles("郑政〔2026〕12号") == [
        ("policy", "郑州市预付式消费管理办法 郑政〔2026〕12号")]
    assert kinds_titles("12号")[0][0] == "policy"
    assert kinds_titles("202") == []  # numbers are whole


@pytest.mark.parametrize("q", ["！！，。", "   ", "“”《》", "---"])
def test_punctuation_alone_is_no_search_and_says_so(client, corpus, q):
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 200
    assert search(SearchParams(q=q)).searched is False


def test_punctuation_around_words_is_ignored(corpus):
    assert kinds_titles("“罚款”！") == kinds_titles("罚款")


def test_a_500_character_query(client, corpus):
    q = ("就业" * 250)
    assert client.get("/search", query_string={"q": q}).status_code == 200
    assert client.get("/api/v1/search", query_string={"q": q}).status_code == 200
    # longer: cut on the page, refused by the API
    assert client.get("/search", query_string={"q": q + "就"}).status_code == 200
    assert client.get("/api/v1/search", query_string={"q": q + "就"}).status_code == 400
    # a pasted paragraph of many words
    words = " ".join(f"词{i}" for i in range(160))
    assert client.get("/search", query_string={"q": words}).status_code == 200


@pytest.mark.parametrize("q", [
    "'; DROP TABLE search_documents; --", "罚款' OR '1'='1", '"罚款" OR *', "NEAR(罚款 就业)",
    "罚款 AND NOT 就业", "就业:* & !罚款 | x", "罚款)(", "\\'\\\"", "column:罚款", "^罚款",
    "%_%", "罚款--", "罚款/*",
])
def test_sql_and_query_syntax_are_just_text(client, corpus, q):
    assert client.get("/search", query_string={"q": q}).status_code == 200
    assert client.get("/api/v1/search", query_string={"q": q}).status_code == 200
    assert db.session.scalar(db.select(db.func.count()).select_from(SearchDocument)) > 0


def test_a_title_match_ranks_above_a_comment_match(make, unit):
    elderly = make.consultation(State.OPEN, unit, title="郑州市养老服务条例（征求意见稿）")
    other = make.consultation(State.OPEN, unit, title="郑州市公园管理办法")
    for _ in range(3):
        make.comment(other, body="养老服务养老服务，公园里也要有养老服务设施。")
    hits = search(SearchParams(q="养老服务")).hits
    assert (hits[0].kind, hits[0].ref_id) == (Kind.CONSULTATION, elderly.id)
    kinds = [h.kind for h in hits]
    assert kinds.index(Kind.CONSULTATION) < kinds.index(Kind.COMMENT)


def test_an_article_ranks_above_a_comment(make, unit):
    c = make.consultation(State.OPEN, unit, title="办法", text="第一条 电动自行车应当登记。")
    make.comment(c, body="电动自行车太多了，电动自行车应当管。")
    assert [h.kind for h in search(SearchParams(q="电动自行车")).hits] == [Kind.ARTICLE,
                                                                          Kind.COMMENT]


def test_a_hidden_comment_is_never_found(make, unit, approver, corpus):
    comment = make.comment(corpus["jobs"], body="这条意见含有独特词语甲乙丙丁。")
    assert kinds_titles("甲乙丙丁") == [("comment", "")]
    hide_comment(comment, "abusive", None, actor=approver)
    db.session.flush()
    assert kinds_titles("甲乙丙丁") == []
    db.session.commit()
    reindex(db.session)
    assert kinds_titles("甲乙丙丁") == []


@pytest.mark.parametrize("status", [CommentStatus.UNVERIFIED, CommentStatus.PENDING_MODERATION,
                                    CommentStatus.SUBMITTED, CommentStatus.HIDDEN])
def test_comments_not_published_are_not_indexed(make, corpus, status):
    comment = make.comment(corpus["jobs"], body="未公开的独特意见戊己庚辛。", status=status)
    assert kinds_titles("戊己庚辛") == []
    comment.status = CommentStatus.PUBLISHED  # moderated, verified
    db.session.flush()
    assert kinds_titles("戊己庚辛") == [("comment", "")]


def test_comments_are_found_as_the_public_reads_them_masked(make, corpus):
    make.comment(corpus["jobs"], body="请联系我，手机13800138000，身份证号110101199003074514。")
    assert kinds_titles("13800138000") == []
    assert kinds_titles("110101199003074514") == []
    assert kinds_titles("请联系我")  # the rest of it is found


def test_drafts_are_not_found_until_they_are_public(corpus):
    assert kinds_titles("保密的草稿") == []
    draft = corpus["draft"]
    draft.state = State.SCHEDULED
    draft.approved_at = clock.now()
    db.session.flush()
    assert ("consultation", "保密的草稿标题养老") in kinds_titles("保密的草稿")


def test_a_withdrawn_draft_that_was_never_approved_is_not_found(make, unit):
    c = make.consultation(State.PENDING_APPROVAL, unit, title="从未公开的撤回稿")
    c.state = State.WITHDRAWN
    db.session.flush()
    assert kinds_titles("从未公开") == []


def test_unpublished_policies_and_interpretations_are_not_found(unit):
    policy = Policy(unit=unit, title="尚未发布的办法", document_number="郑政〔2026〕99号",
                    issued_on=date(2026, 3, 1), text="正文")
    db.session.add(policy)
    db.session.add(Interpretation(policy=policy, title="尚未发布的解读",
                                  kind=InterpretationKind.TEXT, body="解读正文"))
    db.session.flush()
    assert kinds_titles("尚未发布") == []
    policy.published_at = clock.now()
    policy.interpretations[0].published_at = clock.now()
    db.session.flush()
    assert {k for k, _ in kinds_titles("尚未发布")} == {"policy", "interpretation"}


def test_a_new_version_replaces_the_articles_found(make, unit, corpus):
    from consult.consultations.models import Article, DraftVersion

    jobs = corpus["jobs"]
    version = DraftVersion(number=2)
    jobs.versions.append(version)
    version.articles.append(Article(number=1, label="第一条",
                                    text="修改后的条文，不再罚款而是警告。"))
    db.session.flush()
    hits = search(SearchParams(q="罚款", kind=Kind.ARTICLE)).hits
    assert [h.body for h in hits] == ["修改后的条文，不再罚款而是警告。"]


def test_filters(corpus):
    jobs, data, other_unit = corpus["jobs"], corpus["data"], corpus["other_unit"]
    assert {h.kind for h in search(SearchParams(q="就业", kind=Kind.COMMENT)).hits} == {
        Kind.COMMENT}
    by_unit = search(SearchParams(q="就业", unit_id=other_unit.id)).hits
    assert by_unit and {h.consultation_id for h in by_unit} == {data.id}
    assert {h.consultation_id for h in search(SearchParams(q="就业", type="rule")).hits} == {
        data.id}
    assert {h.consultation_id for h in search(SearchParams(q="就业", status="closed")).hits} == {
        data.id}
    assert {h.consultation_id for h in search(SearchParams(q="就业", status="open")).hits} == {
        jobs.id}
    year = clock.local_date(jobs.opens_at).year
    assert search(SearchParams(q="罚款", year=year)).hits
    assert search(SearchParams(q="罚款", year=year - 5)).hits == []


def test_pages(make, unit):
    c = make.consultation(State.OPEN, unit, title="办法")
    for i in range(5):
        make.comment(c, body=f"关于停车收费的意见第{i}条。")
    first = search(SearchParams(q="停车收费", per_page=2))
    second = search(SearchParams(q="停车收费", per_page=2, page=2))
    third = search(SearchParams(q="停车收费", per_page=2, page=3))
    assert first.total == 5 and len(first.hits) == len(second.hits) == 2 and len(third.hits) == 1
    ids = [h.ref_id for h in first.hits + second.hits + third.hits]
    assert len(set(ids)) == 5
    assert search(SearchParams(q="停车收费", per_page=2, page=50)).hits == []


def test_the_page_with_filters_and_an_honest_empty_state(client, corpus):
    page = client.get("/search?q=不存在的词语壬癸&kind=comment").get_data(as_text=True)
    assert "没有找到包含“不存在的词语壬癸”的内容" in page
    assert "去掉筛选条件" in page
    assert "目前没有正在征集意见的文件" not in page
    first = client.get("/search").get_data(as_text=True)
    assert 'name="q"' in first and "两个字的词也能找到" in first


@pytest.mark.parametrize("query", ["kind=nothing", "page=0", "page=abc", "year=abc", "year=99",
                                   "unit=-1", "type=law", "status=draft", "per_page=1000"])
def test_bad_parameters_are_400(client, corpus, query):
    assert client.get(f"/search?q=就业&{query}").status_code == 400
    response = client.get(f"/api/v1/search?q=就业&{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_parameter"


def test_hostile_html_is_escaped(client, make, corpus):
    make.comment(corpus["jobs"], body='<script>alert("x")</script><b>独特标记子丑</b>')
    page = client.get("/search?q=子丑").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    item = client.get("/api/v1/search?q=子丑").get_json()["items"][0]
    assert "<script>" not in item["snippet_html"] and "<mark>子丑</mark>" in item["snippet_html"]


def test_the_api(client, corpus):
    response = client.get("/api/v1/search?q=罚款")
    assert response.status_code == 200 and response.headers.get("ETag")
    body = response.get_json()
    assert set(body) >= {"items", "page", "per_page", "total"}
    assert body["total"] == 1
    item = body["items"][0]
    assert item["kind"] == "article" and item["consultation_id"] == corpus["jobs"].id
    assert item["url"].startswith("http://consult.test/consultations/")
    assert "罚款" in item["snippet"] and "<mark>" not in item["snippet"]
    assert client.get("/api/v1/search").status_code == 400  # q is required


def test_links_do_not_follow_a_forged_host(client, corpus):
    response = client.get("/api/v1/search?q=罚款", headers={"X-Forwarded-Host": "evil.example"})
    assert "evil.example" not in response.get_data(as_text=True)


def test_the_list_page_and_api_search_through_the_same_engine(client, corpus):
    jobs, data = corpus["jobs"], corpus["data"]
    page = client.get("/consultations?status=all&q=罚款").get_data(as_text=True)
    assert jobs.title in page and data.title not in page
    page = client.get("/consultations?status=all&q=數據").get_data(as_text=True)
    assert data.title in page and jobs.title not in page
    ids = [i["id"] for i in client.get("/api/v1/consultations?status=all&q=罚款").get_json()[
        "items"]]
    assert ids == [jobs.id]
    assert client.get("/consultations?status=all&q=！！").status_code == 200


def test_every_public_page_has_the_search_box(client, corpus):
    for url in ("/", "/consultations", f"/consultations/{corpus['jobs'].id}", "/policies"):
        page = client.get(url).get_data(as_text=True)
        assert 'action="/search"' in page, url


def test_reindex_rebuilds_the_same_index(corpus):
    before = sorted(kinds_titles("就业"))
    count = db.session.scalar(db.select(db.func.count()).select_from(SearchDocument))
    assert reindex(db.session) == count
    assert sorted(kinds_titles("就业")) == before


def test_the_full_text_index_exists_on_this_database():
    names = set(inspect(db.session.connection()).get_table_names())
    if db.session.get_bind().dialect.name == "sqlite":
        assert "search_fts" in names
    else:
        columns = {c["name"] for c in inspect(db.session.connection()).get_columns(
            "search_documents")}
        assert "search_vector" in columns


def test_closing_soon_dates_do_not_matter_to_the_index(make, unit, travel):
    c = make.consultation(State.OPEN, unit, title="时间推移测试办法")
    travel(clock.now() + timedelta(days=60))
    assert search(SearchParams(q="时间推移", status="closed")).hits[0].ref_id == c.id


def test_a_public_consultation_and_its_comments_in_one_flush(unit):
    """A consultation, its version and its comments written by one flush are indexed once."""
    from consult.comments.models import Category, Comment
    from consult.comments.tracking import new_tracking_no
    from consult.consultations.models import Consultation, DraftVersion

    now = clock.now()
    c = Consultation(title="一次写入的办法", type="rule", unit=unit, state=State.SCHEDULED,
                     summary="", explanation="", opens_at=now - timedelta(days=1),
                     closes_at=now + timedelta(days=20), approved_at=now - timedelta(days=2))
    version = DraftVersion(number=1)
    c.versions.append(version)
    db.session.add(c)
    for body in ("同一次写入的意见甲。", "同一次写入的意见乙。"):
        db.session.add(Comment(tracking_no=new_tracking_no(), consultation=c, version=version,
                               body=body, category=Category.INDIVIDUAL,
                               status=CommentStatus.PUBLISHED))
    db.session.flush()
    assert sorted(h.body for h in search(SearchParams(q="同一次写入", kind=Kind.COMMENT)).hits) \
        == ["同一次写入的意见乙。", "同一次写入的意见甲。"]


@pytest.mark.parametrize("spread", ["old_only", "every_other", "newest_only"])
def test_comments_ranked_are_the_newest_that_match_wherever_they_stand(make, unit, monkeypatch,
                                                                         spread):
    """However a word is spread over the comments — only in old ones (PostgreSQL's walk of the
    newest ids finds none), in every other one, only in the newest — the comments ranked are
    its newest matches."""
    from consult.search import engine

    monkeypatch.setattr(engine, "COMMENT_CANDIDATES", 4)
    monkeypatch.setattr(engine, "RECENT_WINDOW", 5)
    monkeypatch.setattr(engine, "DENSE_IN_WINDOW", 1)
    c = make.consultation(State.CLOSED, unit, title="郑州市城市更新条例")
    with_word = {
        "old_only": lambda n: n < 8,
        "every_other": lambda n: n % 2 == 0,
        "newest_only": lambda n: n >= 24,
    }[spread]
    comments = [make.comment(c, body=("古城墙应当保护。" if with_word(n) else "建议修改。"))
                for n in range(30)]
    newest = sorted((x.id for n, x in enumerate(comments) if with_word(n)), reverse=True)[:4]
    results = search(SearchParams(q="古城墙", kind=Kind.COMMENT))
    assert sorted((h.ref_id for h in results.hits), reverse=True) == newest
    assert results.more_than  # four ranked, and there were more
    assert search(SearchParams(q="古城", kind=Kind.COMMENT)).hits  # one token alike
