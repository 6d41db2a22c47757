"""JSON through the web's own forms: the same checks and Dutch messages for the API as for the pages."""

from __future__ import annotations

from datetime import datetime, timezone

from werkzeug.datastructures import MultiDict
from wtforms import BooleanField

from ..dutch import local
from .problems import field_errors, problem

_LOCAL = "%Y-%m-%dT%H:%M"


def _text(value) -> str | None:
    """A JSON value as a form field would carry it (None: leave the field out)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "y" if value else None
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        try:
            return local(aware).strftime(_LOCAL)
        except (OverflowError, ValueError):  # year 1 or 9999 in another time zone: the form refuses it
            return "buiten bereik"
    if isinstance(value, list):
        return "\n".join(str(item) for item in value)
    return str(value)


def form_data(form, changes: dict | None = None) -> MultiDict:
    """The form's current values as posted data, with the JSON `changes` on top."""
    data = MultiDict()
    changes = changes or {}
    for name, field in form._fields.items():
        if name == "csrf_token":
            continue
        if name in changes:
            text = _text(changes[name])
        elif isinstance(field, BooleanField):
            text = "y" if field.data else None
        elif hasattr(field, "_value"):
            text = field._value()
        else:  # choices: the value itself
            text = None if field.data is None else str(field.data)
        if text is not None:
            data.add(name, text)
    return data


def checked(form_class, data: MultiDict, *args):
    """(the validated form, None) or (None, a 422 problem with the form's Dutch messages per field)."""
    form = form_class(*args, formdata=data, meta={"csrf": False})
    if form.validate():
        return form, None
    errors = {name if name is not None else "": messages for name, messages in form.errors.items()}
    return None, problem(422, errors=field_errors(errors))
