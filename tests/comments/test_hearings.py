"""Hearings and symposiums (F11b): a notice published before, the participant list, the record
published after, and the comments made there recorded like any other comment."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from consult import audit, clock
from consult.comments.models import Category, Channel, Comment
from consult.comments.services import CommentInput, record_comment
from consult.errors import Conflict, InvalidTransition, ValidationFailed
from consult.extensions import db
from consult.hearings import services
from consult.hearings.models import Hearing, HearingKind, HearingParticipant
from tests.conftest import csrf_from, table_counts

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def open_c(make, unit):
    return make.consultation("open", unit=unit, title="供水价格调整方案")


def new_hearing(consultation, actor, *, days=3, **kw) -> Hearing:
    data = services.HearingInput(
        kind=kw.pop("kind", HearingKind.HEARING), title=kw.pop("title", "供水价格调整听证会"),
        held_at=clock.now() + timedelta(days=days), place=kw.pop("place", "市政府第三会议室"),
        notice=kw.pop("notice", "定于近期举行听证会，欢迎市民报名旁听。"),
    )
    hearing = services.create_hearing(consultation, data, actor=actor)
    db.session.flush()
    return hearing


def hearing_form(**kw) -> dict:
    held = clock.local(clock.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    data = {"kind": "hearing", "title": "供水价格调整听证会", "held_at": held,
            "place": "市政府第三会议室", "notice": "听证会公告：欢迎市民报名。"}
    data.update(kw)
    return data


def token(client) -> str:
    return csrf_from(client.get("/staff").get_data(as_text=True))


def test_a_hearing_is_announced_held_recorded_and_shown_publicly(
        client, client_as, post_form, editor, open_c, travel):
    staff = client_as(editor)
    response = post_form(staff, f"/staff/consultations/{open_c.id}/hearings/new", hearing_form())
    assert response.status_code == 302
    hearing = db.session.scalar(db.select(Hearing))
    assert hearing.kind == HearingKind.HEARING and hearing.published_at is None
    assert clock.local(hearing.held_at).strftime("%Y-%m-%dT%H:%M") == hearing_form()["held_at"]
    detail = f"/staff/hearings/{hearing.id}"
    assert response.headers["Location"].endswith(detail)

    t = token(staff)
    for name, affiliation, category in [("张三", "市民代表", "individual"),
                                        ("李四", "某水务公司", "enterprise"),
                                        ("王教授", "某大学", "expert")]:
        response = staff.post(f"{detail}/participants", data={
            "csrf_token": t, "name": name, "affiliation": affiliation, "category": category})
        assert response.status_code == 302
    assert [p.name for p in hearing.participants] == ["张三", "李四", "王教授"]

    # Nothing is public before the notice is published.
    public = client.get(f"/consultations/{open_c.id}").get_data(as_text=True)
    assert "供水价格调整听证会" not in public

    assert staff.post(f"{detail}/publish", data={"csrf_token": t}).status_code == 302
    assert hearing.published_at is not None
    public = client.get(f"/consultations/{open_c.id}").get_data(as_text=True)
    section = public.split('id="hearings"')[1]
    assert "听证会/座谈会" in public and "供水价格调整听证会" in section
    assert "市政府第三会议室" in section and "听证会公告：欢迎市民报名。" in section
    assert clock.local(hearing.held_at).strftime("%Y-%m-%d %H:%M") in section
    assert "张三" in section and "某水务公司" in section and "专家学者" in section
    assert "会议记录" not in section.split("</section>")[0].split("参加人")[1]

    # The record is written, then published after the hearing.
    response = staff.post(f"{detail}/record", data={"csrf_token": t,
                                                    "record": "与会代表一致认为应分档计价。"})
    assert response.status_code == 302
    assert "与会代表一致认为" not in client.get(f"/consultations/{open_c.id}").get_data(
        as_text=True)
    assert staff.post(f"{detail}/record/publish", data={"csrf_token": t}).status_code == 409
    travel(hearing.held_at + timedelta(hours=3))
    assert staff.post(f"{detail}/record/publish", data={"csrf_token": t}).status_code == 302
    public = client.get(f"/consultations/{open_c.id}").get_data(as_text=True)
    assert "与会代表一致认为应分档计价。" in public

    # What was said there is recorded like any comment, linked to the hearing.
    page = staff.get(f"/staff/consultations/{open_c.id}/comments/record?hearing={hearing.id}")
    assert f'<option selected value="{hearing.id}">' in page.get_data(as_text=True) or \
        f'<option value="{hearing.id}" selected>' in page.get_data(as_text=True)
    response = post_form(staff, f"/staff/consultations/{open_c.id}/comments/record", {
        "channel": "hearing", "hearing": str(hearing.id),
        "received_on": clock.local_date(hearing.held_at).isoformat(), "article": "",
        "category": "expert", "display_name": "王教授", "publish_name": "y",
        "body": "建议对低收入家庭减免基本水费。"})
    assert response.status_code == 302
    comment = db.session.scalar(db.select(Comment))
    assert comment.channel == Channel.HEARING and comment.hearing_id == hearing.id
    assert comment.public_name == "王教授"
    assert comment.tracking_no in staff.get(detail).get_data(as_text=True)
    actions = [e.action for e in audit.events_for(hearing)]
    assert actions[0] == "create_hearing" and "publish_hearing_record" in actions


def test_a_symposium_comment_takes_its_channel_from_the_meeting(editor, open_c):
    symposium = new_hearing(open_c, editor, kind=HearingKind.SYMPOSIUM, title="企业座谈会")
    comment = record_comment(open_c, CommentInput(body="企业意见", category=Category.ENTERPRISE),
                             Channel.LETTER, clock.today(), actor=editor, hearing=symposium)
    assert comment.channel == Channel.SYMPOSIUM and comment.hearing is symposium


def test_a_hearing_of_another_consultation_cannot_be_linked(make, unit, editor, open_c):
    other = new_hearing(make.consultation("open", unit=unit), editor)
    with pytest.raises(ValidationFailed):
        record_comment(open_c, CommentInput(body="x", category=Category.OTHER), Channel.HEARING,
                       clock.today(), actor=editor, hearing=other)


def test_the_notice_of_a_draft_consultation_cannot_be_published(make, unit, editor):
    hearing = new_hearing(make.consultation("draft", unit=unit), editor)
    with pytest.raises(InvalidTransition):
        services.publish_notice(hearing, actor=editor)
    assert hearing.published_at is None


def test_a_published_record_is_final(editor, open_c, travel):
    hearing = new_hearing(open_c, editor, days=1)
    participant = services.add_participant(hearing, name="甲", affiliation=None,
                                           category=Category.INDIVIDUAL, actor=editor)
    services.publish_notice(hearing, actor=editor)
    with pytest.raises(InvalidTransition):
        services.publish_notice(hearing, actor=editor)
    travel(hearing.held_at + timedelta(hours=1))
    with pytest.raises(ValidationFailed):
        services.publish_record(hearing, actor=editor)  # nothing written yet
    services.save_record(hearing, "记录", actor=editor)
    services.publish_record(hearing, actor=editor)
    for change in (
        lambda: services.save_record(hearing, "改写", actor=editor),
        lambda: services.remove_participant(participant, actor=editor),
        lambda: services.add_participant(hearing, name="乙", affiliation=None,
                                         category=Category.OTHER, actor=editor),
        lambda: services.update_hearing(hearing, services.HearingInput(
            kind=HearingKind.HEARING, title="新", held_at=clock.now(), place="新"), actor=editor),
    ):
        with pytest.raises(Conflict):
            change()
    assert hearing.record == "记录" and [p.name for p in hearing.participants] == ["甲"]


def test_a_participant_can_be_removed_before_the_record(client_as, editor, open_c):
    hearing = new_hearing(open_c, editor)
    participant = services.add_participant(hearing, name="写错的名字", affiliation=None,
                                           category=Category.OTHER, actor=editor)
    db.session.flush()
    staff = client_as(editor)
    response = staff.post(
        f"/staff/hearings/{hearing.id}/participants/{participant.id}/remove",
        data={"csrf_token": token(staff)})
    assert response.status_code == 302
    assert hearing.participants == []
    assert db.session.get(HearingParticipant, participant.id) is None
    # The audit log names the participant by id only (no personal data in it).
    assert audit.events_for(hearing)[-1].detail == {"participant_id": participant.id}


def test_the_notice_and_record_pdfs_are_public_once_published(client, client_as, editor, open_c):
    hearing = new_hearing(open_c, editor)
    staff = client_as(editor)
    response = staff.post(f"/staff/hearings/{hearing.id}/files", data={
        "csrf_token": token(staff), "role": "notice", "file": (io.BytesIO(PDF), "公告.pdf")})
    assert response.status_code == 302
    notice = hearing.notice_file
    url = f"/hearings/{hearing.id}/files/{notice.id}"
    assert client.get(url).status_code == 404  # not yet published
    preview = staff.get(url)
    assert preview.status_code == 200
    preview.close()
    services.publish_notice(hearing, actor=editor)
    download = client.get(url)
    assert download.status_code == 200 and download.data == PDF
    download.close()
    assert url in client.get(f"/consultations/{open_c.id}").get_data(as_text=True)

    response = staff.post(f"/staff/hearings/{hearing.id}/files", data={
        "csrf_token": token(staff), "role": "record",
        "file": (io.BytesIO(b"PK\x03\x04 not really"), "记录.pdf")})
    assert response.status_code == 422
    assert hearing.record_file is None


def test_hostile_html_is_escaped_on_the_public_page(client, editor, open_c):
    hearing = new_hearing(open_c, editor, title=HOSTILE, place=HOSTILE, notice=HOSTILE)
    services.add_participant(hearing, name=HOSTILE, affiliation=HOSTILE,
                             category=Category.OTHER, actor=editor)
    services.publish_notice(hearing, actor=editor)
    html = client.get(f"/consultations/{open_c.id}").get_data(as_text=True)
    assert HOSTILE not in html and ESCAPED in html


@pytest.mark.parametrize("field, value, message", [
    ("title", "", "请填写会议名称"),
    ("place", " ", "请填写举行地点"),
    ("held_at", "明天下午", "不是有效的日期与时间值"),
    ("held_at", "", "请填写有效的举行时间"),
    ("kind", "party", "请选择会议类型"),
    ("title", "长" * 301, "300"),
])
def test_bad_hearing_input_is_shown_on_the_form(client_as, post_form, editor, open_c, field,
                                                value, message):
    response = post_form(client_as(editor), f"/staff/consultations/{open_c.id}/hearings/new",
                         hearing_form(**{field: value}))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Hearing.id))) == 0


def test_a_hearing_is_edited(client_as, post_form, editor, open_c):
    hearing = new_hearing(open_c, editor)
    staff = client_as(editor)
    form = staff.get(f"/staff/hearings/{hearing.id}/edit").get_data(as_text=True)
    assert "市政府第三会议室" in form
    response = post_form(staff, f"/staff/hearings/{hearing.id}/edit",
                         hearing_form(place="市民之家二楼"))
    assert response.status_code == 302
    assert hearing.place == "市民之家二楼"


def test_no_hearing_after_the_report_or_on_a_withdrawn_consultation(make, unit, editor):
    withdrawn = make.consultation("withdrawn", unit=unit)
    with pytest.raises(Conflict):
        new_hearing(withdrawn, editor)


def test_staff_of_another_unit_get_403_on_every_hearing_route(client_as, make, editor, open_c):
    hearing = new_hearing(open_c, editor)
    participant = services.add_participant(hearing, name="甲", affiliation=None,
                                           category=Category.OTHER, actor=editor)
    db.session.flush()
    stranger = client_as(make.user("approver", make.unit("其他单位")))
    t = token(stranger)
    rows = table_counts()
    h = f"/staff/hearings/{hearing.id}"
    routes = [
        ("GET", f"/staff/consultations/{open_c.id}/hearings"),
        ("GET", f"/staff/consultations/{open_c.id}/hearings/new"),
        ("POST", f"/staff/consultations/{open_c.id}/hearings/new"),
        ("GET", h), ("GET", f"{h}/edit"), ("POST", f"{h}/edit"), ("POST", f"{h}/publish"),
        ("POST", f"{h}/participants"), ("POST", f"{h}/participants/{participant.id}/remove"),
        ("POST", f"{h}/record"), ("POST", f"{h}/record/publish"), ("POST", f"{h}/files"),
    ]
    for method, url in routes:
        response = stranger.open(url, method=method, data={"csrf_token": t, **hearing_form()})
        assert response.status_code == 403, (method, url)
    assert hearing.published_at is None and len(hearing.participants) == 1
    assert table_counts() == rows



def test_a_forged_csrf_token_is_refused(client_as, editor, open_c):
    hearing = new_hearing(open_c, editor)
    response = client_as(editor).post(f"/staff/hearings/{hearing.id}/publish",
                                      data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert hearing.published_at is None


def test_unknown_hearings_are_404(client, client_as, editor):
    assert client_as(editor).get("/staff/hearings/999999").status_code == 404
    assert client.get("/hearings/999999/files/1").status_code == 404


def test_the_demo_shows_a_hearing_with_participants_record_and_linked_comments(client):
    from consult.demo import load_demo

    load_demo()
    hearing = db.session.scalar(db.select(Hearing).where(Hearing.kind == HearingKind.HEARING))
    assert hearing.record_published_at and len(hearing.participants) == 5
    assert [c.channel for c in hearing.comments] == [Channel.HEARING]
    html = client.get(f"/consultations/{hearing.consultation_id}").get_data(as_text=True)
    assert hearing.title in html and "王秀兰" in html and "会上提出的意见已逐条登记" in html
    symposiums = db.session.scalars(
        db.select(Hearing).where(Hearing.kind == HearingKind.SYMPOSIUM)).all()
    assert len(symposiums) == 2 and all(len(s.comments) == 1 for s in symposiums)
    assert load_demo()["consultations"] == 0
    assert db.session.scalar(db.select(db.func.count(Hearing.id))) == 3
