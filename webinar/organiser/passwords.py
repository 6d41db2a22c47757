"""Organiser passwords: the one rule for a new password, hashing, and checking."""

from __future__ import annotations

import re
import secrets
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200
#: zxcvbn's scores run from 0 to 4; 3 means "safely unguessable" in an online attack
MIN_SCORE = 3
#: zxcvbn refuses longer input; a longer password is judged by its start, which is the stricter choice
_ZXCVBN_MAX = 72
#: Dutch words that zxcvbn's English lists miss, yet start many Dutch passwords
_LOCAL_WORDS = ("wachtwoord", "welkom", "webinar", "bijeenkomst", "organisator")
_HASH_METHOD = "scrypt"
#: shown under every field where a new password is chosen
PASSWORD_HINT = (f"Minstens {MIN_PASSWORD_LENGTH} tekens en niet te raden: "
                 "bijvoorbeeld een paar woorden die niets met elkaar te maken hebben.")

#: why a part of a password is easy to guess, by zxcvbn's kind of match
_REASONS = {
    "user_inputs": "uw naam of e-mailadres",
    "passwords": "een veelgebruikt wachtwoord",
    "dictionary": "een bekend woord of een bekende naam",
    "repeat": "een herhaling zoals \u201caaaa\u201d of \u201cabcabc\u201d",
    "sequence": "een reeks zoals \u201c1234\u201d of \u201cabcd\u201d",
    "spatial": "een rij toetsen zoals \u201cqwerty\u201d",
    "date": "een datum of jaartal",
}
_HINT = ("Kies bijvoorbeeld vier of vijf woorden die niets met elkaar te maken hebben, "
         "zoals \u201cfiets lamp wolk tegel\u201d (maar niet deze).")


class WeakPassword(ValueError):
    """A new password that breaks the rule; the message says why, in Dutch."""


def check_new_password(password: str, email: str = "", name: str = "") -> None:
    """Raise WeakPassword unless the password is long enough and hard to guess."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"Een wachtwoord heeft minstens {MIN_PASSWORD_LENGTH} tekens.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"Een wachtwoord heeft hoogstens {MAX_PASSWORD_LENGTH} tekens.")
    result = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=_personal_words(email, name))
    if result["score"] < MIN_SCORE:
        raise WeakPassword(_explain(result["sequence"]))


def _personal_words(email: str, name: str) -> list[str]:
    # The whole address and name, and their parts: "mieke" in a password is as
    # easy to guess as "mieke.jansen@school.nl".
    parts = re.split(r"[^\w]+", f"{email} {name}".lower())
    return [email, name, *(part for part in parts if len(part) > 2), *_LOCAL_WORDS]


def _explain(matches: list[dict]) -> str:
    reasons = []
    for match in matches:
        kind = match["pattern"]
        if kind == "dictionary":
            kind = match["dictionary_name"] if match["dictionary_name"] in _REASONS else "dictionary"
            if match["matched_word"] in _LOCAL_WORDS:
                kind = "passwords"
        elif kind == "regex" and match.get("regex_name") == "recent_year":
            kind = "date"
        reason = _REASONS.get(kind)
        if reason and reason not in reasons:
            reasons.append(reason)
    if not reasons:
        return f"Dit wachtwoord is te makkelijk te raden. {_HINT}"
    listed = reasons[0] if len(reasons) == 1 else ", ".join(reasons[:-1]) + " en " + reasons[-1]
    return f"Dit wachtwoord is te makkelijk te raden: het bevat {listed}. {_HINT}"


def hash_password(password: str) -> str:
    """The stored form of a password (scrypt, werkzeug's parameters)."""
    return generate_password_hash(password, method=_HASH_METHOD)


@cache
def dummy_hash() -> str:
    """A hash of a random password, made once per process with the real parameters."""
    return hash_password(secrets.token_urlsafe(32))


def check_password(stored: str | None, password: str) -> bool:
    """Whether the password matches the stored hash.

    Without a hash (no such account) the password is checked against a dummy
    hash all the same, so that the time taken does not tell whether an account exists.
    """
    if stored is None:
        check_password_hash(dummy_hash(), password)
        return False
    return check_password_hash(stored, password)
