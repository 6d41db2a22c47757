"""One e-mail from a template pair: email/<name>.txt and email/<name>.html."""

from __future__ import annotations

from flask import current_app, render_template

from .mime import Calendar, Email, new_message_id


class Obsolete(Exception):
    """The message no longer makes sense (e.g. a confirmation after cancelling)."""


def compose(subject: str, recipient: str, template: str, calendar: Calendar | None = None, **context) -> Email:
    """The message with both bodies rendered, with a Message-ID in the configured sender's domain."""
    return Email(
        recipient=recipient,
        subject=" ".join(subject.split()),  # one line, whatever an event title holds
        text=render_template(f"email/{template}.txt", **context),
        html=render_template(f"email/{template}.html", **context),
        message_id=new_message_id(current_app.config["MAIL_DEFAULT_SENDER"]),
        calendar=calendar,
    )
