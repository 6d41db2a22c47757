"""The normalised key of an organisation's name, and the keys an organisation is matched by.

"OBS De Linde", "obs de linde " and "O.B.S. De Linde" are one school: the key
ignores case, accents, spaces, dots and hyphens, and writes the common prefixes
of Dutch school names one way. The rule lives in `organisation_key` alone.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: written-out prefixes -> the abbreviation, in this order, after case, accents and dots are gone
PREFIXES = [
    # written-out words first, so that "Rooms-Katholiek Basisschool" becomes "rk basisschool", then "rkbs"
    ("rooms katholieke", "rk"),
    ("rooms katholiek", "rk"),
    ("protestants christelijke", "pc"),
    ("rk basisschool", "rkbs"),
    ("pc basisschool", "pcbs"),
    ("katholieke basisschool", "kbs"),
    ("christelijke basisschool", "cbs"),
    ("openbare basisschool", "obs"),
    ("algemeen bijzondere basisschool", "abbs"),
    ("speciale basisschool", "sbo"),
    ("basisschool", "bs"),
    ("stg", "stichting"),
]
#: "o.b.s." or "r.k." (two or more single letters each followed by a dot)
_DOTTED = re.compile(r"\b(?:[a-z]\.){2,}")
_NOT_A_LETTER = re.compile(r"[^a-z0-9]+")
_PREFIX_PATTERNS = [(re.compile(rf"\b{long}\b"), short) for long, short in PREFIXES]


@lru_cache(maxsize=4096)  # a list of all registrations repeats the same few hundred names
def organisation_key(name: str) -> str:
    """'O.B.S. De Linde' -> 'obs de linde': lower case, no accents, no punctuation, prefixes abbreviated."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(char for char in text if not unicodedata.combining(char)).casefold()
    text = _DOTTED.sub(lambda match: match.group(0).replace(".", "") + " ", text)
    text = " ".join(_NOT_A_LETTER.sub(" ", text.replace("&", " en ")).split())
    for pattern, short in _PREFIX_PATTERNS:
        text = pattern.sub(short, text)
    return text


def brin_key(brin: str) -> str:
    """The key of a BRIN code (already in its normal form)."""
    return f"brin:{brin}"


def name_key(name: str) -> str:
    """The key of a name without a BRIN code."""
    return f"naam:{organisation_key(name)}"


def match_key(name: str, brin: str) -> str:
    """The key a registration or school is matched by: its BRIN code's where given, else its name's."""
    return brin_key(brin) if brin else name_key(name)
