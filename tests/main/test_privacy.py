"""The privacy notice (/privacy): purpose, what is published, retention, rights, contact."""

from __future__ import annotations


def test_the_privacy_notice_says_what_happens_to_personal_data(client):
    response = client.get("/privacy")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for heading in ("处理目的", "公开什么", "从不公开什么", "谁能看到您的联系方式", "保存期限",
                    "您的权利", "联系我们"):
        assert heading in html, heading
    assert "起草单位" in html and "同意公开我的署名" in html
    assert "采纳情况报告公布后 180 天" in html and "征求意见期限结束（或撤回）后 180 天" in html
    assert 'href="/account"' in html and 'href="/privacy/erase"' in html
    assert 'href="/receipts"' in html
    assert "政务公开办公室" in html  # the default contact


def test_the_retention_period_and_contact_come_from_the_configuration(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "CONTACT_RETENTION_DAYS", 90)
    monkeypatch.setitem(app.config, "PRIVACY_CONTACT", "电话 0371-12345 <b>邮箱</b>")
    html = client.get("/privacy").get_data(as_text=True)
    assert "公布后 90 天" in html and "180 天" not in html
    assert "电话 0371-12345 &lt;b&gt;邮箱&lt;/b&gt;" in html


def test_every_page_links_the_notice_and_the_comment_form_links_it_by_the_contact_fields(
        client, make):
    c = make.consultation("open")
    assert 'href="/privacy"' in client.get("/").get_data(as_text=True)
    form = client.get(f"/consultations/{c.id}/comment").get_data(as_text=True)
    contact = form[form.index("联系方式（不公开）"):]
    assert 'href="/privacy"' in contact[:contact.index("</fieldset>")]


def test_the_notice_is_available_in_every_language(client):
    for lang in ("zh_Hans", "zh_Hant", "en"):
        assert client.get(f"/privacy?lang={lang}").status_code == 200
