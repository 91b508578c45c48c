"""A citizen comments on a draft, gets a receipt, and later reads the answer."""

import re

import pytest

from consult.answers.services import publish_report
from consult.comments.models import Comment, CommentStatus, HiddenReason
from consult.extensions import db

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def count_comments() -> int:
    return db.session.scalar(db.select(db.func.count(Comment.id)))


def comment_data(**kw):
    data = {"article": "", "body": "建议把办理时限由二十日缩短为十日。", "category": "individual",
            "region": "", "display_name": "", "email": "", "phone": "", "notify": "y"}
    data.update(kw)
    return data


@pytest.fixture
def open_c(make):
    return make.consultation("open")


def url(c):
    return f"/consultations/{c.id}/comment"


def test_a_citizen_comments_on_article_3_and_gets_a_receipt(client, post_form, open_c):
    form = client.get(f"{url(open_c)}?article=3").get_data(as_text=True)
    assert re.search(r'<option selected value="3">第三条', form) or \
        re.search(r'<option value="3" selected>第三条', form)
    assert "整体意见（不针对具体条款）" in form and "同意公开我的署名" in form
    response = post_form(client, url(open_c), comment_data(
        article="3", email="citizen@example.org", phone="13800138000",
        display_name="王五", region="金水区"))
    assert response.status_code == 303
    comment = db.session.scalar(db.select(Comment))
    assert response.headers["Location"].endswith(f"/receipts/{comment.tracking_no}")
    assert comment.article.number == 3 and comment.email == "citizen@example.org"
    assert comment.publish_name is False and comment.region == "金水区"

    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert comment.tracking_no in html and "建议把办理时限由二十日缩短为十日。" in html
    assert "第三条" in html and "答复待公布" in html
    assert "citizen@example.org" not in html and "13800138000" not in html
    assert "王五" not in html  # no consent to publish the name


THANKS = "您的意见已提交，感谢您的参与！"


def test_the_receipt_thanks_its_citizen_once_and_nobody_else(app, client, post_form, open_c):
    """The thank-you comes with the citizen's own receipt, once; without a session write."""
    response = post_form(client, url(open_c), comment_data())
    receipt = response.headers["Location"]
    cookies = response.headers.getlist("Set-Cookie")
    assert not any(c.startswith("session=") for c in cookies)  # the session is not written
    (note,) = [c for c in cookies if c.startswith("submitted=")]
    assert f"Path={receipt}" in note and "HttpOnly" in note and "Max-Age=600" in note
    first = client.get(receipt)
    assert THANKS in first.get_data(as_text=True)
    assert first.headers["Cache-Control"] == "no-store"
    assert "submitted=;" in first.headers["Set-Cookie"]  # cleared once shown
    assert THANKS not in client.get(receipt).get_data(as_text=True)
    # Anyone else who opens the receipt (the link shared) is not thanked.
    assert THANKS not in app.test_client().get(receipt).get_data(as_text=True)


def test_a_note_for_another_receipt_thanks_nobody(app, client, post_form, open_c):
    first = post_form(client, url(open_c), comment_data(body="第一条意见。"))
    second = post_form(client, url(open_c), comment_data(body="第二条意见。"))
    other = app.test_client()
    other.set_cookie("submitted", second.headers["Location"].rsplit("/", 1)[1],
                     path=first.headers["Location"])
    assert THANKS not in other.get(first.headers["Location"]).get_data(as_text=True)


def test_a_comment_on_the_whole_draft(client, post_form, open_c):
    response = post_form(client, url(open_c), comment_data(
        display_name="赵六", publish_name="y"))
    assert response.status_code == 303
    comment = db.session.scalar(db.select(Comment))
    assert comment.article is None and comment.public_name == "赵六"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "整体意见" in html and "赵六" in html


def test_a_double_submitted_form_makes_one_comment(client, open_c):
    form = client.get(url(open_c)).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)[1]
    nonce = re.search(r'name="nonce"[^>]*value="([^"]+)"', form)[1]
    data = comment_data(csrf_token=token, nonce=nonce)
    first = client.post(url(open_c), data=data)
    second = client.post(url(open_c), data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert count_comments() == 1
    client.post(url(open_c), data={**data, "body": "另一条不同的意见"})
    assert count_comments() == 2


@pytest.mark.parametrize("fields, message", [
    ({"article": "99"}, "所选条款不存在"),
    ({"article": "x"}, "所选条款不存在"),
    ({"body": "   "}, "请填写意见内容"),
    ({"body": "意" * 10001}, "不能超过 10000 字"),
    ({"category": "alien"}, "请选择您的身份"),
    ({"email": "not-an-email"}, "有效的电子邮箱"),
    ({"phone": "call me"}, "联系电话只能包含"),
    ({"region": "区" * 101}, "所在地区不能超过"),
    ({"body": "建议\x00修改"}, "意见内容含有无法保存的字符"),
    ({"display_name": "张\x00"}, "含有无法保存的字符"),
])
def test_bad_input_is_refused_with_422_and_nothing_saved(client, post_form, open_c, fields,
                                                        message):
    response = post_form(client, url(open_c), comment_data(**fields))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count_comments() == 0


def test_a_refused_form_keeps_what_was_written_and_says_what_is_wrong(client, post_form,
                                                                    open_c):
    """Several fields at fault: each says so beside it, the summary above, the text kept."""
    response = post_form(client, url(open_c), comment_data(
        body="建议把办理时限缩短。", phone="call me", region="区" * 101, email="x@", notify=""))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "提交的内容有误，请检查后重试。" in page
    for message in ("联系电话只能包含", "所在地区不能超过", "有效的电子邮箱"):
        assert message in page
    assert "建议把办理时限缩短。</textarea>" in page and 'value="call me"' in page
    assert count_comments() == 0


def test_the_form_and_the_api_refuse_alike(client, post_form, open_c):
    """One set of rules for every channel (consult/comments/checks.py), in the same words."""
    form = post_form(client, url(open_c), comment_data(region="区" * 101))
    api = client.post(f"/api/v1/consultations/{open_c.id}/comments",
                      json={"body": "建议。", "category": "individual", "region": "区" * 101})
    assert form.status_code == api.status_code == 422
    message = api.json["error"]["fields"]["region"]
    assert message == "所在地区不能超过 100 字。" and message in form.get_data(as_text=True)


def test_a_body_of_exactly_the_limit_is_accepted(client, post_form, open_c):
    response = post_form(client, url(open_c), comment_data(body="意" * 10000))
    assert response.status_code == 303


def test_a_rejected_form_keeps_what_was_typed(client, post_form, open_c):
    response = post_form(client, url(open_c), comment_data(article="99", body=HOSTILE))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and ESCAPED in html and HOSTILE not in html
    assert 'aria-invalid="true"' in html


@pytest.mark.parametrize("state", ["closed", "scheduled", "withdrawn", "report_published"])
def test_the_form_is_refused_outside_the_window(client, make, state):
    c = make.consultation(state)
    response = client.get(url(c))
    assert response.status_code == 409
    assert c.title in response.get_data(as_text=True)


def test_posting_after_the_window_closed_is_409(client, post_form, make, travel):
    from datetime import timedelta

    from consult import clock

    c = make.consultation("open")
    form = client.get(url(c)).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)[1]
    travel(c.closes_at + timedelta(seconds=1))
    assert clock.now() > c.closes_at
    response = client.post(url(c), data=comment_data(csrf_token=token))
    assert response.status_code == 409
    assert "已结束" in response.get_data(as_text=True)
    assert count_comments() == 0


@pytest.mark.parametrize("state", ["draft", "pending_approval"])
def test_drafts_cannot_be_commented(client, make, state):
    assert client.get(url(make.consultation(state))).status_code == 404


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_missing_or_forged_csrf_token_is_400(client, open_c, token):
    data = comment_data()
    if token:
        data["csrf_token"] = token
    response = client.post(url(open_c), data=data)
    assert response.status_code == 400
    assert count_comments() == 0


def test_another_browsers_token_is_400_and_the_form_carries_one_token(app, client, open_c):
    other = app.test_client()
    page = other.get(url(open_c)).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    client.get(url(open_c))  # a session of its own, whose token is another
    response = client.post(url(open_c), data={**comment_data(), "csrf_token": token})
    assert response.status_code == 400 and count_comments() == 0
    assert page.count('name="csrf_token"') == 1


def test_hostile_html_is_shown_escaped_on_the_receipt(client, post_form, open_c):
    response = post_form(client, url(open_c), comment_data(body=HOSTILE))
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ESCAPED in html and HOSTILE not in html


def test_personal_data_in_the_text_is_masked_on_the_receipt(client, make, open_c):
    comment = make.comment(open_c, body="请联系我 13800138000 或 me@example.org")
    html = client.get(f"/receipts/{comment.tracking_no}").get_data(as_text=True)
    assert "13800138000" not in html and "me@example.org" not in html
    assert "个人信息已隐去" in html


def test_a_hidden_comment_shows_the_reason_not_the_text(client, make, open_c):
    comment = make.comment(open_c, body="广告内容", status=CommentStatus.HIDDEN,
                           hidden_reason=HiddenReason.SPAM)
    html = client.get(f"/receipts/{comment.tracking_no}").get_data(as_text=True)
    assert "广告内容" not in html and "广告或垃圾信息" in html and "不予公开" in html


def test_the_receipt_shows_the_answer_once_the_report_is_published(client, make):
    c = make.consultation("closed")
    comment = make.comment(c, article=3, email="a@example.org")
    make.answer(comment, "partly_adopted", "部分内容已吸收到第五条。")
    receipt = f"/receipts/{comment.tracking_no}"
    assert "部分内容已吸收到第五条。" not in client.get(receipt).get_data(as_text=True)
    publish_report(c, summary="总结", actor=make.user("approver", c.unit))
    html = client.get(receipt).get_data(as_text=True)
    assert "部分采纳" in html and "部分内容已吸收到第五条。" in html
    assert f"/consultations/{c.id}/report" in html and "a@example.org" not in html


@pytest.mark.parametrize("typed", [
    lambda no: no.lower(), lambda no: no.replace("-", ""), lambda no: f" {no} ",
])
def test_receipts_accept_lowercase_and_missing_hyphens(client, make, open_c, typed):
    comment = make.comment(open_c)
    assert client.get(f"/receipts/{typed(comment.tracking_no).strip()}").status_code == 200
    response = client.get("/receipts", query_string={"tracking_no": typed(comment.tracking_no)})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/receipts/{comment.tracking_no}")


def test_unknown_tracking_numbers_are_404(client, make, open_c):
    comment = make.comment(open_c)
    wrong = comment.tracking_no[:-1] + ("2" if comment.tracking_no[-1] != "2" else "3")
    response = client.get(f"/receipts/{wrong}")
    assert response.status_code == 404 and "没有找到该意见编号" in response.get_data(as_text=True)
    response = client.get("/receipts", query_string={"tracking_no": "ABCD-EFGH-JKMN"})
    assert response.status_code == 404 and "没有找到该意见编号" in response.get_data(as_text=True)


def test_lookup_page(client):
    response = client.get("/receipts")
    assert response.status_code == 200 and 'name="tracking_no"' in response.get_data(as_text=True)
    assert client.get("/receipts?tracking_no=").status_code == 422
