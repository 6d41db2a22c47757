"""The public request form: the requester, one row per school, the help asked for."""

from __future__ import annotations

import re
import secrets

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from ..database import utcnow
from ..dutch import local
from ..forms import BRIN_MESSAGE, MultiCheckboxField, email_address, normalize_brin, plain_text, single_line, strip
from .costs import MAX_HALF_DAYS
from .models import HELP_TYPES, JUDGEMENT_REASONS, REASONS, SECTORS
from .services import RequestDetails, SchoolDetails

#: schools one request may hold
MAX_SCHOOLS = 20
KEY = re.compile(r"^[0-9a-f]{32}$")


def _text(label, required=None, max_length=200, **kwargs):
    checks = [DataRequired(required)] if required else []
    checks += [Length(max=max_length, message=f"{label} mag hoogstens {max_length} tekens hebben."), single_line]
    return StringField(label, checks, filters=[strip], **kwargs)


def _long_text(label, max_length=2000):
    return TextAreaField(
        label, [Length(max=max_length, message=f"Hoogstens {max_length} tekens."), plain_text],
        filters=[strip],
    )


class DutchDateField(DateField):
    """DateField with a Dutch message for text that is no date."""

    def process_formdata(self, valuelist):
        if valuelist and not valuelist[0].strip():
            self.data = None  # empty: the form decides whether a date is needed
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Vul een geldige datum in (dag, maand en jaar).") from None


class SchoolForm(Form):
    """One school the request is for."""

    name = _text("Naam van de school", "Vul de naam van de school in.")
    brin = StringField(
        "BRIN-code", [DataRequired("Vul de BRIN-code van de school in.")], filters=[strip],
        render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": 8},
    )
    sector = RadioField("Sector", choices=[SelectChoice(key, label) for key, label in SECTORS.items()], validate_choice=False)
    reason = RadioField("Waarom hoort de school bij de doelgroep?", choices=[SelectChoice(key, label) for key, label in REASONS.items()],
                        validate_choice=False)
    judgement_date = DutchDateField("Datum van het oordeel van de inspectie",
                               render_kw={"autocomplete": "off"})
    risk_description = _long_text("Welk risico ziet de school?")
    half_days = IntegerField(
        "Gewenste inzet in dagdelen", invalid_value_message="Vul een heel getal in, bijvoorbeeld 8.",
        render_kw={"inputmode": "numeric", "min": 1, "max": MAX_HALF_DAYS},
    )

    def validate_brin(self, field):
        try:
            field.data = normalize_brin(field.data)
        except ValueError:
            raise ValidationError(BRIN_MESSAGE) from None

    def validate_half_days(self, field):
        # Checked here, not with DataRequired: that would drop the "not a number" message.
        if not (field.raw_data and field.raw_data[0].strip()):
            field.errors[:] = []  # empty is not "not a number": say what to fill in
            raise ValidationError(f"Vul het aantal dagdelen in (1 tot {MAX_HALF_DAYS}).")
        if field.process_errors:
            return
        if not 1 <= field.data <= MAX_HALF_DAYS:
            raise ValidationError(f"Vraag 1 tot {MAX_HALF_DAYS} dagdelen aan: hoogstens 2 × 8 per school.")

    def validate_sector(self, field):
        if field.data not in SECTORS:
            raise ValidationError("Kies de sector van de school.")

    def validate_reason(self, field):
        if field.data not in REASONS:
            raise ValidationError("Geef aan waarom de school bij de doelgroep hoort (of kies 'Geen van deze').")

    def validate_judgement_date(self, field):
        if self.reason.data in JUDGEMENT_REASONS and field.data is None:
            raise ValidationError("Vul de datum van het oordeel van de inspectie in.")
        if field.data and field.data > local(utcnow()).date():
            raise ValidationError("De datum van het oordeel ligt in de toekomst.")

    def validate_risk_description(self, field):
        if self.reason.data == "risico" and not field.data:
            raise ValidationError("Beschrijf kort welk risico de school ziet.")

    def details(self) -> SchoolDetails:
        judgement = self.reason.data in JUDGEMENT_REASONS
        return SchoolDetails(
            name=self.name.data,
            brin=self.brin.data,
            sector=self.sector.data,
            reason=self.reason.data,
            judgement_date=self.judgement_date.data if judgement else None,
            risk_description=(self.risk_description.data or "") if self.reason.data == "risico" else "",
            half_days=self.half_days.data,
        )


class SupportRequestForm(FlaskForm):
    """The whole request; 'School toevoegen' adds a row and shows the form again."""

    requester_name = _text("Uw naam", "Vul uw naam in.", render_kw={"autocomplete": "name"})
    requester_position = _text("Uw functie", "Vul uw functie in.",
                               render_kw={"autocomplete": "organization-title"})
    requester_email = StringField(
        "E-mailadres",
        [DataRequired("Vul uw e-mailadres in."), Length(max=254, message="Dit e-mailadres is te lang."),
         single_line, email_address],
        filters=[strip], render_kw={"autocomplete": "email", "inputmode": "email", "spellcheck": "false"},
    )
    requester_phone = _text("Telefoonnummer", "Vul een telefoonnummer in waarop wij u kunnen bereiken.",
                            max_length=50, render_kw={"autocomplete": "tel", "inputmode": "tel"})
    kind = RadioField("Voor wie vraagt u ondersteuning aan?", validate_choice=False, default="school",
                      choices=[SelectChoice("school", "Voor één school"),
                               SelectChoice("board", "Namens een schoolbestuur, voor een of meer scholen")])
    board_name = _text("Naam van het bestuur")
    schools = FieldList(FormField(SchoolForm), min_entries=1, max_entries=MAX_SCHOOLS)
    help_types = MultiCheckboxField("Waarbij wilt u hulp?", choices=[SelectChoice(key, label) for key, label in HELP_TYPES.items()],
                                    validate_choice=False)
    help_text = _long_text("Uw vraag in uw eigen woorden", max_length=5000)
    privacy = BooleanField("Ik heb de privacyverklaring gelezen en ga ermee akkoord.",
                           [DataRequired("Geef aan dat u de privacyverklaring hebt gelezen.")])
    #: left empty by people; bots that fill every field give themselves away
    website = StringField("Laat dit veld leeg", filters=[strip])
    #: one random key per filled-in form, so that sending it twice stores one request
    key = HiddenField()

    def ensure_key(self) -> None:
        """Give the form its random key, unless it carries a good one."""
        if not KEY.match(self.key.data or ""):
            self.key.data = secrets.token_hex(16)

    def is_bot(self) -> bool:
        return bool(self.website.data)

    def validate_kind(self, field):
        if field.data not in ("school", "board"):
            raise ValidationError("Kies of u aanvraagt voor één school of namens een bestuur.")
        if field.data == "school" and len(self.schools.entries) > 1:
            raise ValidationError(
                "Voor meer dan één school vraagt u aan namens een bestuur: kies die optie, "
                "of verwijder de scholen die er te veel zijn."
            )

    def validate_board_name(self, field):
        if self.kind.data == "board" and not field.data:
            raise ValidationError("Vul de naam van het bestuur in.")

    def validate_help_types(self, field):
        if any(value not in HELP_TYPES for value in field.data or []):
            raise ValidationError("Kies uit de lijst waarbij u hulp wilt.")
        if not field.data and not self.help_text.data:
            raise ValidationError("Kies waarbij u hulp wilt, of beschrijf uw vraag hieronder.")

    def details(self) -> RequestDetails:
        """The filled-in request."""
        board = self.kind.data == "board"
        return RequestDetails(
            requester_name=self.requester_name.data,
            requester_position=self.requester_position.data,
            requester_email=self.requester_email.data,
            requester_phone=self.requester_phone.data,
            board_name=self.board_name.data if board else "",
            help_types=[key for key in HELP_TYPES if key in (self.help_types.data or [])],
            help_text=self.help_text.data or "",
            schools=[entry.form.details() for entry in self.schools.entries],
        )

    def add_school(self) -> bool:
        """One more empty row (and so a board's request); False when the form already has the most."""
        if len(self.schools.entries) >= MAX_SCHOOLS:
            return False
        self.schools.append_entry()
        self.kind.data = "board"  # several schools: a board's request
        return True

    def remove_school(self, index: str) -> None:
        """Drop the row shown as number `index` (from 0); the last row stays."""
        rows = self.schools.entries
        if index.isdigit() and int(index) < len(rows) and len(rows) > 1:
            del rows[int(index)]


class SupportUpdateForm(FlaskForm):
    """An organiser's changes to a request; `current_status` is the request's status (a value) before them."""

    current_status = ""

    status = RadioField("Status", validate_choice=False)
    adviser = _text("Adviseur")
    notes = _long_text("Notities (alleen voor organisatoren)", max_length=10000)
    inform = BooleanField("Aanvrager per e-mail laten weten dat de status is gewijzigd")
    status_note = _long_text("Bericht aan de aanvrager (optioneel; komt in de e-mail over de nieuwe status)",
                             max_length=5000)

    def validate_status_note(self, field):
        # The note only travels with the status e-mail: without one it would reach no one.
        if (field.data or "").strip() and not (self.inform.data and self.status.data != self.current_status):
            raise ValidationError("Een bericht aan de aanvrager gaat mee met de e-mail over een nieuwe status: "
                                  "kies een nieuwe status en vink aan dat de aanvrager bericht krijgt.")
