"""Page numbers are bounded everywhere (finding 5): out of range is a 400, never a 500.

`?page=999999999999999999` made an OFFSET no database can hold. SPEC §5: a `page` or `per_page`
out of range is 400, on HTML pages and in the API alike; so is an integer filter too large for an
id column. Walks every paginated list, public and staff.
"""

from __future__ import annotations

import pytest

from consult.answers.services import publish_report
from consult.extensions import db
from consult.paging import MAX_PAGE

HUGE = "999999999999999999"
BAD_PAGES = [HUGE, "99999999999999999999999", str(MAX_PAGE + 1), "0", "-1", "abc", "1.5",
             "１", "1_0"]


@pytest.fixture
def lists(make):
    """The URL of every paginated list, and a user who may open the staff ones."""
    unit = make.unit()
    editor = make.user("approver", unit)
    open_c = make.consultation("open", unit=unit)
    make.comment(open_c, article=1)
    closed = make.consultation("closed", unit=unit)
    answered = make.comment(closed, article=2)
    make.answer(answered, "adopted", None)
    publish_report(closed, summary="总结。", actor=editor)
    make.catalogue_item(unit, published=True)
    db.session.flush()
    public = ["/consultations", f"/consultations/{open_c.id}", "/policies", "/catalogue",
              f"/consultations/{closed.id}/report"]
    staff = [f"/staff/consultations/{open_c.id}/comments",
             f"/staff/consultations/{open_c.id}/groups", "/staff/moderation",
             f"/staff/consultations/{open_c.id}/moderation"]
    api = ["/api/v1/consultations", f"/api/v1/consultations/{open_c.id}/comments",
           "/api/v1/catalogue"]
    return {"public": public, "staff": staff, "api": api, "editor": editor}


def _all(lists):
    return [(url, False) for url in lists["public"] + lists["api"]] + \
        [(url, True) for url in lists["staff"]]


def test_every_list_serves_its_first_and_last_allowed_page(client_as, lists):
    for url, staff in _all(lists):
        client = client_as(lists["editor"] if staff else None)
        for page in ("1", str(MAX_PAGE)):
            response = client.get(url, query_string={"page": page})
            assert response.status_code == 200, (url, page, response.status_code)


@pytest.mark.parametrize("page", BAD_PAGES)
def test_a_page_out_of_range_is_400_everywhere(client_as, lists, page):
    failures = []
    for url, staff in _all(lists):
        response = client_as(lists["editor"] if staff else None).get(
            url, query_string={"page": page})
        if response.status_code != 400:
            failures.append((url, response.status_code))
        elif url.startswith("/api/"):
            assert response.json["error"]["code"] == "invalid_parameter"
            assert "page" in response.json["error"]["fields"]
    assert not failures, failures


@pytest.mark.parametrize("per_page", ["0", "251", HUGE, "x"])  # API pages: up to 250
def test_a_per_page_out_of_range_is_400_in_the_api(client, lists, per_page):
    for url in lists["api"]:
        response = client.get(url, query_string={"per_page": per_page})
        assert response.status_code == 400, (url, response.status_code)
        assert response.json["error"]["code"] == "invalid_parameter"


@pytest.mark.parametrize("url", [
    "/consultations?unit=99999999999999999999", "/api/v1/consultations?unit=99999999999999999999",
    "/consultations?unit=2147483648", "/catalogue?unit=99999999999999999999",
])
def test_an_id_filter_too_large_for_an_id_is_400(client, url):
    assert client.get(url).status_code == 400


@pytest.mark.parametrize("query", ["article=99999999999999999999", "group=99999999999999999999"])
def test_staff_queue_filters_too_large_are_harmless(client_as, lists, query):
    client = client_as(lists["editor"])
    for url in lists["staff"][:2]:
        assert client.get(f"{url}?{query}").status_code in (200, 400), url


@pytest.mark.parametrize("path", ["/consultations/99999999999999999999",
                                  "/api/v1/consultations/99999999999999999999",
                                  "/consultations/99999999999999999999/report.pdf",
                                  "/staff/consultations/99999999999999999999"])
def test_an_id_in_the_path_too_large_for_a_column_is_404(client_as, lists, path):
    assert client_as(lists["editor"]).get(path).status_code == 404
