"""schemathesis attacks every operation of the live API from the schema it serves, with a token.

Each operation gets a few dozen generated requests (valid and invalid bodies and
query arguments) against an app on loopback that holds a meeting with
registrants and a support request; the path names those real objects, so the
requests reach the services instead of stopping at a 404. No answer may be a
server error, and every answer must match the document: its status code, its
content type, its headers and its body's schema.
"""

from __future__ import annotations

import base64
import collections

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from helpers import ANNA, api_token, make_request, serving, teams_participants
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.slow

#: generated requests per operation: the whole run stays well under two minutes
EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@pytest.fixture
def served(app, organiser, people):
    """The live app (`url`), a token with every scope, and the objects the paths point at."""
    support = make_request()
    with serving(app) as url:
        yield {"url": url, "headers": api_token(organiser),
               "path": {"slug": people["berg"].event.slug, "registration_id": people["berg"].id,
                        "request_id": support.id}}


@pytest.fixture
def api_schema(served):
    return schemathesis.openapi.from_url(served["url"] + "/api/v1/openapi.json")


def attack(operation, served) -> collections.Counter:
    """Send a bounded number of generated requests to one operation; raise on the first broken check.

    Returns how many answers of each status it got.
    """
    statuses = collections.Counter()

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case):
        for name, value in served["path"].items():
            if case.path_parameters and name in case.path_parameters:
                case.path_parameters[name] = value
        response = case.call(base_url=served["url"], headers=served["headers"])
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    run()
    return statuses


#: one valid request per writing operation, sent first, so that each success answer is checked as well
VALID = {
    "POST /api/v1/events": {"title": "Tweede bijeenkomst", "starts_at": "2027-06-01T16:00:00+02:00",
                            "ends_at": "2027-06-01T17:00:00+02:00"},
    "POST /api/v1/events/{slug}/registrations": {
        "first_name": "Cor", "last_name": "Smit", "email": "cor@example.org", "organisation": "OBS De Linde",
        "organisation_type": "School", "role": "Schoolleider"},
    "POST /api/v1/events/{slug}/attendance/report": {
        "report": base64.b64encode(teams_participants([ANNA])).decode()},
    "PATCH /api/v1/events/{slug}": {"capacity": 4},
    "PATCH /api/v1/support-requests/{request_id}": {"status": "in_progress", "adviser": "Ad Viseur"},
}


def order(operation) -> tuple:
    """Cancelling the meeting last: after it, registrations no longer change (409)."""
    return (operation.label == "POST /api/v1/events/{slug}/cancel", operation.label)


def test_every_operation_answers_within_its_schema(served, api_schema):
    operations = sorted((result.ok() for result in api_schema.get_all_operations()), key=order)
    assert len(operations) == 15
    for operation in operations:
        if operation.label in VALID:
            case = operation.Case(body=VALID[operation.label], path_parameters={
                name: value for name, value in served["path"].items() if f"{{{name}}}" in operation.path})
            response = case.call(base_url=served["url"], headers=served["headers"])
            assert 200 <= response.status_code < 300, (operation.label, response.text)
            case.validate_response(response, checks=CHECKS)
    failed, answered = {}, {}
    for operation in operations:
        try:
            answered[operation.label] = attack(operation, served)
        except Exception as error:  # noqa: BLE001 (every operation is attacked; all failures are reported)
            failed[operation.label] = str(error)[:2000]
    assert failed == {}
    print({label: dict(statuses) for label, statuses in answered.items()})
    assert sum(sum(statuses.values()) for statuses in answered.values()) >= 15 * EXAMPLES // 2


def test_the_checks_catch_a_server_error(served, api_schema, monkeypatch):
    """Negative control: a view that fails is reported by the same checks."""
    from webinar.api import events

    monkeypatch.setattr(events, "event_rows", lambda now: 1 / 0)
    operation = api_schema["/api/v1/events"]["GET"]
    case = operation.Case()
    response = case.call(base_url=served["url"], headers=served["headers"])
    with pytest.raises(FailureGroup) as caught:
        case.validate_response(response, checks=CHECKS)
    assert any("Server error" in str(failure) for failure in caught.value.exceptions)
