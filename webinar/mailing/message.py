"""One e-mail from a template pair: email/<name>.txt and email/<name>.html."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import current_app, render_template
from markupsafe import escape

from .mime import Attachment, Calendar, Email, new_message_id


class Obsolete(Exception):
    """The message no longer makes sense (e.g. a confirmation after cancelling)."""


def compose(subject: str, recipient: str, template: str, calendar: Calendar | None = None,
            attachments: tuple[Attachment, ...] = (), *, sender_name: str = "", reply_to: str = "",
            **context) -> Email:
    """The message with both bodies rendered, with a Message-ID in the configured sender's domain;
    `sender_name` and `reply_to` for mail that speaks for someone else than the sender (see Email)."""
    return message(subject, recipient, render_template(f"email/{template}.txt", **context),
                   render_template(f"email/{template}.html", **context), calendar, attachments,
                   sender_name=sender_name, reply_to=reply_to)


def message(subject: str, recipient: str, text: str, html: str, calendar: Calendar | None = None,
            attachments: tuple[Attachment, ...] = (), *, sender_name: str = "", reply_to: str = "") -> Email:
    """The message with these bodies, with a Message-ID in the configured sender's domain."""
    return Email(
        recipient=recipient,
        subject=" ".join(subject.split()),  # one line, whatever an event title holds
        text=text,
        html=html,
        message_id=new_message_id(current_app.config["MAIL_DEFAULT_SENDER"]),
        calendar=calendar,
        attachments=attachments,
        sender_name=sender_name,
        reply_to=reply_to,
    )


def _stand_in(number: int, width: int) -> str:
    # Private-use characters no template writes; the "&" shows whether the HTML escaped it.
    return f"\ue000{number}{'&' * width}\ue001"


class Stencil:
    """A template pair rendered once for many recipients, with stand-ins where their personal values go.

    `context(values)` is the template context for the personal values (a
    dict of name to text). The pair is rendered twice, with two sets of
    stand-ins of different lengths; the stencil is `usable` only when the two
    renderings differ in nothing but the stand-ins, each written as it is in
    the text and HTML-escaped in the HTML, as `{{ value }}` writes a text.
    A template that tests, filters or leaves out a personal value thus makes
    the stencil unusable, and such messages are rendered one by one. Else
    `bodies(values)` gives the text and HTML that rendering with those values
    gives.
    """

    def __init__(self, template: str, names: tuple[str, ...], context: Callable[[dict[str, str]], dict]):
        self.names = names
        self.usable = False
        first = {name: _stand_in(number, 1) for number, name in enumerate(names)}
        second = {name: _stand_in(number, 3) for number, name in enumerate(names)}
        try:
            renderings = [
                [render_template(f"email/{template}.{suffix}", **context(values)) for suffix in ("txt", "html")]
                for values in (first, second)
            ]
        except StandInMissed:
            return
        self.text = self._cut(renderings[0][0], renderings[1][0], first, second, escaped=False)
        self.html = self._cut(renderings[0][1], renderings[1][1], first, second, escaped=True)
        self.usable = self.text is not None and self.html is not None

    def _cut(self, rendered: str, other: str, first: dict, second: dict, *, escaped: bool) -> list | None:
        """The rendering as [text, name, text, name, ..., text], or None when the other rendering differs."""
        form = (lambda value: str(escape(value))) if escaped else (lambda value: value)
        by_form = {form(value): name for name, value in first.items()}
        pieces = re.split("(" + "|".join(map(re.escape, by_form)) + ")", rendered)
        for index in range(1, len(pieces), 2):
            pieces[index] = by_form[pieces[index]]
        again = "".join(form(second[piece]) if index % 2 else piece for index, piece in enumerate(pieces))
        if again != other or "\ue000" in "".join(pieces[::2]):
            return None
        return pieces

    def bodies(self, values: dict[str, str]) -> tuple[str, str]:
        """The text and HTML for these personal values."""
        escaped = {name: str(escape(value)) for name, value in values.items()}
        return _fill(self.text, values), _fill(self.html, escaped)


def _fill(pieces: list, values: dict[str, str]) -> str:
    return "".join([values[piece] if index % 2 else piece for index, piece in enumerate(pieces)])


class StandInMissed(Exception):
    """A template asked a stand-in for something it does not stand in for."""
