"""The signed statement a certificate's verification link carries.

The link `/bewijs/<code>` holds everything the verification page shows: the
person's name, the meeting's title, its start and length, and the minutes
present, signed with a key derived from SECRET_KEY for this purpose alone
(itsdangerous, HMAC-SHA256, its own salt). So it can be confirmed after
`flask privacy purge` removed the registration: no row about the person is
needed, and none is kept for it. The payload is a compact JSON list (UTF-8,
no spaces, zlib-compressed when that is shorter) to keep the link short
enough for a QR code that scans easily.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

#: the salt that sets this key apart from every other use of SECRET_KEY
SALT = "webinar.certificate-of-attendance"
#: the first item of every payload; a new layout gets a new number
VERSION = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Statement:
    """What a certificate says: who was present, at which meeting, when, and how long."""

    name: str
    title: str
    starts_at: datetime
    #: the meeting's length in minutes
    length: int
    #: minutes present
    minutes: int

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.length)


class InvalidCode(Exception):
    """The code was not made here, or was changed."""


class _CompactJSON:
    """JSON without spaces, non-ASCII as it is (the serializer writes UTF-8)."""

    @staticmethod
    def dumps(value) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    @staticmethod
    def loads(value):
        return json.loads(value)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(
        current_app.config["SECRET_KEY"], salt=SALT, serializer=_CompactJSON,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
    )


def sign(statement: Statement) -> str:
    """The statement as a signed code for the verification link."""
    start = int((statement.starts_at - _EPOCH).total_seconds() // 60)
    return _serializer().dumps([VERSION, statement.name, statement.title, start, statement.length, statement.minutes])


def verify(code: str) -> Statement:
    """The statement a code carries; InvalidCode when it is forged, changed or not one of ours."""
    try:
        payload = _serializer().loads(code)
    except (BadData, ValueError, UnicodeError) as error:
        raise InvalidCode(str(error)) from None
    match payload:
        case [1, str(name), str(title), int(start), int(length), int(minutes)]:
            return Statement(name, title, _EPOCH + timedelta(minutes=start), length, minutes)
    raise InvalidCode("unknown layout")
