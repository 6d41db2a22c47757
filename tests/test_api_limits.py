"""The API's budget per token (Flask-Limiter, as the pages' limits), and CSRF left to the pages."""

from __future__ import annotations

import pytest

from helpers import api_token, app_in_context


@pytest.fixture
def app(schema, frozen):
    with app_in_context(schema, RATELIMIT_ENABLED=True, RATELIMIT_API="3 per minute",
                        RATELIMIT_STORAGE_URI="memory://", WTF_CSRF_ENABLED=True) as app:
        yield app


def test_each_token_has_its_own_budget(client, organiser, event):
    busy, quiet = api_token(organiser, ["read"]), api_token(organiser, ["read"])
    assert [client.get("/api/v1/events", headers=busy).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/api/v1/events", headers=busy)
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json" and refused.json["title"] == "Even wachten"
    assert int(refused.headers["Retry-After"]) > 0
    assert client.get("/api/v1/events", headers=quiet).status_code == 200


def test_the_api_needs_no_csrf_token_but_the_pages_still_do(client, organiser, event):
    headers = api_token(organiser)
    assert client.post(f"/api/v1/events/{event.slug}/cancel", headers=headers).status_code == 200
    assert client.post("/organiser/login", data={"email": "x@example.org", "password": "y"}).status_code == 400
