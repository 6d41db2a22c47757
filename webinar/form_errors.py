"""The error summary's links, for flat forms and for rows of sub-forms alike."""

from __future__ import annotations

from collections.abc import Iterator

from wtforms import Field


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
