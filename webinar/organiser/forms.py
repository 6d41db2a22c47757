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
from ..forms import MultiCheckboxField, email_address, plain_text, single_line, strip
from ..registration.models import ORGANISATION_TYPES, RegistrationStatus
from .broadcast_services import JOINED, PLACEHOLDERS, STATUSES, Selection, unknown_placeholders, uses_placeholder
from .models import Broadcast
from .passwords import PASSWORD_HINT
from .roles import ROLE_DESCRIPTIONS, ROLES

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


def _role_choices() -> list[tuple[str, str]]:
    return [SelectChoice(role, f"{label}: {ROLE_DESCRIPTIONS[role][:1].lower()}{ROLE_DESCRIPTIONS[role][1:]}")
            for role, label in ROLES.items()]


class InviteForm(FlaskForm):
    email = StringField("E-mailadres van de nieuwe collega", _EMAIL)
    role = RadioField("Rol", choices=_role_choices(), default="organisator",
                      validators=[InputRequired("Kies een rol.")])


class RoleForm(FlaskForm):
    """One account's role, on the accounts page."""

    role = SelectField("Rol", choices=[SelectChoice(role, label) for role, label in ROLES.items()], validators=[InputRequired("Kies een rol.")])


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
    """An event's details and mail schedule. Times are Amsterdam local time.

    Every text refuses control characters (`single_line`, `plain_text`): PostgreSQL refuses a NUL in text, and
    none belongs in a page or an e-mail.
    """

    title = StringField("Titel", [DataRequired("Vul een titel in."), Length(max=200), single_line])
    slug = StringField(
        "Naam in de link (/events/…; leeg: gemaakt uit de titel)",
        [Optional(), Length(max=80, message="De naam in de link mag hoogstens 80 tekens hebben."),
         Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$", message="Gebruik kleine letters, cijfers en streepjes.")],
        filters=[strip],
    )
    starts_at = DateTimeLocalField("Begint", [DataRequired("Vul het begin in (datum en tijd).")], format=_LOCAL)
    ends_at = DateTimeLocalField("Eindigt", [DataRequired("Vul het einde in (datum en tijd).")], format=_LOCAL)
    summary = TextAreaField("Korte omschrijving", [Length(max=1000), plain_text])
    body = TextAreaField("Beschrijving", [Length(max=20000), plain_text])
    audience = TextAreaField("Voor wie", [Length(max=5000), plain_text])
    practical = TextAreaField("Praktische informatie", [Length(max=5000), plain_text])
    registration_opens_at = DateTimeLocalField("Aanmelden vanaf (leeg: nu)", [Optional()], format=_LOCAL)
    registration_closes_at = DateTimeLocalField("Aanmelden tot (leeg: tot de start)", [Optional()], format=_LOCAL)
    capacity = WholeNumberField("Aantal plaatsen (leeg: geen grens)", [Optional(), NumberRange(min=1, max=100000, message="Kies 1 of meer plaatsen.")])
    roles = TextAreaField("Rollen om uit te kiezen (één per regel; 'Anders' komt er altijd bij)", [Length(max=2000), plain_text])
    meeting_url = StringField("Link naar de online vergadering (geheim)", [Optional(), URL(message="Dat is geen geldige link."), Length(max=500)])
    recording_url = StringField("Link naar opname of presentatie", [Optional(), URL(message="Dat is geen geldige link."), Length(max=500)])
    contact_name = StringField("Contactpersoon", [Length(max=200), single_line])
    contact_email = StringField("E-mail contactpersoon (antwoorden op de e-mails van deze bijeenkomst gaan hierheen)",
                                [Optional(), Email("Dat is geen geldig e-mailadres.")])
    contact_phone = StringField("Telefoon contactpersoon", [Length(max=50), single_line])
    reminder_days_before = WholeNumberField("Herinnering: dagen vooraf (leeg: geen)", [Optional(), NumberRange(min=0, max=30, message="Kies 0 tot 30 dagen.")])
    reminder_local_time = StringField("Herinnering: tijdstip (UU:MM)", [DataRequired(), Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", message="Gebruik UU:MM, bijvoorbeeld 10:00.")])
    join_link_minutes_before = WholeNumberField("Deelnamelink: minuten voor de start", [
        InputRequired("Vul een aantal minuten in."), NumberRange(min=0, max=1440, message="Kies 0 tot 1440 minuten.")])
    followup_minutes_after = WholeNumberField("Nabericht: minuten na afloop", [
        InputRequired("Vul een aantal minuten in."), NumberRange(min=0, max=20160, message="Kies 0 tot 20160 minuten (14 dagen).")])
    followup_joined_text = TextAreaField("Nabericht voor wie deelnam (leeg: geen)", [Length(max=10000), plain_text])
    followup_missed_text = TextAreaField("Nabericht voor wie niet deelnam (leeg: geen)", [Length(max=10000), plain_text])
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
    """Whom a message goes to (every checked condition holds; none checked: any), and what it says."""

    roles = MultiCheckboxField("Rol (niets aangevinkt: alle rollen)", validate_choice=False)
    statuses = MultiCheckboxField("Status", default=[RegistrationStatus.confirmed.value], validate_choice=False,
                                  choices=[SelectChoice(RegistrationStatus.confirmed.value, "Aangemeld (bevestigd)"),
                                           SelectChoice(RegistrationStatus.waitlisted.value, "Op de wachtlijst")])
    organisation_types = MultiCheckboxField("Soort organisatie (niets aangevinkt: alle soorten)",
                                            choices=[SelectChoice(kind) for kind in ORGANISATION_TYPES],
                                            validate_choice=False)
    joined = RadioField("Deelgenomen aan de bijeenkomst?", default="", validate_choice=False,
                        choices=[SelectChoice("", "Maakt niet uit"), SelectChoice("ja", "Alleen wie heeft deelgenomen"),
                                 SelectChoice("nee", "Alleen wie niet heeft deelgenomen")])
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

    #: the fields that say whom the message goes to
    SELECTION = ("roles", "statuses", "organisation_types", "joined")

    def __init__(self, event: Event, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.event = event
        self.roles.choices = [SelectChoice(role) for role in event.role_choices()]

    # The fields' own choice checks speak English: these say it in Dutch.
    def validate_roles(self, field):
        if not set(field.data or ()) <= set(self.event.role_choices()):
            raise ValidationError("Kies rollen uit de lijst.")

    def validate_statuses(self, field):
        if not field.data:
            raise ValidationError("Kies ten minste één status: aangemeld, op de wachtlijst of beide.")
        if not set(field.data) <= set(STATUSES):
            raise ValidationError("Kies een status uit de lijst.")

    def validate_organisation_types(self, field):
        if not set(field.data or ()) <= set(ORGANISATION_TYPES):
            raise ValidationError("Kies soorten organisatie uit de lijst.")

    def validate_joined(self, field):
        if field.data not in JOINED:
            raise ValidationError("Kies of de ontvangers hebben deelgenomen.")

    def validate_subject(self, field):
        _check_placeholders(field.data)

    def validate_body(self, field):
        _check_placeholders(field.data)
        if RegistrationStatus.waitlisted.value in (self.statuses.data or ()) and uses_placeholder("deelnamelink", field.data):
            raise ValidationError("Wie op de wachtlijst staat kan nog niet deelnemen: "
                                  "gebruik {deelnamelink} hier niet, of stuur alleen aan wie is aangemeld.")

    def validate_selection(self) -> bool:
        """Check only whom the message goes to (for counting the recipients before saving)."""
        ok = True
        for name in self.SELECTION:
            field = getattr(self, name)
            ok = field.validate(self, [getattr(type(self), f"validate_{name}")]) and ok
        return ok

    def selection(self) -> Selection:
        """Whom the message goes to, in the order of the choices."""
        def chosen(field) -> tuple[str, ...]:
            return tuple(choice.value for choice in field.choices if choice.value in (field.data or ()))
        return Selection(roles=chosen(self.roles), statuses=chosen(self.statuses),
                         organisation_types=chosen(self.organisation_types), joined=self.joined.data or "")

    def values(self) -> dict:
        """The message as entered, as save_draft takes it."""
        return {"selection": self.selection(), "subject": self.subject.data, "body": self.body.data}

    def fill_from(self, broadcast: Broadcast) -> None:
        """Show a draft's selection (the form's obj= sets only the text fields right)."""
        selection = Selection.of(broadcast)
        self.roles.data, self.statuses.data = list(selection.roles), list(selection.statuses)
        self.organisation_types.data, self.joined.data = list(selection.organisation_types), selection.joined


class MessageTestForm(FlaskForm):
    """Where a test of a message goes: any address the organiser types."""

    address = StringField("Stuur een test naar", [DataRequired("Vul het e-mailadres voor de test in."),
                                                  single_line, email_address, Length(max=254)],
                          filters=[strip], render_kw={"autocomplete": "email", "type": "email"})


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
