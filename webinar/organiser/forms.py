"""Forms of the organiser area."""

from __future__ import annotations

from datetime import datetime

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from ..database import utcnow
from ..dutch import AMSTERDAM
from ..events.models import Event
from ..forms import plain_text, single_line, strip
from .broadcast_services import PLACEHOLDERS, SEGMENTS, unknown_placeholders, uses_placeholder
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


class MomentField(DateTimeLocalField):
    """A date and time (Amsterdam), with a Dutch complaint about text that is none."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError("Vul een datum en tijd in, bijvoorbeeld 2027-11-02 16:00.") from error


class EventForm(FlaskForm):
    """An event's details and mail schedule. Times are Amsterdam local time."""

    title = StringField("Titel", [DataRequired("Vul een titel in."), Length(max=200), single_line])
    slug = StringField(
        "Naam in de link (/events/…; leeg: gemaakt uit de titel)",
        [Optional(), Length(max=80, message="De naam in de link mag hoogstens 80 tekens hebben."),
         Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$", message="Gebruik kleine letters, cijfers en streepjes.")],
        filters=[strip],
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
    certificate_enabled = BooleanField("Bewijs van deelname (pdf) voor wie lang genoeg aanwezig was")
    certificate_min_percent = WholeNumberField("Minimale aanwezigheid voor een bewijs (% van de duur; leeg: 75)", [
        Optional(), NumberRange(min=1, max=100, message="Kies 1 tot 100 procent.")])


class DuplicateForm(FlaskForm):
    """What a copy of an event needs anew: its title, date and time, and meeting link. Times are Amsterdam time."""

    title = StringField("Titel", [DataRequired("Vul een titel in."), Length(max=200), single_line], filters=[strip])
    starts_at = MomentField("Begint", [DataRequired("Vul het nieuwe begin in (datum en tijd).")], format=_LOCAL)
    ends_at = MomentField("Eindigt", [DataRequired("Vul het nieuwe einde in (datum en tijd).")], format=_LOCAL)
    meeting_url = StringField("Link naar de online vergadering (geheim; leeg: later invullen)", [
        Optional(), URL(message="Dat is geen geldige link."), Length(max=500)], filters=[strip])

    def validate_ends_at(self, field):
        if self.starts_at.data and field.data and field.data <= self.starts_at.data:
            raise ValidationError("Het einde moet na het begin liggen.")


class MessageForm(FlaskForm):
    """Who a message goes to, and what it says."""

    segment = RadioField("Aan wie?", choices=[SelectChoice(name, s.label) for name, s in SEGMENTS.items()],
                         validate_choice=False)
    role = SelectField("Rol (bij 'Aangemelden met een bepaalde rol')", validate_choice=False)
    subject = StringField("Onderwerp", [
        DataRequired("Vul een onderwerp in."),
        Length(max=200, message="Het onderwerp mag hoogstens 200 tekens hebben."),
        single_line,
    ], filters=[strip])
    body = TextAreaField("Bericht", [
        DataRequired("Schrijf een bericht."),
        Length(max=20000, message="Het bericht mag hoogstens 20.000 tekens hebben."),
        plain_text,
    ], filters=[strip], render_kw={"rows": 14})

    def __init__(self, event: Event, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.event = event
        roles = [SelectChoice(role) for role in event.role_choices()]
        self.role.choices = [SelectChoice("", "Kies een rol"), *roles]

    def validate_segment(self, field):
        if field.data not in SEGMENTS:  # RadioField's own check speaks English
            raise ValidationError("Kies aan wie het bericht gaat.")

    def validate_role(self, field):
        if self.segment.data == "role" and field.data not in self.event.role_choices():
            raise ValidationError("Kies de rol van de ontvangers.")

    def validate_subject(self, field):
        _check_placeholders(field.data)

    def validate_body(self, field):
        _check_placeholders(field.data)
        if self.segment.data == "waitlisted" and uses_placeholder("deelnamelink", field.data):
            raise ValidationError("Wie op de wachtlijst staat kan nog niet deelnemen: "
                                  "gebruik {deelnamelink} hier niet.")

    def values(self) -> dict[str, str]:
        """The message as entered."""
        role = self.role.data if self.segment.data == "role" else ""
        return {"segment": self.segment.data, "role": role or "",
                "subject": self.subject.data, "body": self.body.data}


def _check_placeholders(text: str | None) -> None:
    unknown = unknown_placeholders(text or "")
    if unknown:
        known = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
        noun = "Onbekende plaatshouders" if len(unknown) > 1 else "Onbekende plaatshouder"
        raise ValidationError(f"{noun}: {', '.join(unknown)}. U kunt gebruiken: {known}.")


class SendForm(FlaskForm):
    """Send now or at a later moment (Amsterdam time)."""

    when = RadioField("Wanneer versturen?", default="nu", validate_choice=False,
                      choices=[SelectChoice("nu", "Nu"), SelectChoice("later", "Op een later moment")])
    send_at = StringField("Datum en tijd", filters=[strip], render_kw={"type": "datetime-local"})

    def validate_when(self, field):
        if field.data not in ("nu", "later"):
            raise ValidationError("Kies wanneer het bericht verstuurd wordt.")

    def validate_send_at(self, field):
        if self.when.data != "later":
            return
        try:
            moment = datetime.strptime(field.data or "", _LOCAL).replace(tzinfo=AMSTERDAM)
        except ValueError:
            raise ValidationError("Vul de datum en tijd in waarop het bericht verstuurd wordt.") from None
        if moment <= utcnow():
            raise ValidationError("Kies een moment in de toekomst.")

    def moment(self, now: datetime) -> datetime:
        """When the message goes out."""
        if self.when.data == "later":
            return datetime.strptime(self.send_at.data, _LOCAL).replace(tzinfo=AMSTERDAM)
        return now


class ReportForm(FlaskForm):
    """One uploaded report file; what kind of report it is, the parser finds out."""

    report = FileField(
        "Aanwezigheidsrapport (CSV-bestand van Teams of Zoom)",
        [FileRequired("Kies het aanwezigheidsrapport dat u wilt inlezen.")],
        render_kw={"accept": ".csv,.txt,text/csv,text/plain"},
    )


class ReportAgainForm(FlaskForm):
    """The report a date warning carries to its "read it anyway" button (base64 of the file)."""

    inhoud = HiddenField(validators=[DataRequired()])


class ImportForm(FlaskForm):
    """The upload; its size is limited by IMPORT_MAX_BYTES (see webinar/uploads.py)."""

    file = FileField("CSV-bestand", [FileRequired("Kies een CSV-bestand.")])
