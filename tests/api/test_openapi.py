"""The OpenAPI 3.1 document: every API route is in it, it is valid, and the live app answers
what it says — schemathesis sends generated (and hostile) requests at the app in-process."""

from __future__ import annotations

import pytest

from consult.consultations.models import State

API_PREFIX = "/api/v1"


def _document(client):
    response = client.get(f"{API_PREFIX}/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_every_api_route_is_in_the_document(app, client):
    document = _document(client)
    assert document["openapi"].startswith("3.1")
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX):
            continue
        path = rule.rule.removeprefix(API_PREFIX)
        for converter in ("<int:", "<"):
            while converter in path:
                start = path.index(converter)
                end = path.index(">", start)
                name = path[start + len(converter):end].split(":")[-1]
                path = path[:start] + "{" + name + "}" + path[end + 1:]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, (rule.rule, method)


def test_the_document_is_valid_openapi_3_1(client):
    from jsonschema import Draft202012Validator

    document = _document(client)
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    assert document["servers"][0]["url"] == "http://consult.test/api/v1"
    search = document["paths"]["/search"]["get"]
    q = next(p for p in search["parameters"] if p["name"] == "q")
    assert q["required"] is True and q["schema"]["maxLength"] == 500
    per_page = next(p for p in search["parameters"] if p["name"] == "per_page")
    assert "250" in per_page["description"]
    body = document["paths"]["/consultations/{consultation_id}/comments"]["post"]
    assert body["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/CommentBody")


def test_the_document_takes_links_from_base_url(client):
    response = client.get(f"{API_PREFIX}/openapi.json",
                          headers={"X-Forwarded-Host": "evil.example"})
    assert "evil.example" not in response.get_data(as_text=True)


@pytest.fixture
def public_world(make):
    unit = make.unit("市接口测试局")
    c = make.consultation(State.OPEN, unit, title="接口测试办法")
    make.comment(c, body="接口测试意见。")
    return c


def test_schemathesis_finds_no_server_error_and_responses_match(app, public_world):
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    from consult.extensions import db

    db.session.commit()  # the generated requests see the test's data
    schema = schemathesis.openapi.from_wsgi(f"{API_PREFIX}/openapi.json", app)
    failures, statuses = [], []
    checks = (not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance)

    def exercise(op, examples: int) -> None:
        @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy())
        def run(case):
            response = case.call()
            statuses.append(response.status_code)
            for check in checks:
                try:
                    case.validate_response(response, checks=(check,))
                except Exception as error:  # noqa: BLE001 - collected, reported together
                    failures.append((op.label, check.__name__, str(error)[:800]))
                    return

        run()

    operations = [operation.ok() for operation in schema.get_all_operations()]
    assert len(operations) >= 13
    for op in operations:
        exercise(op, 15 if op.method.upper() == "POST" else 12)
    assert failures == []
    assert len(statuses) >= 100 and 200 in statuses and 400 in statuses, statuses
