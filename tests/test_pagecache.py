"""The cache of public pages (consult/pagecache.py): served to anonymous readers, never stale
after a write, never past the clock, never one visitor's token, message or login for another."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from consult import clock, pagecache
from consult.answers.models import DispositionCode
from consult.answers.services import answer_comment, publish_report
from consult.comments.moderation import hide_comment
from consult.comments.privacy import erase_comments
from consult.consultations import services, versions
from consult.extensions import db
from consult.policies import services as policies
from tests.conftest import csrf_from


@pytest.fixture(autouse=True)
def _empty_cache(app):
    pagecache.cache.clear()


def get(app, url, **kwargs):
    """A GET by a new anonymous visitor (no cookies)."""
    return app.test_client().get(url, **kwargs)


def html(app, url) -> str:
    response = get(app, url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def cached(app, url) -> str:
    """The page, after making sure the cache holds it (a second reader is a hit)."""
    get(app, url)
    response = get(app, url)
    assert response.headers["X-Page-Cache"] == "hit"
    return response.get_data(as_text=True)


@pytest.fixture
def c(make, unit):
    return make.consultation("open", unit=unit, title="城市供水管理办法（征求意见稿）")


# --- served from the cache ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/consultations", "/consultations?status=all",
                                  "/consultations/{id}"])
def test_a_second_anonymous_reader_gets_the_stored_page(app, c, path):
    url = path.format(id=c.id)
    first, second = get(app, url), get(app, url)
    assert (first.headers["X-Page-Cache"], second.headers["X-Page-Cache"]) == ("miss", "hit")
    assert first.get_data(as_text=True).replace(csrf(first), "") == \
        second.get_data(as_text=True).replace(csrf(second), "")
    assert "Cookie" in second.headers["Vary"]


def csrf(response) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    return match.group(1) if match else "\x00"


def test_each_language_has_its_own_page(app, c):
    get(app, f"/consultations/{c.id}")
    english = get(app, f"/consultations/{c.id}?lang=en")
    assert english.headers["X-Page-Cache"] == "miss" and 'lang="en"' in english.get_data(True)
    assert 'lang="zh-Hans"' in html(app, f"/consultations/{c.id}")


def test_the_language_kept_in_the_session_picks_the_page(app, c):
    reader = app.test_client()
    reader.get(f"/consultations/{c.id}?lang=zh_Hant")
    again = reader.get(f"/consultations/{c.id}")  # the session remembers zh_Hant
    assert 'lang="zh-Hant"' in again.get_data(as_text=True)
    assert 'lang="zh-Hans"' in html(app, f"/consultations/{c.id}")


def test_query_parameters_the_page_does_not_read_share_its_entry(app, c):
    get(app, f"/consultations/{c.id}")
    assert get(app, f"/consultations/{c.id}?utm_source=news&x=1").headers["X-Page-Cache"] == "hit"
    assert get(app, f"/consultations/{c.id}?page=2").headers["X-Page-Cache"] == "miss"


def test_errors_are_not_stored(app, make):
    draft = make.consultation("draft")
    for _ in range(2):
        response = get(app, f"/consultations/{draft.id}")
        assert response.status_code == 404 and "X-Page-Cache" not in response.headers
    assert get(app, "/consultations?status=nonsense").status_code == 400


# --- per-visitor parts -------------------------------------------------------------------------


def test_two_visitors_of_a_stored_page_get_their_own_tokens_and_both_work(app, c):
    url = f"/consultations/{c.id}"
    first, second = app.test_client(), app.test_client()
    one, two = first.get(url), second.get(url)
    assert two.headers["X-Page-Cache"] == "hit"
    assert csrf(one) != csrf(two)
    assert pagecache._placeholder() not in one.get_data(as_text=True) + two.get_data(True)
    for reader, page in ((first, one), (second, two)):
        response = reader.post(f"/consultations/{c.id}/subscribe",
                               data={"csrf_token": csrf(page), "email": "reader@example.org"})
        assert response.status_code == 302
    # A token is its own session's: the first visitor's token does not work for a third.
    third = app.test_client()
    response = third.post(f"/consultations/{c.id}/subscribe",
                          data={"csrf_token": csrf(one), "email": "x@example.org"})
    assert response.status_code == 400


def test_a_page_with_a_visitors_token_is_private(app, c):
    response = get(app, f"/consultations/{c.id}")
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert "ETag" not in response.headers
    assert "session=" in response.headers["Set-Cookie"]  # the visitor's own session


def test_a_page_without_a_form_is_public_for_a_short_while(app, c):
    response = get(app, "/consultations")
    control = response.cache_control
    assert control.public and control.max_age == 0
    assert 0 < control.s_maxage <= app.config["PAGE_CACHE_PROXY_SECONDS"]
    assert "Set-Cookie" not in response.headers  # so nginx may keep it
    again = get(app, "/consultations", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_tokens_placeholder_cannot_be_guessed_by_a_commenter(app):
    """A commenter who wrote the placeholder into a comment would see a reader's token there:
    it is derived from the secret key, so nobody outside can write it."""
    with app.test_request_context():
        mine = pagecache._placeholder()
        app.config["SECRET_KEY"], secret = "another-secret", app.config["SECRET_KEY"]
        try:
            assert pagecache._placeholder() != mine
        finally:
            app.config["SECRET_KEY"] = secret


def test_a_signed_in_staff_member_never_gets_or_makes_a_stored_page(app, client_as, editor, c):
    staff = client_as(editor)
    for _ in range(2):
        response = staff.get(f"/consultations/{c.id}")
        assert "X-Page-Cache" not in response.headers
        assert response.headers["Cache-Control"] == "private, no-cache"
        assert "退出" in response.get_data(as_text=True)  # the staff's own header
    anonymous = get(app, f"/consultations/{c.id}")
    assert anonymous.headers["X-Page-Cache"] == "miss"
    assert "退出" not in anonymous.get_data(as_text=True)
    get(app, f"/consultations/{c.id}")
    assert "X-Page-Cache" not in staff.get(f"/consultations/{c.id}").headers


def test_a_signed_in_citizen_is_not_served_a_stored_page(app, make, c, post_form):
    from tests.conftest import sign_in

    citizen = make.citizen("reader@example.org")
    reader = app.test_client()
    sign_in(reader, post_form, citizen)
    get(app, f"/consultations/{c.id}")
    response = reader.get(f"/consultations/{c.id}")
    assert "X-Page-Cache" not in response.headers
    assert "我的意见" in response.get_data(as_text=True)


def test_a_flashed_message_is_shown_to_its_visitor_and_never_stored(app, c):
    url = f"/consultations/{c.id}"
    get(app, url)  # stored
    reader = app.test_client()
    token = csrf(reader.get(url))
    reader.post(f"{url}/subscribe", data={"csrf_token": token, "email": "me@example.org"})
    mine = reader.get(url)
    assert "X-Page-Cache" not in mine.headers and "确认邮件已发送" in mine.get_data(True)
    others = get(app, url)
    assert others.headers["X-Page-Cache"] == "hit" and "确认邮件已发送" not in others.get_data(True)


# --- never stale after a write -----------------------------------------------------------------


def test_a_comment_accepted_shows_on_the_next_get(app, c):
    url = f"/consultations/{c.id}"
    assert "已收到意见 0 条" in cached(app, url)
    listing = cached(app, "/consultations")
    citizen = app.test_client()
    token = csrf_from(citizen.get(f"{url}/comment").get_data(as_text=True))
    response = citizen.post(f"{url}/comment", data={
        "csrf_token": token, "body": "建议延长过渡期。", "category": "individual"})
    assert response.status_code == 303
    page = html(app, url)
    assert "已收到意见 1 条" in page and "建议延长过渡期。" in page
    assert html(app, "/consultations") != listing


def test_moderation_shows_on_the_next_get(app, make, editor, c):
    comment = make.comment(c, body="一条将被隐藏的意见")
    db.session.commit()
    assert "一条将被隐藏的意见" in cached(app, f"/consultations/{c.id}")
    hide_comment(comment, "spam", None, actor=editor)
    db.session.commit()
    assert "一条将被隐藏的意见" not in html(app, f"/consultations/{c.id}")


@pytest.fixture
def reported(make, unit, approver):
    closed = make.consultation("closed", unit=unit)
    comment = make.comment(closed, body="请明确收费标准。")
    answer_comment(comment, DispositionCode.NOT_ADOPTED, "已有规定。", actor=approver)
    publish_report(closed, summary="第一版总结", actor=approver)
    db.session.commit()
    return closed, comment


def test_an_answer_and_a_published_report_show_on_the_next_get(app, make, unit, approver):
    closed = make.consultation("closed", unit=unit)
    comment = make.comment(closed, body="请明确收费标准。")
    db.session.commit()
    assert "已有规定。" not in cached(app, f"/consultations/{closed.id}")
    assert get(app, f"/consultations/{closed.id}/report").status_code == 404
    answer_comment(comment, DispositionCode.NOT_ADOPTED, "已有规定。", actor=approver)
    publish_report(closed, summary="第一版总结", actor=approver)
    db.session.commit()
    assert "已有规定。" in html(app, f"/consultations/{closed.id}")
    assert "第一版总结" in html(app, f"/consultations/{closed.id}/report")


def test_a_revised_report_shows_on_the_next_get(app, reported, approver):
    closed, _comment = reported
    assert "第一版总结" in cached(app, f"/consultations/{closed.id}/report")
    publish_report(closed, summary="更正后的总结", actor=approver, correction_note="更正错字")
    db.session.commit()
    page = html(app, f"/consultations/{closed.id}/report")
    assert "更正后的总结" in page and "更正错字" in page


def test_an_erasure_shows_on_the_next_get(app, reported, make):
    closed, comment = reported
    comment.display_name, comment.publish_name = "赵某某", True
    db.session.commit()
    assert "赵某某" in cached(app, f"/consultations/{closed.id}")
    erase_comments([comment], reason="应本人要求删除个人信息")
    db.session.commit()
    assert "赵某某" not in html(app, f"/consultations/{closed.id}")


def test_a_new_version_shows_on_the_next_get(app, approver, c):
    assert "第 2 稿" not in cached(app, f"/consultations/{c.id}")
    versions.new_version(c, "第一条 修改后的第一条。\n第二条 新增的第二条。", "修改了第一条",
                         actor=approver)
    db.session.commit()
    page = html(app, f"/consultations/{c.id}")
    assert "修改后的第一条" in page and "修改了第一条" in page


def test_an_extension_shows_on_the_next_get(app, approver, c):
    new_closing = clock.local_date(c.closes_at) + timedelta(days=10)
    assert new_closing.isoformat() not in cached(app, f"/consultations/{c.id}")
    services.extend(c, new_closing, "收到较多意见，延长期限", actor=approver)
    db.session.commit()
    page = html(app, f"/consultations/{c.id}")
    assert new_closing.isoformat() in page and "收到较多意见，延长期限" in page


def test_a_withdrawal_shows_on_the_next_get_and_in_the_lists(app, approver, c):
    assert c.title in cached(app, "/consultations")
    assert c.title in cached(app, "/")
    cached(app, f"/consultations/{c.id}")
    services.withdraw(c, actor=approver, reason="上位法已修改，本稿撤回")
    db.session.commit()
    assert "上位法已修改，本稿撤回" in html(app, f"/consultations/{c.id}")
    assert c.title not in html(app, "/consultations")
    assert c.title not in html(app, "/")


def test_a_linked_policy_shows_on_the_next_get(app, reported, approver):
    closed, _comment = reported
    link = '/policies/'
    for url in (f"/consultations/{closed.id}", f"/consultations/{closed.id}/report"):
        assert link not in cached(app, url)
    assert "城市供水条例" not in cached(app, "/")
    policy = policies.create_policy(closed, policies.PolicyInput(
        title="城市供水条例", document_number="某政〔2026〕3号", issued_on=date(2026, 11, 1),
        effective_on=None, text="第一条 为了……"), actor=approver)
    policies.publish_policy(policy, actor=approver)
    db.session.commit()
    for url in (f"/consultations/{closed.id}", f"/consultations/{closed.id}/report"):
        assert f"/policies/{policy.id}" in html(app, url), url
    assert "城市供水条例" in html(app, "/")


def test_a_change_to_one_consultation_keeps_anothers_page(app, make, unit, c):
    other = make.consultation("open", unit=unit)
    db.session.commit()
    cached(app, f"/consultations/{other.id}")
    make.comment(c)
    db.session.commit()
    assert get(app, f"/consultations/{other.id}").headers["X-Page-Cache"] == "hit"
    assert get(app, f"/consultations/{c.id}").headers["X-Page-Cache"] == "miss"


def test_a_unit_renamed_renews_every_page(app, unit, c):
    cached(app, f"/consultations/{c.id}")
    unit.name = "市水务局（更名）"
    db.session.commit()
    assert "市水务局（更名）" in html(app, f"/consultations/{c.id}")


def test_a_bulk_update_renews_every_page(app, make, c):
    comment = make.comment(c, body="批量修改之前")
    db.session.commit()
    cached(app, f"/consultations/{c.id}")
    from consult.comments.models import Comment
    db.session.execute(db.update(Comment).where(Comment.id == comment.id)
                       .values(body="批量修改之后"))
    db.session.commit()
    assert "批量修改之后" in html(app, f"/consultations/{c.id}")


def test_a_write_that_rolls_back_renews_nothing(app, make, c):
    cached(app, f"/consultations/{c.id}")
    make.comment(c)  # flushed
    db.session.rollback()
    assert get(app, f"/consultations/{c.id}").headers["X-Page-Cache"] == "hit"


def test_a_savepoint_commit_waits_for_the_outer_commit(app, make, c):
    scope = [pagecache.consultation_scope(c.id)]
    db.session.commit()
    with app.test_request_context():
        before = pagecache._stamps(scope)
        with db.session.begin_nested():
            make.comment(c, body="在保存点里的意见")
        assert pagecache._stamps(scope) == before  # the outer transaction may still roll back
        db.session.commit()
        assert pagecache._stamps(scope) != before


def test_a_savepoint_rolled_back_inside_a_committed_request_still_renews(app, make, c):
    """`form_errors` refusals roll back a savepoint: what it tracked may be renewed for
    nothing (a page rendered again), never kept stale."""
    scope = [pagecache.consultation_scope(c.id)]
    db.session.commit()
    with app.test_request_context():
        before = pagecache._stamps(scope)
        try:
            with db.session.begin_nested():
                make.comment(c)
                raise ValueError
        except ValueError:
            pass
        db.session.commit()
        assert pagecache._stamps(scope) != before


def test_writes_no_page_shows_keep_every_page(app, make, editor, c):
    cached(app, f"/consultations/{c.id}")
    editor.name = "改了名字的工作人员"  # staff accounts, mail, jobs, audit: on no public page
    make.citizen("somebody@example.org")
    db.session.commit()
    assert get(app, f"/consultations/{c.id}").headers["X-Page-Cache"] == "hit"


def test_a_stamp_lost_by_the_store_never_brings_an_old_page_back(app, make, c):
    cached(app, f"/consultations/{c.id}")
    pagecache.cache.delete(pagecache._stamp_key(pagecache.consultation_scope(c.id)))
    assert get(app, f"/consultations/{c.id}").headers["X-Page-Cache"] == "miss"


# --- never past the clock ------------------------------------------------------------------------


def test_a_scheduled_page_is_not_kept_past_its_opening(app, make, unit, travel):
    travel(clock.now())
    scheduled = make.consultation("scheduled", unit=unit)
    db.session.commit()
    assert "征集尚未开始" in cached(app, f"/consultations/{scheduled.id}")
    assert scheduled.title not in cached(app, "/consultations")
    travel(scheduled.opens_at + timedelta(seconds=1))
    page = html(app, f"/consultations/{scheduled.id}")
    assert "征集尚未开始" not in page and "提出意见" in page
    assert scheduled.title in html(app, "/consultations")


def test_an_open_page_is_not_kept_past_its_closing(app, make, c, travel):
    travel(clock.now())
    assert "提出意见" in cached(app, f"/consultations/{c.id}")
    travel(c.closes_at + timedelta(seconds=1))
    assert "征求意见期限已结束" in html(app, f"/consultations/{c.id}")
    assert c.title not in html(app, "/consultations")  # the open list


def test_days_left_are_not_kept_past_midnight(app, c, travel):
    travel(clock.start_of_day(clock.today()) + timedelta(hours=12))
    before = cached(app, f"/consultations/{c.id}")
    travel(clock.start_of_day(clock.today() + timedelta(days=1)) + timedelta(minutes=1))
    after = html(app, f"/consultations/{c.id}")
    left = re.compile(r"距截止还剩 (\d+) 天")
    assert int(left.search(before).group(1)) == int(left.search(after).group(1)) + 1


def test_the_proxy_is_never_told_to_keep_a_page_past_its_boundary(app, make, unit, travel):
    travel(clock.now())
    make.consultation("scheduled", unit=unit,
                      opens_at=clock.now() + timedelta(seconds=3))
    db.session.commit()
    response = get(app, "/consultations?status=all")
    assert response.cache_control.s_maxage <= 3


def test_a_hearing_page_is_not_kept_past_the_hearing(app, c, travel):
    from consult.hearings.models import Hearing, HearingKind

    travel(clock.now())
    hearing = Hearing(consultation_id=c.id, kind=HearingKind.HEARING, title="水价听证会",
                      held_at=clock.now() + timedelta(hours=2), place="市政府三楼",
                      published_at=clock.now())
    db.session.add(hearing)
    db.session.commit()
    assert "会议记录整理后在此公布" not in cached(app, f"/consultations/{c.id}")
    travel(hearing.held_at + timedelta(minutes=1))
    assert "会议记录整理后在此公布" in html(app, f"/consultations/{c.id}")


def test_a_signed_in_citizens_report_page_is_private(app, reported, make, post_form):
    from tests.conftest import sign_in

    closed, _comment = reported
    reader = app.test_client()
    sign_in(reader, post_form, make.citizen("reader2@example.org"))
    response = reader.get(f"/consultations/{closed.id}/report")
    assert response.headers["Cache-Control"] == "private, no-cache"


def test_with_the_cache_off_pages_are_rendered_as_before(app, c):
    app.config["PAGE_CACHE"] = False
    try:
        response = get(app, f"/consultations/{c.id}")
        assert response.status_code == 200 and "X-Page-Cache" not in response.headers
    finally:
        app.config["PAGE_CACHE"] = True


# --- the stamps of one host's workers (folder store) ----------------------------------------


def test_host_stamps_are_shared_by_workers_and_never_repeat(tmp_path):
    one, two = pagecache.HostStamps(str(tmp_path)), pagecache.HostStamps(str(tmp_path))
    first = one.read(["c1", "c2", "any"])
    assert two.read(["c1", "c2", "any"]) == first and len(set(first)) == 3  # random, not zero
    one.renew(["c1"])
    after = two.read(["c1", "c2", "any"])  # the other worker sees it at once
    assert after[0] != first[0] and after[1:] == first[1:]
    (tmp_path / "stamps.bin").unlink()  # the folder emptied: a new file, never the old values
    again = two.read(["c1", "c2", "any"])
    assert not set(again) & (set(first) | set(after))
    assert one.read(["c1", "c2", "any"]) == again


def test_a_folder_store_is_never_stale_after_a_write(make, unit, tmp_path, real_session):
    from consult import create_app

    app = create_app({"TESTING": True, "CACHE_TYPE": "FileSystemCache",
                      "CACHE_DIR": str(tmp_path / "pages"), "SQLALCHEMY_DATABASE_URI":
                      f"sqlite:///{tmp_path / 'pages.db'}"})
    with app.app_context():
        db.create_all()
        c = make.consultation("open", unit=make.unit())
        db.session.commit()
        url = f"/consultations/{c.id}"
        assert "已收到意见 0 条" in cached(app, url)
        make.comment(c)
        db.session.commit()
        assert "已收到意见 1 条" in html(app, url)
        assert get(app, url).headers["X-Page-Cache"] == "hit"
        db.session.remove()
        db.engine.dispose()
