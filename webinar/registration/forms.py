"""Registration forms, with Dutch messages and a length limit on every field."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..events.models import OTHER_ROLE, Event
from ..forms import LazyTokenCSRF, bind_from_prototype, brin_code, email_address, plain_text, single_line, strip
from .models import ORGANISATION_TYPES, SCHOOL, SECTORS
from .services import Details


def _email(label: str) -> StringField:
    """A required e-mail address field: one line, at most 254 characters, a deliverable form."""
    return StringField(
        label,
        [
            DataRequired("Vul uw e-mailadres in."),
            Length(max=254, message="Dit e-mailadres is te lang."),
            single_line,
            email_address,
        ],
        filters=[strip],
        render_kw={"autocomplete": "email", "inputmode": "email", "spellcheck": "false"},
    )


def _text(label, required_message=None, max_length=100, **kwargs):
    # DataRequired looks at the stripped value, so "   " counts as empty.
    checks = [DataRequired(required_message)] if required_message else []
    checks += [
        Length(max=max_length, message=f"{label} mag hoogstens {max_length} tekens hebben."),
        single_line,
    ]
    return StringField(label, checks, filters=[strip], **kwargs)


class DetailsForm(FlaskForm):
    """The registrant's details, as registered and as changed later."""

    class Meta:
        csrf_class = LazyTokenCSRF
        bind_field = bind_from_prototype  # built for every sign-up: its fields copied, not bound anew

    first_name = _text("Voornaam", "Vul uw voornaam in.", render_kw={"autocomplete": "given-name"})
    tussenvoegsel = _text("Tussenvoegsel", max_length=30, render_kw={"autocomplete": "off"})
    last_name = _text("Achternaam", "Vul uw achternaam in.", render_kw={"autocomplete": "family-name"})
    email = _email("E-mailadres")
    organisation = _text(
        "School, bestuur of organisatie",
        "Vul de naam van uw school, bestuur of organisatie in.",
        max_length=200,
        render_kw={"autocomplete": "organization"},
    )
    organisation_type = SelectField(
        "Soort organisatie",
        choices=[SelectChoice("", "Maak een keuze")] + [SelectChoice(kind) for kind in ORGANISATION_TYPES],
        validate_choice=False,
    )
    brin = StringField(
        "BRIN-code (niet verplicht)",
        [Length(max=10, message="Een BRIN-code heeft hoogstens 6 tekens, bijvoorbeeld 12AB01."), single_line,
         brin_code],
        filters=[strip],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    board_name = _text("Naam van het schoolbestuur (niet verplicht)", max_length=200,
                       render_kw={"autocomplete": "off"})
    sector = SelectField(
        "Sector (niet verplicht)",
        choices=[SelectChoice("", "Geen keuze")] + [SelectChoice(key, label) for key, label in SECTORS.items()],
        validate_choice=False,
    )
    role = RadioField("Uw rol", validate_choice=False)
    role_other = _text("Omschrijf uw rol", max_length=100)
    question = TextAreaField(
        "Vraag voor de sprekers (niet verplicht)",
        [Optional(), Length(max=2000, message="Uw vraag mag hoogstens 2000 tekens hebben."), plain_text],
        filters=[strip],
    )

    def __init__(self, event: Event, *args, **kwargs):
        """The form for `event` (or a row with its roles: only they are read)."""
        super().__init__(*args, **kwargs)
        self.role.choices = [SelectChoice(role) for role in Event.role_choices(event)]

    def validate_role(self, field):
        if field.data not in {choice.value for choice in field.choices}:  # RadioField's own check speaks English
            raise ValidationError("Kies uw rol.")

    #: whether the organisation type must be chosen: on every form people fill in; a list an
    #: organiser imports may lack it (the type stays empty, "onbekend", until corrected)
    type_required = True

    def validate_organisation_type(self, field):
        if not field.data and self.type_required:
            raise ValidationError("Kies de soort organisatie.")
        if field.data and field.data not in ORGANISATION_TYPES:  # SelectField's own check speaks English
            raise ValidationError("Kies een soort organisatie uit de lijst.")

    def validate_sector(self, field):
        if field.data and field.data not in SECTORS:  # SelectField's own check speaks English
            raise ValidationError("Kies een sector uit de lijst.")

    def validate_role_other(self, field):
        if self.role.data == OTHER_ROLE and not field.data:
            raise ValidationError("Omschrijf uw rol.")

    def details(self) -> Details:
        """The filled-in details."""
        return Details(
            first_name=self.first_name.data,
            tussenvoegsel=self.tussenvoegsel.data or "",
            last_name=self.last_name.data,
            email=self.email.data,
            organisation=self.organisation.data,
            role=self.role.data,
            role_other=(self.role_other.data or "") if self.role.data == OTHER_ROLE else "",
            question=self.question.data or "",
            organisation_type=self.organisation_type.data or "",
            brin=self.brin.data or "",
            # a board belongs to a school; for a board itself the name is already the organisation
            board_name=(self.board_name.data or "") if self.organisation_type.data == SCHOOL else "",
            sector=self.sector.data or "",
        )


class RegistrationForm(DetailsForm):
    """Registering: the details, the privacy acknowledgement and a honeypot."""

    privacy = BooleanField(
        "Ik heb de privacyverklaring gelezen en ga ermee akkoord.",
        [DataRequired("Geef aan dat u de privacyverklaring hebt gelezen.")],
    )
    #: left empty by people; bots that fill every field give themselves away
    website = StringField("Laat dit veld leeg", filters=[strip])

    def is_bot(self) -> bool:
        """Whether the hidden field was filled in."""
        return bool(self.website.data)


class LostLinkForm(FlaskForm):
    """'Link kwijt?': the address someone registered with."""

    lost_email = _email("E-mailadres waarmee u zich aanmeldde")
