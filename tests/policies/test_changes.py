"""What the comments changed (/policies/<id>/changes): the last draft against the final text,
article by article, on real-shaped texts, with the adopted answers behind each change."""

from datetime import date

import pytest

from consult.answers.services import publish_report
from consult.extensions import db
from consult.policies import changes, services
from consult.policies.models import Policy

DRAFT = """郑州市电动自行车管理办法（征求意见稿）
第一章 总则
第一条 为了加强电动自行车管理，维护道路交通秩序，制定本办法。
第二条 本办法适用于本市行政区域内电动自行车的销售、登记、通行和停放。
第三条 市公安机关交通管理部门负责电动自行车的登记和通行管理。市市场监管部门负责销售环节的监督管理。
第二章 通行和停放
第四条 驾驶电动自行车最高时速不得超过每小时二十五公里。
第五条 电动自行车应当在规定地点停放。
第六条 电动自行车不得在楼道、安全出口停放或者充电。
第七条 违反第四条规定的，处五十元罚款。
第三章 附则
第八条 本办法自2027年1月1日起施行。"""

FINAL = """郑州市电动自行车管理办法
第一章 总则
第一条 为了加强电动自行车管理，维护道路交通秩序，保障人身和财产安全，制定本办法。
第二条 本办法适用于本市行政区域内电动自行车的销售、登记、通行和停放。
第三条 本办法所称电动自行车，是指符合强制性国家标准的两轮自行车。
第四条 市公安机关交通管理部门负责电动自行车的登记和通行管理。
第五条 市市场监管部门负责销售环节的监督管理。
第二章 通行和停放
第六条 驾驶电动自行车最高时速不得超过每小时十五公里。
第七条 电动自行车应当在规定地点停放，不得在楼道、安全出口停放或者充电。
第三章 附则
第八条 本办法自2027年3月1日起施行。"""


@pytest.fixture
def chain(make):
    """A closed draft with comments, adopted or not, its report, and the final policy."""
    c = make.consultation("closed", text=DRAFT, title="郑州市电动自行车管理办法（征求意见稿）")
    approver = make.user("approver", c.unit)
    speed = make.comment(c, article=4, body="时速二十五公里太快，建议降为十五公里。")
    definition = make.comment(c, body="建议增加电动自行车的定义，明确符合国家标准的两轮车。")
    fine = make.comment(c, article=7, body="罚款太少。")
    make.answer(speed, "adopted", None)
    make.answer(definition, "partly_adopted", "已增加定义。")
    make.answer(fine, "not_adopted", "罚款幅度由上位法规定。")
    publish_report(c, summary="总结", actor=approver)
    policy = services.create_policy(c, services.PolicyInput(
        title="郑州市电动自行车管理办法", document_number="郑政令〔2026〕263号",
        issued_on=date(2026, 11, 20), effective_on=None, text=FINAL), actor=approver)
    services.publish_policy(policy, actor=approver)
    return c, policy, approver, {"speed": speed, "definition": definition, "fine": fine}


def _rows(policy):
    return [(row.kind, row.new.label if row.new else None, [o.label for o in row.old])
            for row in changes.compare(policy).rows]


def test_the_final_text_is_split_into_articles_with_chapters(chain):
    _c, policy, _a, _comments = chain
    assert [a.label for a in policy.articles][:3] == ["第一条", "第二条", "第三条"]
    assert policy.articles[5].chapter == "第二章 通行和停放"
    assert policy.preamble == "郑州市电动自行车管理办法"


def test_inserted_split_merged_changed_and_unchanged_articles_are_matched(chain):
    _c, policy, _a, _comments = chain
    assert _rows(policy) == [
        ("changed", "第一条", ["第一条"]),  # a phrase inserted
        ("unchanged", "第二条", ["第二条"]),
        ("added", "第三条", []),  # inserted in the middle: the rest are renumbered
        ("changed", "第四条", ["第三条"]),  # split in two ...
        ("split", "第五条", ["第三条"]),  # ... its second half is an article of its own
        ("changed", "第六条", ["第四条"]),  # a changed word, renumbered
        ("merged", "第七条", ["第五条", "第六条"]),  # two articles merged into one
        ("removed", None, ["第七条"]),  # deleted
        ("changed", "第八条", ["第八条"]),
    ]


def test_changed_words_are_pieces_of_inserted_and_deleted_text(chain):
    _c, policy, _a, _comments = chain
    row = next(r for r in changes.compare(policy).rows if r.new and r.new.label == "第六条")
    assert row.pieces == [("equal", "驾驶电动自行车最高时速不得超过每小时"), ("delete", "二"),
                          ("equal", "十五公里。")]
    assert row.renumbered and row.old[0].label == "第四条"


def test_links_are_proposed_by_article_number_and_by_similarity(chain):
    _c, policy, _a, comments = chain
    comparison = changes.compare(policy)
    proposals = changes.propose_links(policy, comparison)
    speed = comments["speed"].disposition
    definition = comments["definition"].disposition
    assert proposals[speed.id] == (6, "number")  # 原第四条 became 第六条
    assert proposals[definition.id] == (3, "similarity")
    assert comments["fine"].disposition.id not in proposals  # not adopted: nothing to link


def test_summary_counts_changes_and_those_after_comments(chain):
    _c, policy, approver, comments = chain
    services.link_answer(policy, comments["speed"].disposition, 6, actor=approver)
    services.link_answer(policy, comments["definition"].disposition, 3, actor=approver)
    comparison = changes.compare(policy)
    assert comparison.changed == 8 and comparison.after_comments == 2


def test_the_changes_page_shows_the_comparison_and_the_comments_behind_it(client, chain):
    _c, policy, approver, comments = chain
    services.link_answer(policy, comments["speed"].disposition, 6, actor=approver)
    db.session.flush()
    html = client.get(f"/policies/{policy.id}/changes").get_data(as_text=True)
    assert "修改 8 条，其中 1 条是根据公众意见修改的。" in html
    assert "<del>" in html and "<ins>" in html
    assert "（原第四条）" in html and "由原第三条拆出" in html and "由原第五条、第六条合并" in html
    assert comments["speed"].tracking_no in html and "时速二十五公里太快" in html
    assert comments["fine"].tracking_no not in html
    # The policy page says it too, and links here.
    page = client.get(f"/policies/{policy.id}").get_data(as_text=True)
    assert f'href="/policies/{policy.id}/changes"' in page


def test_the_receipt_of_an_adopted_comment_links_to_its_change(client, chain):
    _c, policy, approver, comments = chain
    services.link_answer(policy, comments["speed"].disposition, 6, actor=approver)
    db.session.flush()
    html = client.get(f"/receipts/{comments['speed'].tracking_no}").get_data(as_text=True)
    assert "您的意见促成了正式文件第六条的修改" in html
    assert f"/policies/{policy.id}/changes#article-6" in html
    other = client.get(f"/receipts/{comments['fine'].tracking_no}").get_data(as_text=True)
    assert "正式文件已出台" in other and "促成了" not in other


def test_staff_link_and_unlink_answers_on_the_policy_page(client_as, post_form, chain, make):
    _c, policy, approver, comments = chain
    client = client_as(approver)
    page = f"/staff/policies/{policy.id}"
    html = client.get(page).get_data(as_text=True)
    assert "建议（按条款编号）" in html and "建议（按文字相似）" in html
    speed = comments["speed"].disposition
    response = post_form(client, f"/staff/policies/{policy.id}/links",
                         {"disposition_id": speed.id, "article_number": 6}, page=page)
    assert response.status_code == 302
    assert [(x.disposition_id, x.article_number) for x in policy.answer_links] == [(speed.id, 6)]
    response = post_form(client, f"/staff/policies/{policy.id}/links",
                         {"disposition_id": speed.id, "article_number": 0}, page=page)
    assert response.status_code == 302
    db.session.refresh(policy)
    assert policy.answer_links == []
    # A not-adopted answer, an article that does not exist, another consultation's answer.
    fine = comments["fine"].disposition
    assert post_form(client, f"/staff/policies/{policy.id}/links",
                     {"disposition_id": fine.id, "article_number": 6}, page=page
                     ).status_code == 422
    assert post_form(client, f"/staff/policies/{policy.id}/links",
                     {"disposition_id": speed.id, "article_number": 99}, page=page
                     ).status_code == 422
    other = make.consultation("closed", unit=policy.unit)
    stranger = make.answer(make.comment(other, article=1), "adopted", None)
    assert post_form(client, f"/staff/policies/{policy.id}/links",
                     {"disposition_id": stranger.id, "article_number": 6}, page=page
                     ).status_code == 403
    assert policy.answer_links == []


def test_a_policy_without_a_consultation_has_no_comparison(client, make):
    unit = make.unit()
    approver = make.user("approver", unit)
    policy = services.create_standalone_policy(unit, services.PolicyInput(
        title="以往的办法", document_number="郑政〔2019〕3号", issued_on=date(2019, 3, 1),
        effective_on=None, text="第一条 内容。"), actor=approver)
    services.publish_policy(policy, actor=approver)
    assert changes.compare(policy) is None
    html = client.get(f"/policies/{policy.id}/changes").get_data(as_text=True)
    assert "无法逐条对照" in html
    assert db.session.get(Policy, policy.id).consultation is None


def test_the_report_links_an_adopted_answer_to_its_change(client, chain):
    c, policy, approver, comments = chain
    services.link_answer(policy, comments["speed"].disposition, 6, actor=approver)
    db.session.flush()
    html = client.get(f"/consultations/{c.id}/report").get_data(as_text=True)
    assert "促成了正式文件第六条的修改" in html
    assert f"/policies/{policy.id}/changes#article-6" in html
