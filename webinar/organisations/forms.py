"""The organiser's form for correcting an organisation."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from ..forms import brin_code, single_line, strip
from ..registration.models import ORGANISATION_TYPES, SECTORS
from .services import Correction


class OrganisationForm(FlaskForm):
    """Name, type, BRIN and board of one organisation."""

    name = StringField("Naam", [DataRequired("Vul de naam van de organisatie in."),
                                Length(max=200, message="Naam mag hoogstens 200 tekens hebben."), single_line],
                       filters=[strip])
    organisation_type = SelectField(
        "Soort organisatie",
        choices=[SelectChoice("", "Maak een keuze")] + [SelectChoice(kind) for kind in ORGANISATION_TYPES],
        validate_choice=False,
    )
    brin = StringField("BRIN-code (niet verplicht)",
                       [Length(max=10, message="Een BRIN-code heeft hoogstens 6 tekens, bijvoorbeeld 12AB01."),
                        single_line, brin_code],
                       filters=[strip], render_kw={"autocomplete": "off", "spellcheck": "false"})
    board_name = StringField("Bestuur (niet verplicht)",
                             [Length(max=200, message="Bestuur mag hoogstens 200 tekens hebben."), single_line],
                             filters=[strip], render_kw={"autocomplete": "off"})

    sector = SelectField(
        "Sector (niet verplicht)",
        choices=[SelectChoice("", "Zoals de aanmeldingen en aanvragen zeggen")]
        + [SelectChoice(key, label) for key, label in SECTORS.items()],
        validate_choice=False,
    )

    def validate_sector(self, field):
        if field.data and field.data not in SECTORS:
            raise ValidationError("Kies een sector uit de lijst.")

    def validate_organisation_type(self, field):
        if field.data not in ORGANISATION_TYPES:
            raise ValidationError("Kies de soort organisatie.")

    def correction(self) -> Correction:
        return Correction(self.name.data, self.organisation_type.data, self.brin.data or "",
                          self.board_name.data or "", self.sector.data or "")
