"""Security headers on every response, HSTS only over HTTPS, and the reverse proxy settings."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from flask import request

from helpers import app_in_context, deliver, make_request, post_registration
from test_messages import compose, draft_id, sign_up
from test_registration import manage_link
from webinar.security import CONTENT_SECURITY_POLICY, MAIL_PREVIEW_POLICY

STRICT = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def test_the_policy_says_what_the_pages_need():
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives == {
        "default-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
    }
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/", 200),
    ("GET", "/events/samen-onderwijs-versnellen", 200),
    ("POST", "/events/samen-onderwijs-versnellen", 422),  # the form with errors
    ("GET", "/events/samen-onderwijs-versnellen.ics", 200),
    ("GET", "/events/bestaat-niet", 404),
    ("GET", "/r/onzin", 404),
    ("PUT", "/events/samen-onderwijs-versnellen", 405),
    ("GET", "/static/style.css", 200),
    ("GET", "/organiser/", 302),
    ("GET", "/organiser/login", 200),
    ("GET", "/healthz", 200),
])
def test_every_response_carries_the_headers(client, event, method, path, status):
    with client.open(path, method=method) as response:
        assert response.status_code == status
        for name, value in STRICT.items():
            assert response.headers[name] == value, name
        assert "Strict-Transport-Security" not in response.headers


def test_a_server_error_carries_them_too(app, client, event):
    @app.get("/kapot")
    def broken():
        raise RuntimeError("kapot")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/kapot")
    assert response.status_code == 500
    assert "Er ging aan onze kant iets mis" in response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_hsts_only_over_https(client, event):
    response = client.get("/events/samen-onderwijs-versnellen", base_url="https://webinar.test")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    plain = client.get("/events/samen-onderwijs-versnellen", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in plain.headers  # no proxy is trusted by default


def test_behind_a_configured_proxy_its_headers_count(schema, frozen):
    with app_in_context(schema, PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1) as app:
        app.get("/wie")(lambda: {"addr": request.remote_addr})
        client = app.test_client()
        response = client.get("/wie", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.7"})
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
        assert response.json == {"addr": "192.0.2.7"}
        spoofed = client.get("/wie", headers={"X-Forwarded-For": "198.51.100.1, 192.0.2.7"})
        assert spoofed.json == {"addr": "192.0.2.7"}  # only the one proxy's entry is believed


def test_personal_pages_are_not_kept_in_caches(client, event, smtp):
    post_registration(client, event)
    deliver()
    link = manage_link(smtp.messages[0])
    assert client.get(link).headers["Cache-Control"] == "no-store"
    assert client.get(f"{link}/gegevens.json").headers["Cache-Control"] == "no-store"
    assert client.get("/organiser/login").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/events/samen-onderwijs-versnellen").headers.get("Cache-Control", "")


class InlineFinder(HTMLParser):
    """Collects what a strict policy would block: style attributes and inline script."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if "style" in names or any(name.startswith("on") for name in names):
            self.found.append(f"<{tag} {attrs}>")
        if tag == "script" and not names.get("src"):
            self.found.append("<script> without src")
        if tag == "iframe" and "srcdoc" in names:
            self.found.append("<iframe srcdoc>")
        if tag == "style":
            self.found.append("<style>")


def inline_parts(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    return finder.found


def test_the_finder_finds_inline_style():
    assert inline_parts('<p style="color:red">x</p><script>alert(1)</script>') != []


def test_pages_have_no_inline_style_or_script(organiser_client, event, smtp):
    sign_up(organiser_client, event, "anna")
    deliver()
    broadcast_id = draft_id(compose(organiser_client))
    base = "/organiser/events/samen-onderwijs-versnellen"
    paths = [
        "/", "/events/samen-onderwijs-versnellen", manage_link(smtp.messages[0]),
        "/organiser/", base, f"{base}/aanmeldingen", f"{base}/berichten",
        f"{base}/berichten/{broadcast_id}/voorbeeld", f"{base}/aanwezigheid", "/organiser/audit",
        f"{base}/e-mails", f"{base}/e-mails/confirmation",
        "/ondersteuning", "/organiser/ondersteuning", f"/organiser/ondersteuning/{make_request().id}",
    ]
    for path in paths:
        response = organiser_client.get(path)
        assert response.status_code == 200, path
        assert inline_parts(response.get_data(as_text=True)) == [], path
    form_errors = organiser_client.post("/events/samen-onderwijs-versnellen", data={})
    assert inline_parts(form_errors.get_data(as_text=True)) == []


def test_the_mail_preview_has_its_own_sandboxed_policy(organiser_client, event, smtp):
    sign_up(organiser_client, event, "anna")
    broadcast_id = draft_id(compose(organiser_client))
    path = f"/organiser/events/samen-onderwijs-versnellen/berichten/{broadcast_id}/voorbeeld"
    page = organiser_client.get(path).get_data(as_text=True)
    assert '<iframe title="Opgemaakte versie van de e-mail" sandbox="" class="mail-preview"\n' in page
    response = organiser_client.get(f"{path}.html")
    assert response.headers["Content-Security-Policy"] == MAIL_PREVIEW_POLICY
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "script-src" not in MAIL_PREVIEW_POLICY and "default-src 'none'" in MAIL_PREVIEW_POLICY
    assert MAIL_PREVIEW_POLICY.endswith("; sandbox")
    assert 'style="' in response.get_data(as_text=True)  # the e-mail keeps its inline styles
    organiser_client.post("/organiser/logout")
    assert organiser_client.get(f"{path}.html").status_code == 302  # organisers only
