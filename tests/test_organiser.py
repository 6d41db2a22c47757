"""The organiser area: access, accounts, events, dashboard and audit log."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.routing.converters import NumberConverter

from helpers import EVENT_FORM, NOW, ORGANISER_EMAIL, ORGANISER_PASSWORD, deliver, login, post_registration
from config import ProductionConfig
from webinar import create_app
from webinar.attendance.models import Attendance
from webinar.audit import AuditEntry
from webinar.database import utcnow
from webinar.events.models import Event
from webinar.extensions import db
from webinar.mailing.models import MailStatus, OutgoingMail
from webinar.organiser.access import PUBLIC_ENDPOINTS
from webinar.organiser.models import Organiser
from webinar.registration.models import Registration, RegistrationStatus
from webinar.registration.services import cancel_registration

GENERIC_ERROR = "Inloggen lukt niet met dit e-mailadres en wachtwoord."


#: the only organiser pages that work without logging in; a new one must be added here on purpose
EXPECTED_PUBLIC = {"organiser.login", "organiser.accept_invitation", "organiser.login_code",
                   "organiser.forgot_password", "organiser.reset_password", "organiser.oidc_login",
                   "organiser.oidc_callback"}


def _sample(converter) -> object:
    """A value the converter accepts: a number for <int:...>, otherwise the event's slug."""
    return 1 if isinstance(converter, NumberConverter) else "samen-onderwijs-versnellen"


def _organiser_rules(public: bool = False) -> list[tuple[str, str, str]]:
    """Every URL and method under /organiser in the app, read from its URL map, whichever blueprint.

    The pages that work without logging in only with `public`.
    """
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    rules = []
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/organiser") or rule.endpoint.startswith("organiser.")):
            continue
        if rule.endpoint in PUBLIC_ENDPOINTS and not public:
            continue
        values = {arg: _sample(rule._converters[arg]) for arg in rule.arguments}
        path = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            rules.append((rule.endpoint, method, path))
    return rules


ORGANISER_RULES = _organiser_rules()


def session_cookie(client) -> str:
    return client.get_cookie("session").value


def test_the_url_map_has_organiser_pages():
    assert len(ORGANISER_RULES) >= 30
    assert PUBLIC_ENDPOINTS == EXPECTED_PUBLIC


def _refused(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/organiser/login")


@pytest.mark.parametrize(("endpoint", "method", "path"), ORGANISER_RULES, ids=lambda v: str(v))
def test_every_organiser_url_refuses_anonymous_users(client, event, endpoint, method, path):
    before = db.session.scalar(select(func.count(OutgoingMail.id))), event.version
    response = client.open(path, method=method, data={"title": "Gekaapt"})
    assert _refused(response)
    db.session.rollback()
    assert (db.session.scalar(select(func.count(OutgoingMail.id))), event.version) == before
    assert event.title == "Samen onderwijs versnellen"


@pytest.mark.parametrize(("endpoint", "method", "path"), ORGANISER_RULES, ids=lambda v: str(v))
def test_every_organiser_url_refuses_a_logged_out_session(client, organiser, event, endpoint, method, path):
    assert login(client).status_code == 302
    stolen = session_cookie(client)  # a copy of the cookie, as a second tab or a thief keeps it
    client.post("/organiser/logout")
    assert _refused(client.open(path, method=method))
    client.set_cookie("session", stolen)
    assert _refused(client.open(path, method=method))


def _state() -> tuple:
    """What an organiser page could change: registrations, mail, events and their versions."""
    db.session.rollback()
    return (
        db.session.execute(select(Registration.id, Registration.status, Registration.email)).all(),
        db.session.scalar(select(func.count(OutgoingMail.id))),
        db.session.execute(select(Event.slug, Event.title, Event.version, Event.cancelled_at)).all(),
        db.session.scalar(select(func.count(Organiser.id))),
    )


POST_RULES = [rule for rule in _organiser_rules(public=True) if rule[1] == "POST"]


@pytest.mark.parametrize(("endpoint", "method", "path"), POST_RULES, ids=lambda v: str(v))
def test_every_organiser_post_needs_a_csrf_token(app, organiser_client, event, endpoint, method, path):
    post_registration(organiser_client, event)
    before = _state()
    app.config["WTF_CSRF_ENABLED"] = True  # read per request: the login above went without
    response = organiser_client.post(path, data={"title": "Gekaapt", "email": "x@example.org", "when": "nu"})
    assert response.status_code == 400
    assert "Pagina verlopen" in response.get_data(as_text=True)
    assert _state() == before


def test_the_guard_does_not_depend_on_the_blueprint(app, client, organiser):
    """A page another package adds under /organiser is refused to anonymous users too."""
    app.add_url_rule("/organiser/ondersteuning/verzoeken", "support.requests", lambda: "persoonsgegevens")
    assert _refused(client.get("/organiser/ondersteuning/verzoeken"))
    login(client)
    assert client.get("/organiser/ondersteuning/verzoeken").get_data(as_text=True) == "persoonsgegevens"


def test_login_and_the_dashboard(client, organiser, event):
    response = login(client)
    assert response.headers["Location"] == "/organiser/"
    page = client.get("/organiser/").get_data(as_text=True)
    assert "Samen onderwijs versnellen" in page
    assert "Uitloggen (Mieke Organisator)" in page


@pytest.mark.parametrize(
    ("email", "password"),
    [(ORGANISER_EMAIL, "verkeerd wachtwoord!"), ("onbekend@example.org", ORGANISER_PASSWORD)],
    ids=["wrong-password", "unknown-account"],
)
def test_failed_login_gets_one_generic_answer(client, organiser, email, password):
    response = login(client, email, password)
    assert response.status_code == 200
    assert GENERIC_ERROR in response.get_data(as_text=True)
    assert client.get("/organiser/").status_code == 302


def test_account_is_locked_after_five_failures_even_for_the_right_password(client, organiser, frozen):
    for _ in range(5):
        login(client, password="verkeerd wachtwoord!")
    assert GENERIC_ERROR in login(client).get_data(as_text=True)
    frozen.move_to(NOW + timedelta(minutes=16))
    assert login(client).status_code == 302


def test_one_address_is_limited_across_accounts(client, organiser):
    for n in range(20):
        login(client, email=f"gok{n}@example.org")
    assert GENERIC_ERROR in login(client).get_data(as_text=True)


def test_logging_out_ends_every_session_of_that_organiser(app, organiser):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop), login(phone)
    assert phone.get("/organiser/").status_code == 200
    laptop.post("/organiser/logout")
    assert phone.get("/organiser/").status_code == 302


def test_changing_the_password_ends_every_session(app, organiser):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop), login(phone)
    response = laptop.post("/organiser/wachtwoord", data={"current": ORGANISER_PASSWORD, "new": "een nieuw lang wachtwoord"})
    assert response.headers["Location"] == "/organiser/login"
    assert phone.get("/organiser/").status_code == 302
    assert login(laptop, password="een nieuw lang wachtwoord").status_code == 302


def test_a_short_new_password_is_refused(organiser_client):
    response = organiser_client.post("/organiser/wachtwoord", data={"current": ORGANISER_PASSWORD, "new": "kort"})
    assert "Een wachtwoord heeft minstens 12 tekens." in response.get_data(as_text=True)


def test_an_idle_session_ends(organiser_client, frozen):
    assert organiser_client.get("/organiser/").status_code == 200
    frozen.move_to(NOW + timedelta(minutes=29))
    assert organiser_client.get("/organiser/").status_code == 200
    frozen.move_to(NOW + timedelta(minutes=60))
    response = organiser_client.get("/organiser/")
    assert response.status_code == 302
    assert "U was een tijd niet actief" in organiser_client.get(response.headers["Location"]).get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite(organiser_client):
    response = login(organiser_client)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize(("config", "secure"), [("production", True), ("development", False)])
def test_session_cookie_is_secure_outside_development(monkeypatch, config, secure):
    """Production sends the cookie over HTTPS only; development works on http://127.0.0.1."""
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "production-test-key")
    app = create_app(config)
    response = app.test_client().get("/organiser/", base_url="https://bijeenkomsten.example.org")
    cookie = response.headers["Set-Cookie"]  # the "log in first" notice is kept in the session
    assert cookie.startswith("session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert ("; Secure" in cookie) is secure


def test_invitation_works_once(app, organiser_client, smtp, frozen):
    response = organiser_client.post("/organiser/uitnodigen", data={"email": "Nieuw@Example.org", "role": "contactpersoon"})
    assert response.headers["Location"] == "/organiser/accounts"
    deliver()
    [invitation] = smtp.to("nieuw@example.org")
    assert invitation["Subject"] == "Uitnodiging: account als contactpersoon voor de bijeenkomsten"
    assert "met de rol contactpersoon" in invitation.get_body(("plain",)).get_content()
    url = re.search(r"http://webinar\.test(/organiser/uitnodiging/[A-Za-z0-9_-]+)", invitation.get_body(("plain",)).get_content()).group(1)
    newcomer = app.test_client()
    assert "nieuw@example.org" in newcomer.get(url).get_data(as_text=True)
    response = newcomer.post(url, data={"name": "Nieuwe Collega", "password": "nog een lang wachtwoord"})
    assert response.headers["Location"] == "/organiser/login"
    assert login(newcomer, "nieuw@example.org", "nog een lang wachtwoord").status_code == 302
    assert db.session.scalar(select(Organiser.role).where(Organiser.email == "nieuw@example.org")) == "contactpersoon"
    assert app.test_client().get(url).status_code == 404  # used up


def test_an_expired_invitation_leads_nowhere(app, organiser_client, smtp, frozen):
    organiser_client.post("/organiser/uitnodigen", data={"email": "laat@example.org", "role": "organisator"})
    deliver()
    url = re.search(r"(/organiser/uitnodiging/[A-Za-z0-9_-]+)", smtp.messages[-1].get_body(("plain",)).get_content()).group(1)
    frozen.move_to(NOW + timedelta(days=3, minutes=1))
    assert app.test_client().get(url).status_code == 404


def test_create_an_event(organiser_client):
    response = organiser_client.post("/organiser/events/nieuw", data=EVENT_FORM)
    assert response.headers["Location"] == "/organiser/events/najaar"
    event = db.session.scalar(select(Event).where(Event.slug == "najaar"))
    assert event.starts_at.hour == 15  # 16:00 CET
    assert event.role_choices() == ["Schoolleider", "Intern begeleider", "Anders"]
    assert db.session.scalar(select(AuditEntry.action)) == "event.create"
    assert event.is_draft()  # a new event is a concept until it is published


def test_bad_event_form_gets_dutch_errors(organiser_client):
    response = organiser_client.post("/organiser/events/nieuw", data=dict(EVENT_FORM, slug="Met Spaties", ends_at=""))
    page = response.get_data(as_text=True)
    assert "Gebruik kleine letters, cijfers en streepjes." in page
    assert "Vul het einde in (datum en tijd)." in page
    assert db.session.scalar(select(func.count(Event.id))) == 0


def test_the_event_form_sets_roles_window_recording_and_mail_schedule(organiser_client, client, event):
    form = dict(
        EVENT_FORM, title=event.title, slug=event.slug, starts_at="2027-05-25T16:00", ends_at="2027-05-25T17:15",
        roles="Schoolleider\nBestuurder\nAnders", registration_opens_at="2027-04-20T09:00",
        registration_closes_at="2027-05-24T12:00", recording_url="https://video.example.org/opname",
        reminder_days_before="", join_link_minutes_before="15", followup_minutes_after="120",
        followup_joined_text="Dank voor uw komst.", followup_missed_text="Jammer dat u er niet was.",
    )
    assert organiser_client.post(f"/organiser/events/{event.slug}/bewerken", data=form).status_code == 302
    db.session.rollback()
    assert event.role_choices() == ["Schoolleider", "Bestuurder", "Anders"]
    assert event.recording_url == "https://video.example.org/opname"
    assert (event.reminder_days_before, event.join_link_minutes_before, event.followup_minutes_after) == (None, 15, 120)
    assert (event.followup_joined_text, event.followup_missed_text) == ("Dank voor uw komst.", "Jammer dat u er niet was.")
    assert event.registration_opens_at == NOW.replace(month=4, day=20, hour=9)
    page = client.get(f"/events/{event.slug}").get_data(as_text=True)
    assert 'value="Bestuurder"' in page and 'value="Intern begeleider"' not in page
    editor = organiser_client.get(f"/organiser/events/{event.slug}/bewerken").get_data(as_text=True)
    assert 'value="https://video.example.org/opname"' in editor and 'value="15"' in editor
    assert 'value="2027-05-24T12:00"' in editor


@pytest.mark.parametrize(("field", "value", "message"), [
    ("join_link_minutes_before", "", "Vul een aantal minuten in."),
    ("join_link_minutes_before", "een half uur", "Vul een heel getal in, bijvoorbeeld 30."),
    ("followup_minutes_after", "99999", "Kies 0 tot 20160 minuten (14 dagen)."),
    ("reminder_days_before", "40", "Kies 0 tot 30 dagen."),
    ("reminder_local_time", "25:00", "Gebruik UU:MM, bijvoorbeeld 10:00."),
    ("recording_url", "geen link", "Dat is geen geldige link."),
    ("capacity", "veel", "Vul een heel getal in, bijvoorbeeld 30."),
])
def test_a_bad_mail_schedule_is_refused_in_dutch(organiser_client, event, field, value, message):
    form = dict(EVENT_FORM, title=event.title, slug=event.slug, starts_at="2027-05-25T16:00",
                ends_at="2027-05-25T17:15", **{field: value})
    response = organiser_client.post(f"/organiser/events/{event.slug}/bewerken", data=form)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    db.session.rollback()
    assert (event.join_link_minutes_before, event.capacity, event.recording_url) == (30, 100, None)


def test_moving_an_event_in_the_editor_tells_registrants(organiser_client, client, event, smtp):
    post_registration(client, event)
    deliver()
    form = dict(EVENT_FORM, title=event.title, slug=event.slug, starts_at="2027-06-01T16:00", ends_at="2027-06-01T17:15", capacity="100")
    response = organiser_client.post(f"/organiser/events/{event.slug}/bewerken", data=form)
    assert response.status_code == 302
    deliver()
    assert smtp.messages[-1]["Subject"].strip() == "Gewijzigd tijdstip: Samen onderwijs versnellen"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "event.edit"))
    assert "starts_at/ends_at" in entry.summary and entry.organiser_email == ORGANISER_EMAIL


def test_more_places_promote_the_waiting_list(organiser_client, client, event):
    event.capacity = 1
    db.session.commit()
    post_registration(client, event, email="eerste@example.org")
    post_registration(client, event, email="tweede@example.org")
    form = dict(EVENT_FORM, title=event.title, slug=event.slug, starts_at="2027-05-25T16:00", ends_at="2027-05-25T17:15", capacity="2")
    organiser_client.post(f"/organiser/events/{event.slug}/bewerken", data=form)
    statuses = db.session.scalars(select(Registration.status)).all()
    assert statuses == [RegistrationStatus.confirmed, RegistrationStatus.confirmed]
    assert db.session.scalar(select(func.count()).where(OutgoingMail.kind == "promoted")) == 1


def test_duplicate_and_cancel(organiser_client, client, event, smtp):
    response = organiser_client.post(f"/organiser/events/{event.slug}/dupliceren", data={
        "title": event.title, "starts_at": "2027-06-08T16:00", "ends_at": "2027-06-08T17:15"})
    assert response.headers["Location"] == "/organiser/events/samen-onderwijs-versnellen-2"
    copy = db.session.scalar(select(Event).where(Event.slug == "samen-onderwijs-versnellen-2"))
    assert copy.title == "Samen onderwijs versnellen" and copy.ics_uid != event.ics_uid
    post_registration(client, event)
    assert "Ja, annuleer de bijeenkomst" in organiser_client.get(f"/organiser/events/{event.slug}/annuleren").get_data(as_text=True)
    organiser_client.post(f"/organiser/events/{event.slug}/annuleren")
    deliver()
    assert smtp.messages[-1]["Subject"].strip() == "Gaat niet door: Samen onderwijs versnellen"


def test_dashboard_counts_charts_and_mail(organiser_client, client, event, smtp):
    event.capacity = 2
    db.session.commit()
    post_registration(client, event, email="a@example.org", role="Schoolleider")
    post_registration(client, event, email="b@example.org", role="HRM'er", organisation_type="Gemeente")
    post_registration(client, event, email="c@example.org")
    smtp.replies.append("550 no such user")
    deliver()
    page = organiser_client.get(f"/organiser/events/{event.slug}").get_data(as_text=True)
    assert re.search(r'id="count-confirmed">2<', page)
    assert re.search(r'id="count-waitlisted">1<', page)
    assert re.search(r'id="places-left">0<', page)
    assert page.count('<svg class="chart" role="img"') == 3
    assert "<title>Schoolleider: 1</title>" in page and "<title>Gemeente: 1</title>" in page
    assert "550 no such user" in page
    assert "<td>Bevestiging van de aanmelding</td><td>Mislukt</td><td>1</td>" in page
    assert "<td>Bevestiging van de aanmelding</td><td>Verstuurd</td><td>1</td>" in page
    assert "<td>Op de wachtlijst</td><td>Verstuurd</td><td>1</td>" in page
    assert "Mislukte e-mails opnieuw versturen</button>" in page
    organiser_client.post(f"/organiser/events/{event.slug}/mail/opnieuw")
    deliver()
    assert db.session.scalar(select(func.count()).where(OutgoingMail.status == MailStatus.failed)) == 0
    assert len(smtp.messages) == 3
    page = organiser_client.get(f"/organiser/events/{event.slug}").get_data(as_text=True)
    assert "<td>Bevestiging van de aanmelding</td><td>Verstuurd</td><td>2</td>" in page
    assert "Mislukte e-mails opnieuw versturen" not in page
    assert db.session.scalar(select(AuditEntry.summary).where(AuditEntry.action == "mail.retry")) == (
        "mislukte e-mails opnieuw in de wachtrij: 1")


def test_dashboard_counts_cancelled_joined_and_organisation_types(organiser_client, client, event):
    for email, kind in (("a@example.org", "School"), ("b@example.org", "School"), ("c@example.org", "Gemeente"),
                        ("d@example.org", "Schoolbestuur")):
        post_registration(client, event, email=email, organisation_type=kind)
    [first, _, _, fourth] = db.session.scalars(select(Registration).order_by(Registration.id)).all()
    cancel_registration(fourth)
    db.session.add(Attendance(registration_id=first.id, first_joined_at=utcnow(), last_joined_at=utcnow()))
    db.session.commit()
    page = organiser_client.get(f"/organiser/events/{event.slug}").get_data(as_text=True)
    assert re.search(r'id="count-confirmed">3<', page) and re.search(r'id="count-cancelled">1<', page)
    assert re.search(r'id="count-joined">1<', page) and re.search(r'id="places-left">97<', page)
    assert "<title>School: 2</title>" in page and "<title>Gemeente: 1</title>" in page
    assert '<desc id="per-soort-desc">School: 2; Gemeente: 1</desc>' in page  # read out with the chart
    assert "<tr><td>School</td><td>2</td></tr><tr><td>Gemeente</td><td>1</td></tr>" in page  # and as a table
    assert "Schoolbestuur:" not in page  # counted among the confirmed only


def test_audit_log_shows_who_did_what(organiser_client, event):
    organiser_client.post(f"/organiser/events/{event.slug}/dupliceren", data={
        "title": event.title, "starts_at": "2027-06-08T16:00", "ends_at": "2027-06-08T17:15"})
    page = organiser_client.get("/organiser/audit").get_data(as_text=True)
    assert "<td>Bijeenkomst gekopieerd</td>" in page and "<td>Mieke Organisator</td>" in page
    assert "event.duplicate" not in page.split("<table")[1]  # a code only as the kind filter's value


def test_organiser_passwords_are_hashed(organiser):
    stored = db.session.scalar(select(Organiser.password_hash))
    assert stored.startswith("scrypt:") and ORGANISER_PASSWORD not in stored
