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
  a part can equal a boundary line;
- messages that differ only per person (To, Date, Message-ID, the two text
  payloads) are cut from one `Skeleton` the email package generated with
  stand-ins there (`to_bytes`); `build` generates every message in full and
  gives the same bytes. A message with a file attached (a certificate) is
  one person's alone and is always built in full.

The parts: multipart/alternative (text, HTML) alone, or inside
multipart/mixed followed by the calendar file and then any attached files
(each base64, with a Content-Disposition filename that is plain ASCII).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage, MIMEPart
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid, parseaddr
from functools import lru_cache

from .addresses import PLAIN_ADDRESS, envelope_address


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


@dataclass(frozen=True)
class Calendar:
    """An .ics attachment: the iCalendar METHOD (PUBLISH, CANCEL) and the file."""

    method: str
    data: bytes
    filename: str = "bijeenkomst.ics"


#: a file name that every mail program reads the same without RFC 2231 encoding
_PLAIN_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
#: a MIME type as type/subtype, nothing else
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*")


@dataclass(frozen=True)
class Attachment:
    """A file that goes with one e-mail: its name (plain ASCII), MIME type and bytes."""

    filename: str
    content_type: str
    data: bytes

    def __post_init__(self):
        # Both go into headers as they are: nothing that needs quoting or encoding.
        if not _PLAIN_FILENAME.fullmatch(self.filename):
            raise ValueError(f"attachment file name {self.filename!r} is not plain ASCII")
        if not _MIME_TYPE.fullmatch(self.content_type):
            raise ValueError(f"attachment type {self.content_type!r} is not type/subtype")


@dataclass(frozen=True)
class Email:
    """One rendered e-mail to one recipient: text and HTML, perhaps a calendar file."""

    recipient: str
    subject: str
    text: str
    html: str
    message_id: str
    calendar: Calendar | None = None
    #: files after the calendar file, e.g. a certificate of attendance
    attachments: tuple[Attachment, ...] = ()
    #: the name in From: instead of the configured sender's (the address stays the sender's own)
    sender_name: str = ""
    #: where replies go ("": to the sender)
    reply_to: str = ""
    #: sent to many at once (a reminder, an organiser's message): "Precedence: bulk", which holiday
    #: auto-replies honour
    bulk: bool = False


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


@lru_cache(maxsize=16)
def named(sender: str, name: str) -> str:
    """The sender's address under another name: ('X <a@b>', 'Y') -> 'Y <a@b>'; the sender as it is for ''."""
    name = one_line(name)
    if not name:
        return sender
    # Always a quoted string: a comma or parenthesis in the name stays part of it. (Address() would
    # refuse a sender whose local part is not ASCII, which the SMTPUTF8 path allows.)
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{address(sender)}>'


def new_message_id(sender: str) -> str:
    """A unique Message-ID in the sender's domain."""
    return make_msgid(domain=address(sender).rpartition("@")[2] or "localhost")


@lru_cache(maxsize=1024)
def _header(name: str, value: str):
    """The parsed header, made once per distinct value (header objects are immutable)."""
    return POLICY.header_factory(name, one_line(value))


@lru_cache(maxsize=64)
def _date_text(moment: datetime, offset) -> str:
    """The Date header's value for a moment to the second; `offset` keeps equal moments in other zones apart."""
    return format_datetime(moment)


def date_header(date: datetime) -> str:
    """The Date header's value: the moment to the second, formatted once per second (a batch shares a few)."""
    return _date_text(date.replace(microsecond=0), date.utcoffset())


def _base64(data: bytes) -> str:
    """Base64 in lines of 76 characters, each ending in a line feed."""
    return base64.encodebytes(data).decode("ascii") or "\n"


def _encoded(text: str) -> tuple[bool, str]:
    """A text part's payload in UTF-8: (True, the text) when it can go as 7bit, else (False, base64)."""
    lines = text.splitlines()
    plain = text.isascii() and BOUNDARY_MARK not in text and max(map(len, lines), default=0) <= 998
    if plain:  # the generator writes the line ends as CRLF
        return True, "\n".join(lines) + "\n"
    return False, _base64("\r\n".join(lines).encode("utf-8") + b"\r\n")


def _text_part(payload: str, plain: bool, subtype: str) -> MIMEPart:
    """A text part in UTF-8 with the payload from `_encoded`."""
    part = MIMEPart(policy=POLICY)
    part["Content-Type"] = _header("Content-Type", f'text/{subtype}; charset="utf-8"')
    part["Content-Transfer-Encoding"] = _header("Content-Transfer-Encoding", "7bit" if plain else "base64")
    part.set_payload(payload)
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


def _attachment_part(attachment: Attachment) -> MIMEPart:
    part = MIMEPart(policy=POLICY)
    part["Content-Type"] = _header("Content-Type", f'{attachment.content_type}; name="{attachment.filename}"')
    part["Content-Transfer-Encoding"] = _header("Content-Transfer-Encoding", "base64")
    part["Content-Disposition"] = _header("Content-Disposition", f'attachment; filename="{attachment.filename}"')
    part.set_payload(_base64(attachment.data))
    return part


def _multipart(container: MIMEPart, subtype: str, boundary: str, parts: list[MIMEPart]) -> None:
    container["Content-Type"] = _header("Content-Type", f'multipart/{subtype}; boundary="{boundary}"')
    container.set_payload(parts)


def build(email: Email, *, sender: str, date: datetime) -> bytes:
    """The whole message, built and generated by the email package: headers, text and HTML, calendar file.

    Raises Undeliverable when the recipient's address cannot be written for SMTP.
    """
    envelope = envelope_address(email.recipient)
    # With SMTPUTF8 the To: header carries the address as it was given; without
    # it, headers must be ASCII, so the domain goes as A-labels there too.
    to = email.recipient if envelope.smtputf8 else envelope.address
    text, html = _encoded(email.text), _encoded(email.html)
    return _generate(email.subject, named(sender, email.sender_name), envelope.smtputf8, email.calendar,
                     to=one_line(to), date=date_header(date), message_id=email.message_id,
                     text=text, html=html, attachments=email.attachments, reply_to=email.reply_to, bulk=email.bulk)


def _generate(subject: str, sender: str, utf8: bool, calendar: Calendar | None, *, to: str, date: str,
              message_id: str, text: tuple[bool, str], html: tuple[bool, str],
              attachments: tuple[Attachment, ...] = (), reply_to: str = "", bulk: bool = False) -> bytes:
    message = EmailMessage(policy=UTF8_POLICY if utf8 else POLICY)
    message["Subject"] = _header("Subject", subject)
    message["From"] = _header("From", sender)
    if reply_to:
        message["Reply-To"] = _header("Reply-To", reply_to)
    message["To"] = POLICY.header_factory("To", to)
    message["Date"] = _header("Date", date)
    message["Message-ID"] = POLICY.header_factory("Message-ID", message_id)
    # Machine-sent: no auto-reply to it (RFC 3834); Exchange's own switch for out-of-office and other
    # automatic replies, but not for non-delivery reports, which the bounce mailbox wants.
    message["Auto-Submitted"] = _header("Auto-Submitted", "auto-generated")
    message["X-Auto-Response-Suppress"] = _header("X-Auto-Response-Suppress", "OOF, AutoReply")
    if bulk:
        message["Precedence"] = _header("Precedence", "bulk")
    message["MIME-Version"] = _header("MIME-Version", "1.0")
    alternatives = [_text_part(text[1], text[0], "plain"), _text_part(html[1], html[0], "html")]
    files = ([_calendar_part(calendar)] if calendar is not None else []) + list(map(_attachment_part, attachments))
    if not files:
        _multipart(message, "alternative", ALTERNATIVE, alternatives)
    else:
        alternative = MIMEPart(policy=POLICY)
        _multipart(alternative, "alternative", ALTERNATIVE, alternatives)
        _multipart(message, "mixed", MIXED, [alternative, *files])
    return message.as_bytes()


#: a header value the email package writes as it is, on the name's line: a bare address or Message-ID
#: of dot-atoms (see `_header_line`)
_SIMPLE = re.compile(f"<?{PLAIN_ADDRESS}>?")
#: stand-ins in a skeleton: each is the whole header line or part payload that a message puts there
_SLOTS = {
    "to": "slot-to@example.invalid",
    "date": format_datetime(datetime(2000, 1, 1, tzinfo=timezone.utc)),
    "message_id": "<slot-message-id@example.invalid>",
    "text": (True, "slot-text-payload\n"),
    "html": (True, "slot-html-payload\n"),
}


class Skeleton:
    """The bytes of messages that differ only in To, Date, Message-ID and the text and HTML payloads.

    Generated once by the email package with stand-ins in those five places
    and cut there; a message is the pieces with its own header lines and
    payloads put back, byte for byte what `build` gives (the tests compare
    the two).
    """

    def __init__(self, subject: str, sender: str, utf8: bool, calendar: Calendar | None, plain: tuple[bool, bool],
                 reply_to: str = "", bulk: bool = False):
        self.policy = UTF8_POLICY if utf8 else POLICY
        slots = dict(_SLOTS, text=(plain[0], _SLOTS["text"][1]), html=(plain[1], _SLOTS["html"][1]))
        whole = _generate(subject, sender, utf8, calendar, **slots, reply_to=reply_to, bulk=bulk)
        stand_ins = {
            "to": self._header_line("To", slots["to"]),
            "date": self._header_line("Date", slots["date"]),
            "message_id": self._header_line("Message-ID", slots["message_id"]),
            "text": _payload_bytes(slots["text"][1]),
            "html": _payload_bytes(slots["html"][1]),
        }
        for stand_in in stand_ins.values():
            if whole.count(stand_in) != 1:
                raise ValueError(f"stand-in {stand_in!r} is not once in the skeleton")
        cuts = sorted((whole.index(stand_in), name, len(stand_in)) for name, stand_in in stand_ins.items())
        #: the bytes between the slots, and the slots in the order they come
        self.pieces: list[bytes] = []
        self.order: list[str] = []
        start = 0
        for offset, name, length in cuts:
            self.pieces.append(whole[start:offset])
            self.order.append(name)
            start = offset + length
        self.pieces.append(whole[start:])

    def _header_line(self, name: str, value: str) -> bytes:
        """The header as the generator writes it; simple values without parsing and folding them."""
        if value.isascii() and len(value) < 900 and _SIMPLE.fullmatch(value):
            return f"{name}: {value}\r\n".encode("ascii")
        return _fold.__wrapped__(self.policy.linesep, self.policy.max_line_length, self.policy.utf8, name,
                                 self.policy.header_factory(name, value))

    def message(self, *, to: str, date: str, message_id: str, text: tuple[bool, str], html: tuple[bool, str]) -> bytes:
        values = {
            "to": self._header_line("To", to),
            "date": _fold(self.policy.linesep, self.policy.max_line_length, self.policy.utf8, "Date",
                          _header("Date", date)),
            "message_id": self._header_line("Message-ID", message_id),
            "text": _payload_bytes(text[1]),
            "html": _payload_bytes(html[1]),
        }
        pieces = self.pieces
        out = [pieces[0]]
        for index, name in enumerate(self.order, 1):
            out.append(values[name])
            out.append(pieces[index])
        return b"".join(out)


def _payload_bytes(payload: str) -> bytes:
    """A payload from `_encoded` as the generator writes it: CRLF line ends."""
    return payload.replace("\n", "\r\n").encode("ascii")


@lru_cache(maxsize=64)
def _skeleton(subject: str, sender: str, utf8: bool, plain: tuple[bool, bool],
              calendar: Calendar | None, reply_to: str = "", bulk: bool = False) -> Skeleton | None:
    """The skeleton, or None when a stand-in is not once in it (a subject that quotes one)."""
    try:
        return Skeleton(subject, sender, utf8, calendar, plain, reply_to, bulk)
    except ValueError:
        return None


def to_bytes(email: Email, *, sender: str, date: datetime) -> bytes:
    """The whole message as `build` makes it, from a skeleton shared by the messages that differ only per person.

    Raises Undeliverable when the recipient's address cannot be written for SMTP.
    """
    if email.attachments:  # one person's files: no skeleton to share
        return build(email, sender=sender, date=date)
    envelope = envelope_address(email.recipient)
    to = email.recipient if envelope.smtputf8 else envelope.address
    text, html = _encoded(email.text), _encoded(email.html)
    skeleton = _skeleton(email.subject, named(sender, email.sender_name), envelope.smtputf8, (text[0], html[0]),
                         email.calendar, email.reply_to, email.bulk)
    if skeleton is None:
        return build(email, sender=sender, date=date)
    return skeleton.message(to=one_line(to), date=date_header(date),
                            message_id=email.message_id, text=text, html=html)
