"""Every page and every e-mail is valid HTML, by the Nu Html Checker (vnu.jar).

The pages are the ones the browser tests visit, fetched through the test
client with CSRF protection on (so the hidden token fields are there, as in
production). They are written to a folder and checked in one run of the
checker, because starting the JVM is slow.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pyotp
import pytest
from flask import g
from sqlalchemy import select

from helpers import (
    EVENT_FORM,
    JOSE,
    ORGANISER_EMAIL,
    ORGANISER_PASSWORD,
    app_in_context,
    bounce_sample,
    form_data,
    make_app,
    node_module,
    report_file,
    request_data,
    require_external,
)
from webinar.attendance.models import WalkIn
from webinar.attendance.services import set_attendance_by_hand
from webinar.certificates.pdf import verify_url
from webinar.certificates.services import certificate_statement
from webinar.database import begin_write, utcnow
from webinar.extensions import db
from webinar.mailing.bounces import read_bounce, record_bounce
from webinar.mailing.models import MailStatus, OutgoingMail
from webinar.mailing.worker import send_due
from webinar.organisations.grouping import organisation_groups
from webinar.organiser.models import PasswordReset
from webinar.organiser.previews import previews
from webinar.organiser.services import mint_link_token
from webinar.organiser.two_factor import tell_organiser
from webinar.registration.models import Registration, TokenPurpose
from webinar.registration.tokens import issue_token
from webinar.support.models import SupportRequest

pytestmark = pytest.mark.slow

CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def app(schema, frozen):
    """conftest's app with CSRF protection on, as the real pages have it."""
    with app_in_context(schema, WTF_CSRF_ENABLED=True) as app:
        yield app


def nu_checker() -> list[str]:
    """The command that runs the Nu Html Checker, or a skip when Java or vnu.jar is missing."""
    java = shutil.which("java")
    if java is None:
        require_external("no java (install Debian's 'default-jre-headless')", "REQUIRE_JAVA")
    jar = node_module("vnu-jar") / "build" / "dist" / "vnu.jar"
    if not jar.is_file():
        require_external(f"{jar} is missing (run 'npm ci')", "REQUIRE_JAVA")
    return [java, "-jar", str(jar), "--format", "json", "--errors-only"]


def html_errors(files: list[Path]) -> list[str]:
    """'file:line: message' for each error the checker finds in the files."""
    result = subprocess.run([*nu_checker(), *map(str, files)], capture_output=True, text=True, timeout=300)
    messages = json.loads(result.stderr or result.stdout)["messages"]
    return [f"{Path(m.get('url', '')).name}:{m.get('lastLine', '?')}: {m['message']}"
            for m in messages if m["type"] == "error" or m.get("subType") == "fatal"]


class Pages:
    """Fetches pages with a test client and keeps each body as a file to check."""

    def __init__(self, client, folder: Path):
        self.client, self.folder, self.files = client, folder, []

    def keep(self, name: str, response, status: int = 200) -> str:
        body = response.get_data(as_text=True)
        assert response.status_code == status, (name, response.status_code, body[:500])
        path = self.folder / f"{name}.html"
        path.write_text(body, encoding="utf-8")
        self.files.append(path)
        return body

    def get(self, name: str, url: str, status: int = 200) -> str:
        return self.keep(name, self.client.get(url), status)

    def submit(self, url: str, data: dict):
        """POST the form at `url` with the CSRF token the form page carries."""
        # The requests share the test's app context, so flask.g, where Flask-WTF keeps the token of the
        # request; after the login cleared the session that token would be stale. Real requests start afresh.
        g.pop("csrf_token", None)
        page = self.client.get(url).get_data(as_text=True)
        return self.client.post(url, data=dict(data, csrf_token=CSRF_FIELD.search(page).group(1)))

    def post(self, name: str, url: str, data: dict, status: int = 200) -> str:
        return self.keep(name, self.submit(url, data), status)

    def submitted(self, url: str, data: dict) -> str:
        """POST a form that succeeds; where it leads."""
        response = self.submit(url, data)
        assert response.status_code == 302, (url, re.findall(r"<h1>.*?</h1>|<p>.*?</p>", response.get_data(as_text=True)))
        return response.headers["Location"]


def personal_link(purpose: TokenPurpose) -> str:
    """A fresh token of the first registration."""
    registration = db.session.scalars(select(Registration).order_by(Registration.id)).first()
    token = issue_token(registration, purpose)
    db.session.commit()
    return token


def public_pages(pages: Pages, slug: str) -> None:
    """The registrant's pages, from the event page to the personal links."""
    event_url = f"/events/{slug}"
    pages.get("event", event_url)
    pages.post("event-errors", event_url, {"privacy": ""}, status=422)
    pages.get("registered", pages.submitted(event_url, form_data()))
    pages.get("lost-link", f"{event_url}/link-kwijt")
    manage = f"/r/{personal_link(TokenPurpose.manage)}"
    pages.get("manage", manage)
    pages.post("manage-errors", manage, form_data(email="geen adres"), status=422)
    pages.get("cancel", f"{manage}/afmelden")
    pages.get("erase", f"{manage}/verwijderen")
    pages.get("join-before-window", f"/j/{personal_link(TokenPurpose.join)}")
    pages.get("privacy", "/privacy")
    pages.get("not-found", "/bestaat-niet", status=404)


def support_pages(pages: Pages) -> None:
    """The support request form with errors, its preview, and the request sent."""
    pages.post("support-errors", "/ondersteuning", {"actie": "versturen"}, status=422)
    pages.post("support-preview", "/ondersteuning", request_data(actie="controleren"))
    pages.get("support-sent", pages.submitted("/ondersteuning", request_data()))


def organiser_pages(pages: Pages, slug: str) -> None:
    """The organiser's pages, logged in through the form."""
    pages.get("organiser-login", "/organiser/login")
    pages.submitted("/organiser/login", {"email": ORGANISER_EMAIL, "password": ORGANISER_PASSWORD})
    registration_id = db.session.scalars(select(Registration.id)).first()
    support_id = db.session.scalars(select(SupportRequest.id)).first()
    first_organisation = organisation_groups()[0].ref
    event = f"/organiser/events/{slug}"
    for name, url in [
        ("organiser-events", "/organiser/"), ("organiser-event-form", "/organiser/events/nieuw"),
        ("organiser-dashboard", event), ("organiser-registrations", f"{event}/aanmeldingen"),
        ("organiser-registration", f"{event}/aanmeldingen/{registration_id}"),
        ("organiser-messages", f"{event}/berichten"), ("organiser-attendance", f"{event}/aanwezigheid"),
        ("organiser-emails", f"{event}/e-mails"),
        ("organiser-support", "/organiser/ondersteuning"),
        ("organiser-support-detail", f"/organiser/ondersteuning/{support_id}"),
        ("organiser-audit", "/organiser/audit"), ("organiser-message-form", f"{event}/berichten/nieuw"),
        ("organiser-organisations", "/organiser/organisaties"),
        ("organiser-organisation", f"/organiser/organisaties/corrigeren?groep={quote(first_organisation)}"),
        ("organiser-programme", "/organiser/programma"),
        ("organiser-duplicate", f"{event}/dupliceren"),
        ("organiser-accounts", "/organiser/accounts"), ("organiser-invite", "/organiser/uitnodigen"),
        ("organiser-audit-filtered", f"/organiser/audit?soort=event.create&wie={ORGANISER_EMAIL}"),
        ("organiser-api-tokens", "/organiser/api-tokens"), ("api-reference", "/api/v1/docs"),
        ("organiser-webhooks", "/organiser/webhooks"),
    ]:
        pages.get(name, url)
    assert 'id="mail-stuck"' in (pages.folder / "organiser-dashboard.html").read_text()  # mail due, no worker
    pages.get("organiser-programme-errors", "/organiser/programma?van=2027-08-01&tot=2027-01-01", status=422)
    pages.post("organiser-duplicate-errors", f"{event}/dupliceren", {"title": ""}, status=422)
    pages.post("organiser-invite-errors", "/organiser/uitnodigen", {"email": "geen adres"})
    pages.post("organiser-api-token-made", "/organiser/api-tokens", {"name": "CRM", "scopes": ["read"], "days": "30"})
    pages.post("organiser-webhook-refused", "/organiser/webhooks", {"url": "https://10.0.0.1/x"}, status=422)
    pages.client.application.config["WEBHOOK_ALLOW_PRIVATE"] = True
    pages.post("organiser-webhook-made", "/organiser/webhooks",
               {"url": "http://127.0.0.1:9/hook", "kinds": ["registration.created"]})
    pages.client.application.config["WEBHOOK_ALLOW_PRIVATE"] = False
    draft_pages(pages)
    message = {"roles": ["Schoolleider", "Schoolbestuurder"], "statuses": "confirmed", "subject": "Uitleg",
               "body": "Beste {voornaam},"}
    pages.post("organiser-message-counted", f"{event}/berichten/nieuw", {**message, "actie": "tellen"})
    draft = pages.submitted(f"{event}/berichten/nieuw", message)
    pages.get("organiser-message-preview", draft)
    g.pop("csrf_token", None)
    token = CSRF_FIELD.search(pages.client.get(draft).get_data(as_text=True)).group(1)
    refused = pages.client.post(draft.replace("/voorbeeld", "/test"), data={"address": "geen adres", "csrf_token": token})
    pages.keep("organiser-message-test-error", refused, 422)
    pages.post("organiser-organisation-errors", f"/organiser/organisaties/corrigeren?groep={quote(first_organisation)}",
               {"name": "", "organisation_type": "", "brin": "1"}, status=422)


def draft_pages(pages: Pages) -> None:
    """A new event: the form with errors, its dashboard as a draft, its preview, and the lists with statuses."""
    pages.post("organiser-event-form-errors", "/organiser/events/nieuw", dict(EVENT_FORM, slug="Met Spaties"),
               status=200)
    dashboard = pages.get("organiser-draft-dashboard", pages.submitted("/organiser/events/nieuw", EVENT_FORM))
    pages.get("draft-preview", re.search(r'id="preview-link">http://webinar\.test(/voorbeeld/[^<]+)<', dashboard).group(1))
    pages.get("organiser-events-with-draft", "/organiser/")
    pages.get("home", "/")
def attendance_pages(pages: Pages, slug: str) -> None:
    """A report read (walk-ins with a suggestion), the attendance page and its search, the question before
    forgetting a report's data, the warning for a report of another day, and a file that is no report."""
    pages.submitted(f"/events/{slug}", form_data(email=JOSE, first_name="José", tussenvoegsel="de", last_name="Wit"))
    attendance = f"/organiser/events/{slug}/aanwezigheid"

    def upload(data: bytes):
        g.pop("csrf_token", None)
        token = CSRF_FIELD.search(pages.client.get(attendance).get_data(as_text=True)).group(1)
        return pages.client.post(f"{attendance}/rapport", content_type="multipart/form-data",
                                 data={"csrf_token": token, "report": (io.BytesIO(data), "rapport.csv")})

    teams = report_file("teams-nl-utf16-tab.csv")
    assert "Koppelen aan José de Wit" in pages.keep("organiser-attendance-report", upload(teams))
    pages.get("organiser-attendance-walk-ins", attendance)
    pages.get("organiser-attendance-search", f"{attendance}?q=wit")
    walk_in = db.session.scalars(select(WalkIn.id).order_by(WalkIn.id)).first()
    pages.get("organiser-walk-in-pick", f"{attendance}/niet-aangemeld/{walk_in}/koppelen?zoek=wit")
    anna = db.session.scalars(select(Registration.id).order_by(Registration.id)).first()
    pages.get("organiser-attendance-absent", f"{attendance}/{anna}/niet-aanwezig")
    other_day = teams.decode("utf-16").replace("25-5-2027", "9-3-2027").encode("utf-16")
    assert "Toch inlezen" in pages.keep("organiser-attendance-other-day", upload(other_day))
    pages.keep("organiser-attendance-errors", upload(b"Naam;Adres\nAnna;Dorpsstraat 1\n"))


def account_pages(pages: Pages, organiser) -> None:
    """A forgotten password, the reset link, the account page, setting up two-factor and the code at login."""
    pages.get("organiser-forgot-password", "/organiser/wachtwoord-vergeten")
    pages.post("organiser-forgot-password-errors", "/organiser/wachtwoord-vergeten", {"email": "geen adres"})
    pages.submitted("/organiser/wachtwoord-vergeten", {"email": ORGANISER_EMAIL})  # its mail goes out below
    reset = db.session.scalars(select(PasswordReset)).one()
    link = f"/organiser/wachtwoord-herstellen/{mint_link_token(reset)}"
    db.session.commit()
    pages.get("organiser-reset-password", link)
    pages.post("organiser-reset-password-errors", link, {"new": "welkom123456"})
    pages.get("organiser-account", "/organiser/account")
    setup = "/organiser/account/tweestaps"
    secret = re.search(r'<code class="secret">(\w+)</code>', pages.get("organiser-two-factor-setup", setup)).group(1)
    pages.post("organiser-two-factor-setup-errors", setup, {"code": "000000"})
    pages.post("organiser-recovery-codes", setup, {"code": pyotp.TOTP(secret).at(utcnow())})
    pages.get("organiser-account-two-factor", "/organiser/account")
    tell_organiser(organiser, "account.2fa_off", "tweestapsverificatie uitgezet")  # its mail goes out below
    db.session.commit()
    other = Pages(pages.client.application.test_client(), pages.folder)
    other.submit("/organiser/login", {"email": ORGANISER_EMAIL, "password": ORGANISER_PASSWORD})
    other.get("organiser-login-code", "/organiser/login/code")
    other.post("organiser-login-code-errors", "/organiser/login/code", {"code": "000000"})
    pages.files.extend(other.files)


def mail_parts(pages: Pages, slug: str, event, smtp) -> None:
    """The HTML part of every e-mail to registrants as the organiser's preview serves it, and of the mail sent."""
    for preview in previews(event):
        pages.get(f"mail-{preview.kind}", f"/organiser/events/{slug}/e-mails/{preview.kind}/opgemaakt")
    send_due()
    assert len(smtp.messages) >= 3  # the confirmation, and the support request's two
    for number, message in enumerate(smtp.messages):
        path = pages.folder / f"sent-{number}.html"
        path.write_text(message.get_body(("html",)).get_content(), encoding="utf-8")
        pages.files.append(path)


def bounce_pages(pages: Pages, slug: str) -> None:
    """After a confirmation came back: the registrations filtered on it, and the registrant's detail."""
    row = db.session.scalars(select(OutgoingMail).where(OutgoingMail.status == MailStatus.sent,
                                                        OutgoingMail.registration_id.is_not(None))).first()
    db.session.rollback()
    begin_write()
    record_bounce(read_bounce(bounce_sample("postfix", bounce_address="bounces@example.org",
                                            recipient=row.recipient, message_id=row.message_id)), utcnow())
    db.session.commit()
    event = f"/organiser/events/{slug}"
    assert "adres onbereikbaar" in pages.get("organiser-registrations-unreachable", f"{event}/aanmeldingen?adres=onbereikbaar")
    assert 'id="unreachable"' in pages.get("organiser-registration-unreachable",
                                           f"{event}/aanmeldingen/{row.registration_id}")


def certificate_pages(pages: Pages, event, frozen) -> None:
    """After the meeting: the manage page with the certificate's link, the verification page, a refused code."""
    registration = db.session.scalars(select(Registration).order_by(Registration.id)).first()
    event.certificate_enabled = True
    set_attendance_by_hand(registration, True)
    db.session.commit()
    pages.get("organiser-event-edit", f"/organiser/events/{event.slug}/bewerken")
    pages.get("organiser-attendance-certificates", f"/organiser/events/{event.slug}/aanwezigheid")
    frozen.move_to(event.ends_at + timedelta(days=1))
    manage = f"/r/{personal_link(TokenPurpose.manage)}"
    assert "bewijs-van-deelname.pdf" in pages.get("manage-after-meeting", manage)
    link = verify_url(certificate_statement(registration, event.ends_at + timedelta(days=1)))
    pages.get("certificate-verified", link.removeprefix("http://webinar.test"))
    pages.get("certificate-refused", "/bewijs/veranderd.abc", status=404)


def too_many_requests(pages: Pages, schema: str) -> None:
    """The page a client gets once it went over a rate limit."""
    limited = make_app(schema, RATELIMIT_ENABLED=True, RATELIMIT_TOKEN="1 per minute")
    try:
        limited.test_client().get("/r/onbekend")
        pages.keep("too-many-requests", limited.test_client().get("/r/onbekend"), status=429)
    finally:
        with limited.app_context():
            db.engine.dispose()  # its own connection pool, apart from the test's app


def test_every_page_and_e_mail_is_valid_html(client, event, organiser, schema, smtp, tmp_path, frozen):
    pages = Pages(client, tmp_path)
    public_pages(pages, event.slug)
    support_pages(pages)
    organiser_pages(pages, event.slug)
    account_pages(pages, organiser)
    attendance_pages(pages, event.slug)
    mail_parts(pages, event.slug, event, smtp)
    bounce_pages(pages, event.slug)
    certificate_pages(pages, event, frozen)
    too_many_requests(pages, schema)
    errors = html_errors(pages.files)
    assert not errors, "\n".join(errors)


def test_the_checker_reports_a_duplicate_id(tmp_path):
    """Negative control: a page with two elements of one id is reported."""
    page = tmp_path / "duplicate.html"
    page.write_text('<!doctype html><html lang="nl"><head><title>Proef</title></head><body>'
                    '<input id="csrf_token" name="a"><input id="csrf_token" name="b"></body></html>')
    errors = html_errors([page])
    assert any("duplicate.html" in error and "Duplicate ID" in error for error in errors), errors
