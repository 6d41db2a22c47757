"""One e-mail from a template pair: email/<name>.txt and email/<name>.html."""

from __future__ import annotations

from flask import current_app, render_template
from flask_mail import Message


class Obsolete(Exception):
    """The message no longer makes sense (e.g. a confirmation after cancelling)."""


def compose(subject: str, recipient: str, template: str, **context) -> Message:
    """The message with both bodies rendered, from the configured sender."""
    return Message(
        subject=" ".join(subject.split()),  # one line, whatever an event title holds
        recipients=[recipient],
        body=render_template(f"email/{template}.txt", **context),
        html=render_template(f"email/{template}.html", **context),
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        extra_headers={"Auto-Submitted": "auto-generated"},
    )
