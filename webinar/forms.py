"""Form pieces every domain uses: EmptyForm, the one-line and plain-text checks, the error summary's links."""

from __future__ import annotations

import re
from collections.abc import Iterator

from email_validator import EmailNotValidError, validate_email
from flask import abort
from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF
from wtforms import BooleanField, Field, SelectField, SelectMultipleField, StringField
from wtforms.fields.core import Flags, Label, UnboundField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

# Control characters other than tab and newline never belong in a name or an address.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAK = re.compile(r"[\r\n\u2028\u2029\x85]")


class _SignedWhenShown:
    """A form's CSRF token that is signed only when the form is rendered: a POST that was
    accepted and redirects never needs it."""

    def __init__(self, sign):
        self._sign, self._token = sign, None

    def __str__(self) -> str:
        if self._token is None:
            self._token = self._sign()
        return self._token

    def __html__(self) -> str:
        return str(self)


class LazyTokenCSRF(_FlaskFormCSRF):
    """Flask-WTF's CSRF for forms, with the token signed on first use instead of when the form is built."""

    def generate_csrf_token(self, csrf_token_field):
        return _SignedWhenShown(lambda: super(LazyTokenCSRF, self).generate_csrf_token(csrf_token_field))


#: the field classes bind_from_prototype copies (their subclasses too, e.g. TextAreaField and RadioField):
#: fields whose state per form is their data, errors, label, flags, render_kw and choices
_COPIED = (StringField, BooleanField, SelectField)
#: a bound field per (unbound field, name, prefix), never processed, that each form's field is copied from
_PROTOTYPES: dict[tuple[UnboundField, str, str], Field] = {}


def bind_from_prototype(meta, form, unbound_field: UnboundField, options: dict) -> Field:
    """A form's field as WTForms would bind it, copied from a field bound once per process (a form Meta's
    `bind_field`).

    WTForms builds every field of a form anew for every request: the label,
    the flags its validators set, the widget's settings. For the registration
    form, posted by everyone who signs up, that was a tenth of the POST's CPU
    (bench/registration_breakdown.py). The copy gets its own label, flags,
    render_kw and choices, as a newly bound field has, and shares what a bound
    field shares with the class anyway (validators, filters, widget); its data
    and errors come from processing, as ever. Fields of other classes, the
    CSRF token's field and forms with translations are bound the usual way.
    """
    field_class = unbound_field.field_class
    if options.get("translations") is not None or not issubclass(field_class, _COPIED) or \
            "csrf_impl" in unbound_field.kwargs:
        return unbound_field.bind(form=form, **options)
    key = (unbound_field, options["name"], options["prefix"])
    prototype = _PROTOTYPES.get(key)
    if prototype is None:
        prototype = unbound_field.bind(form=form, **options)
        prototype._form = prototype.meta = None  # no form of a past request kept alive
        _PROTOTYPES[key] = prototype
    return _copy_field(prototype, form)


def _copy_field(prototype: Field, form) -> Field:
    field = object.__new__(type(prototype))
    values = field.__dict__
    values.update(prototype.__dict__)
    values["_form"], values["meta"] = form, form.meta
    flags = Flags()
    flags.__dict__.update(prototype.flags.__dict__)
    values["flags"] = flags
    values["label"] = Label(prototype.label.field_id, prototype.label.text)
    if prototype.render_kw is not None:
        values["render_kw"] = dict(prototype.render_kw)
    choices = values.get("_choices")
    if isinstance(choices, (list, dict)):
        values["_choices"] = choices.copy()
    return field


class EmptyForm(FlaskForm):
    """A POST-only button: just the CSRF token."""


class MultiCheckboxField(SelectMultipleField):
    """Several checkboxes for one question."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def button_or_400() -> None:
    """Refuse (400) the POST of a button whose form does not validate, i.e. whose CSRF token is wrong."""
    if not EmptyForm().validate():
        abort(400)


def strip(value):
    """A field filter: the text without surrounding whitespace (other values unchanged)."""
    return value.strip() if isinstance(value, str) else value


def search_words(value: str | None, limit: int = 200) -> str:
    """A search or filter term from a URL as the database can take it: control characters and line
    breaks become spaces (PostgreSQL refuses NUL in text, and nothing stored contains them), trimmed, capped."""
    return _LINE_BREAK.sub(" ", _CONTROL.sub(" ", value or "")).strip()[:limit]


def single_line(form, field):
    """Refuse line breaks and control characters in one-line fields."""
    if field.data and (_CONTROL.search(field.data) or _LINE_BREAK.search(field.data)):
        raise ValidationError(f"{field.label.text} bevat tekens die hier niet kunnen.")


def plain_text(form, field):
    """Refuse control characters (line breaks are fine) in longer text."""
    if field.data and _CONTROL.search(field.data):
        raise ValidationError(f"{field.label.text} bevat tekens die hier niet kunnen.")


def email_address(form, field):
    """Check the address and keep its normal form (domain in lower case)."""
    if not field.data:
        return
    try:
        result = validate_email(field.data, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationError(
            "Vul een geldig e-mailadres in, bijvoorbeeld naam@school.nl."
        ) from error
    field.data = result.normalized


#: 2 digits and 2 letters, then an optional 2-digit vestiging number
BRIN = re.compile(r"^\d{2}[A-Z]{2}(\d{2})?$")
BRIN_MESSAGE = ("Een BRIN-code is 2 cijfers en 2 letters, eventueel gevolgd door 2 cijfers voor de "
                "vestiging, bijvoorbeeld 12AB of 12AB01.")


def normalize_brin(value: str) -> str:
    """'12ab 01' -> '12AB01'. ValueError when it is not a BRIN (+ vestiging) code."""
    code = re.sub(r"[\s.\-]", "", value or "").upper()
    if not BRIN.match(code):
        raise ValueError(value)
    return code


def brin_code(form, field):
    """A BRIN code, stored in its normal form ('12AB01'); an empty field is left to the form."""
    if not field.data:
        return
    try:
        field.data = normalize_brin(field.data)
    except ValueError:
        raise ValidationError(BRIN_MESSAGE) from None


def error_links(form) -> Iterator[tuple[str, str]]:
    """(element id, first message) for each field with an error, in form order."""
    for field in form:
        yield from _field_links(field)


def _field_links(field: Field) -> Iterator[tuple[str, str]]:
    if field.type == "FieldList":
        for entry in field.entries:
            yield from _field_links(entry)
    elif field.type == "FormField":
        for name, sub in field.form._fields.items():
            yield from _field_links(sub)
        for message in field.form.form_errors:
            yield field.id, message
    elif field.errors:
        target = f"{field.id}-0" if field.type in ("RadioField", "MultiCheckboxField") else field.id
        yield target, field.errors[0]
