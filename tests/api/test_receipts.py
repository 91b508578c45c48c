"""GET /api/v1/receipts/<tracking_no>: a commenter follows their comment, contact data unseen."""

import pytest

from consult.answers.services import publish_report
from consult.comments.masking import MARK
from consult.comments.models import CommentStatus, HiddenReason
from consult.comments.tracking import new_tracking_no

EMAIL = "zhao.private@example.org"
PHONE = "13655556666"


def url(tracking_no):
    return f"/api/v1/receipts/{tracking_no}"


def test_receipt_shape(client, make):
    c = make.consultation("open", title="城市绿化条例（征求意见稿）")
    comment = make.comment(c, article=3, body="建议增加绿地，电话 13800138000。", email=EMAIL,
                           phone=PHONE, display_name="赵七", region="东城区")
    response = client.get(url(comment.tracking_no))
    assert response.status_code == 200
    assert response.cache_control.no_store
    data = response.json
    assert {"tracking_no", "consultation", "article", "article_label", "status", "hidden_reason",
            "text", "created_at", "answer"} <= set(data)
    assert data["tracking_no"] == comment.tracking_no
    assert data["consultation"] == {"id": c.id, "title": "城市绿化条例（征求意见稿）",
                                    "url": f"http://consult.test/consultations/{c.id}"}
    assert (data["article"], data["article_label"]) == (3, "第三条")
    assert data["status"] == "published"
    assert data["hidden_reason"] is None
    assert data["text"] == f"建议增加绿地，电话 {MARK}。"
    assert data["created_at"].endswith("+08:00")
    assert data["answer"] is None
    raw = response.get_data(as_text=True)
    for secret in (EMAIL, PHONE, "赵七", "13800138000"):
        assert secret not in raw


def test_the_name_is_shown_only_with_consent(client, make):
    c = make.consultation("open")
    comment = make.comment(c, display_name="钱八", publish_name=True)
    assert client.get(url(comment.tracking_no)).json["name"] == "钱八"


def test_a_comment_on_the_whole_draft(client, make):
    comment = make.comment(make.consultation("open"))
    data = client.get(url(comment.tracking_no)).json
    assert (data["article"], data["article_label"]) == (None, None)


def test_a_typed_tracking_number_is_normalised(client, make):
    comment = make.comment(make.consultation("open"))
    typed = comment.tracking_no.replace("-", "").lower()
    response = client.get(url(typed))
    assert response.status_code == 200
    assert response.json["tracking_no"] == comment.tracking_no


@pytest.mark.parametrize("value", ["nothing", "ZX26-7K3M-9QX", "ZX26-7K3M-9QXDD", "0OIL-0OIL-0OIL"])
def test_malformed_tracking_number_is_404(client, value):
    response = client.get(url(value))
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_unknown_tracking_number_is_404(client, make):
    make.comment(make.consultation("open"))
    response = client.get(url(new_tracking_no()))  # well-formed, check character right
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_a_hidden_comment_shows_why_but_not_its_text(client, make):
    comment = make.comment(make.consultation("open"), body="<b>辱骂内容</b>",
                           status=CommentStatus.HIDDEN, hidden_reason=HiddenReason.ABUSIVE)
    data = client.get(url(comment.tracking_no)).json
    assert data["status"] == "hidden"
    assert data["hidden_reason"] == "abusive"
    assert data["text"] is None
    assert "辱骂内容" not in client.get(url(comment.tracking_no)).get_data(as_text=True)


@pytest.mark.parametrize("status", ["unverified", "pending_moderation"])
def test_an_unfinished_comment_shows_its_state(client, make, status):
    comment = make.comment(make.consultation("open"), status=CommentStatus(status))
    data = client.get(url(comment.tracking_no)).json
    assert data["status"] == status
    assert data["answer"] is None


def test_the_answer_shows_once_the_report_is_published(client, make, session):
    c = make.consultation("closed")
    comment = make.comment(c, article=3)
    hidden = make.comment(c, status=CommentStatus.HIDDEN, hidden_reason=HiddenReason.SPAM)
    make.answer(comment, "not_adopted", "与上位法规定不一致。")
    session.commit()
    assert client.get(url(comment.tracking_no)).json["answer"] is None

    publish_report(c, summary="报告", actor=make.user("approver", c.unit))
    session.commit()
    assert client.get(url(comment.tracking_no)).json["answer"] == {
        "disposition": "not_adopted", "reason": "与上位法规定不一致。"}
    assert client.get(url(hidden.tracking_no)).json["answer"] is None


def test_a_comment_posted_through_the_api_has_a_receipt(client, make):
    c = make.consultation("open")
    posted = client.post(f"/api/v1/consultations/{c.id}/comments", json={
        "body": "第三条建议细化。", "article": 3, "category": "individual", "email": EMAIL,
        "phone": PHONE, "display_name": "孙九"})
    assert posted.status_code == 201
    response = client.get(url(posted.json["tracking_no"]))
    data = response.json
    assert (data["article"], data["text"], data["status"]) == (3, "第三条建议细化。", "published")
    raw = response.get_data(as_text=True)
    assert EMAIL not in raw and PHONE not in raw and "孙九" not in raw
