"""One place builds absolute URLs, from BASE_URL; TRUSTED_HOSTS derives from it (finding 1)."""

from __future__ import annotations

import pytest

from consult import create_app
from consult.urls import check_base_url, external_url, trusted_hosts


def test_links_outside_a_request_use_base_url_with_its_path(app, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", "https://gov.example.cn/consult")
    assert external_url("comments.receipt", tracking_no="ZX26-7K3M-9QXD") == \
        "https://gov.example.cn/consult/receipts/ZX26-7K3M-9QXD"
    assert external_url("consultations.detail", consultation_id=3, _anchor="extensions") == \
        "https://gov.example.cn/consult/consultations/3#extensions"


def test_links_inside_a_request_ignore_its_host(app, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", "https://gov.example.cn")
    with app.test_request_context("/", base_url="http://evil.example"):
        assert external_url("main.index") == "https://gov.example.cn/"


@pytest.mark.parametrize("value", ["consult.example.cn", "ftp://consult.example.cn", "https://",
                                   "https://consult.example.cn/?x=1", ""])
def test_a_base_url_that_is_no_site_address_stops_the_start(value):
    with pytest.raises(ValueError, match="BASE_URL"):
        check_base_url(value)


def test_a_trailing_slash_on_base_url_is_dropped():
    assert check_base_url("https://consult.example.cn/") == "https://consult.example.cn"


@pytest.mark.parametrize("configured, expected", [
    (None, ["consult.example.cn", "localhost", "127.0.0.1", "::1"]),
    ("[::1], consult.example.cn:8443", ["::1", "consult.example.cn"]),
    ("consult.example.cn, www.consult.example.cn", ["consult.example.cn",
                                                    "www.consult.example.cn"]),
    (["Consult.Example.cn"], ["consult.example.cn"]),
    ("*", None),
])
def test_trusted_hosts_default_to_base_urls_host_and_the_local_names(configured, expected):
    config = {"BASE_URL": "https://consult.example.cn:8443", "TRUSTED_HOSTS": configured}
    assert trusted_hosts(config) == expected


def test_the_app_applies_trusted_hosts_at_start():
    app = create_app({"TESTING": True, "BASE_URL": "https://consult.example.cn"})
    assert app.config["SITE_HOSTS"] == ["consult.example.cn", "consult.test", "localhost",
                                        "127.0.0.1", "::1"]
    client = app.test_client()
    assert client.get("/privacy", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/privacy", headers={"Host": "[::2]:5000"}).status_code == 400
    assert client.get("/privacy", headers={"Host": "[::1]:5000"}).status_code == 200
    assert client.get("/privacy", headers={"Host": "Consult.Example.CN"}).status_code == 200
