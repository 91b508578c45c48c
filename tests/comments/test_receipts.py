"""The receipt says what became of a comment, in every state, and never shows contact data (F7)."""

import pytest

from consult.comments.masking import MARK
from consult.comments.models import HIDDEN_REASON_LABELS, CommentStatus, HiddenReason

EMAIL = "receipt.private@example.org"
PHONE = "13912340000"


@pytest.fixture
def open_c(make):
    return make.consultation("open")


@pytest.mark.parametrize("status, says", [
    (CommentStatus.SUBMITTED, "正在登记处理"),
    (CommentStatus.UNVERIFIED, "请点击确认邮件中的链接验证您的意见"),
    (CommentStatus.PENDING_MODERATION, "正在审核，审核通过后公开"),
    (CommentStatus.PUBLISHED, "您的意见已公开"),
    (CommentStatus.HIDDEN, "您的意见不予公开，原因：广告或垃圾信息"),
])
def test_every_state_is_explained_on_the_page_and_in_the_api(client, make, open_c, status,
                                                              says):
    hidden = status == CommentStatus.HIDDEN
    comment = make.comment(open_c, body="建议延长期限。", status=status, email=EMAIL,
                           phone=PHONE, hidden_reason=HiddenReason.SPAM if hidden else None)
    page = client.get(f"/receipts/{comment.tracking_no}").get_data(as_text=True)
    assert says in page
    data = client.get(f"/api/v1/receipts/{comment.tracking_no}").json
    assert data["status"] == status.value and says in data["status_text"]
    assert data["hidden_reason"] == ("spam" if hidden else None)
    for shown in (page, str(data)):
        assert EMAIL not in shown and PHONE not in shown
    if hidden:
        assert "建议延长期限" not in page and data["text"] is None


@pytest.mark.parametrize("reason", list(HiddenReason))
def test_the_reason_of_a_hidden_comment_is_named(client, make, open_c, reason):
    comment = make.comment(open_c, status=CommentStatus.HIDDEN, hidden_reason=reason)
    page = client.get(f"/receipts/{comment.tracking_no}").get_data(as_text=True)
    assert str(HIDDEN_REASON_LABELS[reason]) in page
    assert "仍计入意见采纳情况的统计" in page


def test_a_hidden_comment_without_a_recorded_reason_says_other(client, make, open_c):
    comment = make.comment(open_c, status=CommentStatus.HIDDEN)
    data = client.get(f"/api/v1/receipts/{comment.tracking_no}").json
    assert data["hidden_reason"] == "other" and "其他原因" in data["status_text"]


def test_a_phone_number_in_the_name_or_region_is_masked_wherever_shown(client, make, open_c):
    comment = make.comment(open_c, body="手机13800138000", display_name=f"张先生{PHONE}",
                           publish_name=True, region="金水区 410105198501011235")
    pages = [
        client.get(f"/receipts/{comment.tracking_no}").get_data(as_text=True),
        client.get(f"/consultations/{open_c.id}").get_data(as_text=True),
        client.get(f"/api/v1/consultations/{open_c.id}/comments").get_data(as_text=True),
        client.get(f"/api/v1/receipts/{comment.tracking_no}").get_data(as_text=True),
    ]
    for page in pages:
        assert PHONE not in page and "13800138000" not in page
        assert "410105198501011235" not in page
        assert f"张先生{MARK}" in page
    assert f"金水区 {MARK}" in pages[1] and f"金水区 {MARK}" in pages[2]
    # Staff keep what was written.
    assert comment.display_name == f"张先生{PHONE}" and comment.body == "手机13800138000"


def test_a_name_without_consent_is_not_shown_even_masked(client, make, open_c):
    comment = make.comment(open_c, display_name="李四", publish_name=False)
    assert comment.public_name is None
    page = client.get(f"/receipts/{comment.tracking_no}").get_data(as_text=True)
    assert "李四" not in page
