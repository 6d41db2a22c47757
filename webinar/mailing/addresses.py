"""Addresses as they go into the SMTP envelope: the domain in IDNA A-labels, SMTPUTF8 where needed.

The registration form accepts every address `email-validator` accepts, so
also a domain in Unicode (info@basisschool-één.nl) and a local part with
accents (zoë@example.nl). A domain can always be written in ASCII (IDNA), so
it always is: such mail goes to any server. A local part cannot: that mail
needs a server that offers SMTPUTF8 (RFC 6531).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import idna


#: an address of ASCII dot-atoms, local part and domain: the pattern `plain_address` matches
PLAIN_ADDRESS = r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
_PLAIN_ADDRESS = re.compile(PLAIN_ADDRESS)


def plain_address(value: str) -> bool:
    """Whether the address is ASCII dot-atoms only: every mail parser reads it as it is, no quoting needed."""
    return _PLAIN_ADDRESS.fullmatch(value) is not None


class Undeliverable(ValueError):
    """The address cannot go into an SMTP envelope; the message is the reason, in Dutch."""


@dataclass(frozen=True)
class Envelope:
    """An address as it goes to the server: in RCPT TO and in the To: header."""

    address: str
    #: the local part is not ASCII: only a server with SMTPUTF8 can take it
    smtputf8: bool


@lru_cache(maxsize=4096)
def envelope_address(value: str) -> Envelope:
    """The address with its domain as IDNA A-labels, and whether it needs SMTPUTF8."""
    local, at, domain = value.rpartition("@")
    if not (local and at and domain):
        raise Undeliverable(f"niet verstuurd: {value!r} is geen e-mailadres")
    if not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError as error:
            raise Undeliverable(
                f"niet verstuurd: de domeinnaam van {value} is niet in ASCII te schrijven"
            ) from error
    return Envelope(f"{local}@{domain}", not local.isascii())
