"""A rendered e-mail as the bytes that go over SMTP.

Built with the standard library (`EmailMessage`, generated with `policy.SMTP`:
CRLF line ends, RFC 2047 encoded words for non-ASCII headers; a message to an
address whose local part is not ASCII is generated with UTF-8 headers, as
`policy.SMTPUTF8` does, and goes only to a server that offers SMTPUTF8). The worker
sends thousands of messages in one pass, so the costly parts of the email
package are avoided where the result is the same:

- every header value is parsed and folded once and reused for the next
  message with the same value: sender, subject, date (to the second) and the
  MIME headers repeat across a batch, only To and Message-ID are new each time
  (the standard header registry also builds a new class on every lookup: here
  each class is built once);
- each text part gets fixed headers and goes as 7bit when it is ASCII with
  short lines, else base64, instead of going through `set_content`, which
  re-parses its headers and tries quoted-printable first;
- the multipart boundaries are fixed strings: a 7bit part never contains
  them (else it goes as base64), and base64 has no "-" or "_", so no line of
  a part can equal a boundary line.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage, MIMEPart
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid, parseaddr
from functools import lru_cache

from .addresses import envelope_address


class _Headers(HeaderRegistry):
    """The standard header classes, each built once: the registry makes a new class per lookup."""

    @lru_cache(maxsize=64)
    def __getitem__(self, name):
        return super().__getitem__(name)


class _Policy(EmailPolicy):
    """`policy.SMTP` that folds a header it has folded before from memory.

    The generator clones its policy for every part, so the memory is keyed on
    the settings that shape the result, not on the policy object.
    """

    def fold_binary(self, name, value):
        return _fold(self.linesep, self.max_line_length, self.utf8, name, value)


@lru_cache(maxsize=1024)
def _fold(linesep: str, max_line_length: int, utf8: bool, name: str, value) -> bytes:
    policy = POLICY.clone(linesep=linesep, max_line_length=max_line_length, utf8=utf8)
    folded = EmailPolicy.fold_binary(policy, name, value)
    # When the first words do not fit beside the name, the standard folder breaks
    # right after the colon; Python's own parser then reads the value with a
    # leading space while others do not. Start the value on the name's line
    # (one longer line, well within SMTP's 998) so every parser reads the same.
    after_colon = f"{name}:{linesep} ".encode()
    if folded.startswith(after_colon):
        folded = f"{name}: ".encode() + folded[len(after_colon):]
    return folded


POLICY = _Policy(linesep="\r\n", header_factory=_Headers())
#: for a message sent with SMTPUTF8: headers in UTF-8 as they are, no encoded words
UTF8_POLICY = POLICY.clone(utf8=True)
#: in both boundaries; a 7bit part that contains it is sent as base64 instead
BOUNDARY_MARK = "=_webinar_"
ALTERNATIVE = BOUNDARY_MARK + "alternative_"
MIXED = BOUNDARY_MARK + "mixed_"
#: base64 lines of 76 characters (57 bytes each), as RFC 2045 asks
LINE_BYTES = 57


@dataclass(frozen=True)
class Calendar:
    """An .ics attachment: the iCalendar METHOD (PUBLISH, CANCEL) and the file."""

    method: str
    data: bytes
    filename: str = "bijeenkomst.ics"


@dataclass(frozen=True)
class Email:
    """One rendered e-mail to one recipient: text and HTML, perhaps a calendar file."""

    recipient: str
    subject: str
    text: str
    html: str
    message_id: str
    calendar: Calendar | None = None


def has_line_break(value: str) -> bool:
    """Whether the value holds a CR or LF."""
    return "\r" in value or "\n" in value


def one_line(value: str) -> str:
    """The value as one header line: CR, LF, tabs and runs of spaces become one space."""
    return " ".join(value.split())


@lru_cache(maxsize=16)
def address(sender: str) -> str:
    """The bare address of 'Name <address>', for the SMTP envelope."""
    return parseaddr(sender)[1]


def new_message_id(sender: str) -> str:
    """A unique Message-ID in the sender's domain."""
    return make_msgid(domain=address(sender).rpartition("@")[2] or "localhost")


@lru_cache(maxsize=1024)
def _header(name: str, value: str):
    """The parsed header, made once per distinct value (header objects are immutable)."""
    return POLICY.header_factory(name, one_line(value))


def _base64(data: bytes) -> str:
    lines = (
        base64.b64encode(data[start : start + LINE_BYTES]).decode("ascii")
        for start in range(0, len(data), LINE_BYTES)
    )
    return "\n".join(lines) + "\n"


def _text_part(text: str, subtype: str) -> MIMEPart:
    """A text part in UTF-8: as it is when it can go as 7bit, else base64 (CRLF line ends)."""
    lines = text.splitlines()
    plain = text.isascii() and BOUNDARY_MARK not in text and max(map(len, lines), default=0) <= 998
    part = MIMEPart(policy=POLICY)
    part["Content-Type"] = _header("Content-Type", f'text/{subtype}; charset="utf-8"')
    part["Content-Transfer-Encoding"] = _header("Content-Transfer-Encoding", "7bit" if plain else "base64")
    if plain:  # the generator writes the line ends as CRLF
        part.set_payload("\n".join(lines) + "\n")
    else:
        part.set_payload(_base64("\r\n".join(lines).encode("utf-8") + b"\r\n"))
    return part


def _calendar_part(calendar: Calendar) -> MIMEPart:
    part = MIMEPart(policy=POLICY)
    part["Content-Type"] = _header(
        "Content-Type", f'text/calendar; charset="utf-8"; method={calendar.method}'
    )
    part["Content-Transfer-Encoding"] = _header("Content-Transfer-Encoding", "base64")
    part["Content-Disposition"] = _header("Content-Disposition", f'attachment; filename="{calendar.filename}"')
    part.set_payload(_base64(calendar.data))
    return part


def _multipart(container: MIMEPart, subtype: str, boundary: str, parts: list[MIMEPart]) -> None:
    container["Content-Type"] = _header("Content-Type", f'multipart/{subtype}; boundary="{boundary}"')
    container.set_payload(parts)


def to_bytes(email: Email, *, sender: str, date: datetime) -> bytes:
    """The whole message: headers, text and HTML alternatives, and the calendar file if any.

    Raises Undeliverable when the recipient's address cannot be written for SMTP.
    """
    envelope = envelope_address(email.recipient)
    # With SMTPUTF8 the To: header carries the address as it was given; without
    # it, headers must be ASCII, so the domain goes as A-labels there too.
    to = email.recipient if envelope.smtputf8 else envelope.address
    message = EmailMessage(policy=UTF8_POLICY if envelope.smtputf8 else POLICY)
    message["Subject"] = _header("Subject", email.subject)
    message["From"] = _header("From", sender)
    message["To"] = POLICY.header_factory("To", one_line(to))
    message["Date"] = _header("Date", format_datetime(date.replace(microsecond=0)))
    message["Message-ID"] = POLICY.header_factory("Message-ID", email.message_id)
    message["Auto-Submitted"] = _header("Auto-Submitted", "auto-generated")
    message["MIME-Version"] = _header("MIME-Version", "1.0")
    alternatives = [_text_part(email.text, "plain"), _text_part(email.html, "html")]
    if email.calendar is None:
        _multipart(message, "alternative", ALTERNATIVE, alternatives)
    else:
        alternative = MIMEPart(policy=POLICY)
        _multipart(alternative, "alternative", ALTERNATIVE, alternatives)
        _multipart(message, "mixed", MIXED, [alternative, _calendar_part(email.calendar)])
    return message.as_bytes()
