"""The registration form's fields are copied from fields bound once (forms.bind_from_prototype): each form
must behave exactly as if WTForms had bound its fields anew, and share no state with another form."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice
from wtforms.meta import DefaultMeta

from webinar.forms import _PROTOTYPES
from webinar.registration.forms import DetailsForm, RegistrationForm

FILLED = {
    "first_name": "Ans", "tussenvoegsel": "", "last_name": "Jansen", "email": "ans.jansen@Example.ORG",
    "organisation": "OBS De Linde", "organisation_type": "School", "role": "Schoolleider",
    "role_other": "", "question": "Hoe begint u?", "privacy": "y", "website": "",
}


class _BoundAnew(RegistrationForm):
    """The same form with WTForms' own binding: every field built from scratch."""

    class Meta:
        bind_field = DefaultMeta.bind_field


def _state(field) -> dict:
    values = {name: value for name, value in vars(field).items()
              if name not in ("_form", "meta", "flags", "label", "csrf_impl", "current_token")}
    return values | {"flags": vars(field.flags), "label": (field.label.field_id, field.label.text)}


@pytest.fixture
def request_context(app):
    with app.test_request_context("/events/samen-onderwijs-versnellen", method="POST", data=FILLED):
        yield


@pytest.mark.parametrize("data", [FILLED, FILLED | {"email": "geen adres", "role": "", "privacy": ""}])
def test_fields_are_as_wtforms_binds_them(request_context, event, data):
    formdata = MultiDict(data)
    copied, anew = RegistrationForm(event, formdata=formdata), _BoundAnew(event, formdata=formdata)
    RegistrationForm(event, formdata=formdata)  # a second copy: the prototypes are in use now
    assert any(key[0] is RegistrationForm.email for key in _PROTOTYPES)
    assert list(copied._fields) == list(anew._fields)
    assert copied.validate() == anew.validate()
    assert copied.errors == anew.errors
    for name, field in copied._fields.items():
        if name == "csrf_token":
            continue
        assert type(field) is type(anew[name])
        assert _state(field) == _state(anew[name]), name
        assert field._form is copied and field.meta is copied.meta
        assert str(field) == str(anew[name]), name  # the same markup: attributes, choices, flags (required)
        assert str(field.label) == str(anew[name].label)


def test_forms_share_no_state(request_context, event):
    first = RegistrationForm(event, formdata=MultiDict(FILLED | {"email": "geen adres"}))
    second = RegistrationForm(event, formdata=MultiDict(FILLED))
    first.first_name.label.text = "Roepnaam"
    first.email.render_kw["placeholder"] = "naam@school.nl"
    first.organisation_type.choices.append(SelectChoice("Buitenland"))
    first.role.choices = [SelectChoice("Bestuurder")]
    first.question.flags.required = True
    assert not first.validate()

    assert second.validate(), second.errors
    assert second.first_name.label.text == "Voornaam"
    assert "placeholder" not in second.email.render_kw
    assert "Buitenland" not in [choice.value for choice in second.organisation_type.choices]
    assert "Schoolleider" in [choice.value for choice in second.role.choices]
    assert not second.question.flags.required
    assert second.email.data == "ans.jansen@example.org"
    assert first.email.errors and not second.email.errors
    third = RegistrationForm(event, formdata=MultiDict(FILLED))
    assert third.first_name.label.text == "Voornaam" and "placeholder" not in third.email.render_kw


def test_details_form_from_an_object(request_context, event, people):
    """The organiser's and the manage page's form, filled from a registration rather than a POST."""
    registration = people["berg"]
    form = DetailsForm(event, formdata=None, obj=registration)
    assert form.first_name.data == registration.first_name
    assert form.email.data == registration.email
    assert not form.first_name.errors
