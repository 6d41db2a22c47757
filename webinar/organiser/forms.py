"""Forms of the organiser area."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    IntegerField,
    PasswordField,
    StringField,
    TextAreaField,
)
from wtforms.validators import URL, DataRequired, Email, InputRequired, Length, NumberRange, Optional, Regexp

from ..forms import single_line
from .passwords import PASSWORD_HINT

_EMAIL = [DataRequired("Vul een e-mailadres in."), Email("Dat is geen geldig e-mailadres."), single_line]
#: length and strength are checked by the one password rule (passwords.check_new_password)
_NEW_PASSWORD = [DataRequired("Kies een wachtwoord.")]


class LoginForm(FlaskForm):
    email = StringField("E-mailadres", _EMAIL, render_kw={"autocomplete": "username"})
    password = PasswordField("Wachtwoord", [DataRequired("Vul uw wachtwoord in.")],
                             render_kw={"autocomplete": "current-password"})


class PasswordForm(FlaskForm):
    current = PasswordField("Huidig wachtwoord", [DataRequired("Vul uw huidige wachtwoord in.")],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField("Nieuw wachtwoord", _NEW_PASSWORD, description=PASSWORD_HINT,
                        render_kw={"autocomplete": "new-password"})


class InviteForm(FlaskForm):
    email = StringField("E-mailadres van de nieuwe organisator", _EMAIL)


class AcceptInvitationForm(FlaskForm):
    name = StringField("Uw naam", [DataRequired("Vul uw naam in."), Length(max=200), single_line],
                       render_kw={"autocomplete": "name"})
    password = PasswordField("Wachtwoord", _NEW_PASSWORD, description=PASSWORD_HINT,
                             render_kw={"autocomplete": "new-password"})


_LOCAL = "%Y-%m-%dT%H:%M"


class WholeNumberField(IntegerField):
    """An IntegerField whose complaint about text that is no number is in Dutch."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError("Vul een heel getal in, bijvoorbeeld 30.") from error


class EventForm(FlaskForm):
    """An event's details and mail schedule. Times are Amsterdam local time."""

    title = StringField("Titel", [DataRequired("Vul een titel in."), Length(max=200), single_line])
    slug = StringField(
        "Naam in de link (/events/…)",
        [DataRequired("Vul een naam voor de link in."), Length(max=80),
         Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$", message="Gebruik kleine letters, cijfers en streepjes.")],
    )
    starts_at = DateTimeLocalField("Begint", [DataRequired("Vul het begin in (datum en tijd).")], format=_LOCAL)
    ends_at = DateTimeLocalField("Eindigt", [DataRequired("Vul het einde in (datum en tijd).")], format=_LOCAL)
    summary = TextAreaField("Korte omschrijving", [Length(max=1000)])
    body = TextAreaField("Beschrijving", [Length(max=20000)])
    audience = TextAreaField("Voor wie", [Length(max=5000)])
    practical = TextAreaField("Praktische informatie", [Length(max=5000)])
    registration_opens_at = DateTimeLocalField("Aanmelden vanaf (leeg: nu)", [Optional()], format=_LOCAL)
    registration_closes_at = DateTimeLocalField("Aanmelden tot (leeg: tot de start)", [Optional()], format=_LOCAL)
    capacity = WholeNumberField("Aantal plaatsen (leeg: geen grens)", [Optional(), NumberRange(min=1, max=100000, message="Kies 1 of meer plaatsen.")])
    roles = TextAreaField("Rollen om uit te kiezen (één per regel; 'Anders' komt er altijd bij)", [Length(max=2000)])
    meeting_url = StringField("Link naar de online vergadering (geheim)", [Optional(), URL(message="Dat is geen geldige link."), Length(max=500)])
    recording_url = StringField("Link naar opname of presentatie", [Optional(), URL(message="Dat is geen geldige link."), Length(max=500)])
    contact_name = StringField("Contactpersoon", [Length(max=200), single_line])
    contact_email = StringField("E-mail contactpersoon", [Optional(), Email("Dat is geen geldig e-mailadres.")])
    contact_phone = StringField("Telefoon contactpersoon", [Length(max=50), single_line])
    reminder_days_before = WholeNumberField("Herinnering: dagen vooraf (leeg: geen)", [Optional(), NumberRange(min=0, max=30, message="Kies 0 tot 30 dagen.")])
    reminder_local_time = StringField("Herinnering: tijdstip (UU:MM)", [DataRequired(), Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", message="Gebruik UU:MM, bijvoorbeeld 10:00.")])
    join_link_minutes_before = WholeNumberField("Deelnamelink: minuten voor de start", [
        InputRequired("Vul een aantal minuten in."), NumberRange(min=0, max=1440, message="Kies 0 tot 1440 minuten.")])
    followup_minutes_after = WholeNumberField("Nabericht: minuten na afloop", [
        InputRequired("Vul een aantal minuten in."), NumberRange(min=0, max=20160, message="Kies 0 tot 20160 minuten (14 dagen).")])
    followup_joined_text = TextAreaField("Nabericht voor wie deelnam (leeg: geen)", [Length(max=10000)])
    followup_missed_text = TextAreaField("Nabericht voor wie niet deelnam (leeg: geen)", [Length(max=10000)])
