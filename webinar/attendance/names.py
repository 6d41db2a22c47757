"""Which registrant a name in a meeting report may be: for rows that match nobody by address.

People join with another address than they registered with, or as a guest
under a name they type. We compare names the way Dutch names get written:

- accents, case and punctuation do not count ("José" is "jose", "Anne-Marie"
  is "anne marie");
- the tussenvoegsel may stand anywhere or be left out ("Anna van den Berg",
  "Berg, Anna van den", "Anna Berg"), and may be written in the last name;
- initials stand for the first name ("A. van den Berg", "A.M. van den Berg");
- Teams' and Zoom's additions do not count: "(External)", "(Gast)", and
  Zoom's "Anna (Anna van den Berg)" is read as both names;
- the part of the report's address before the @ counts as a name too
  ("a.vandenberg@school.example").

Only a suggestion: the organiser links with one click, or not.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

#: words that are a tussenvoegsel, not a name of their own (folded)
TUSSENVOEGSELS = {
    "van", "de", "der", "den", "het", "ter", "ten", "te", "in", "op", "d", "t", "s", "la", "le", "du",
    "da", "di", "del", "von", "vom", "zu", "aan", "bij", "onder", "uit", "voor", "over", "uijt",
}
#: what Teams and Zoom add to a name
_ADDITIONS = re.compile(
    r"\((?:external|extern|externe|guest|gast|unverified|niet[- ]geverifieerd|host|co-host|organizer|organisator)\)",
    re.IGNORECASE,
)
_PARENTHESES = re.compile(r"\(([^()]*)\)")
_NOT_A_LETTER = re.compile(r"[^a-z0-9]+")

#: scores, highest first, with the reason shown to the organiser
SAME_NAME, FIRST_AND_LAST, INITIAL_AND_LAST, LAST_ONLY = 100, 90, 70, 40
REASONS = {
    SAME_NAME: "zelfde naam",
    FIRST_AND_LAST: "voornaam en achternaam",
    INITIAL_AND_LAST: "voorletter en achternaam",
    LAST_ONLY: "alleen de achternaam",
}
#: at most this many suggestions per row
MOST = 3


def fold(text: str) -> str:
    """Lower case, accents off, anything but letters and digits a single space."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _NOT_A_LETTER.sub(" ", plain.casefold()).strip()


def _words(text: str) -> list[str]:
    return fold(text).split()


def _core(words: list[str]) -> list[str]:
    return [word for word in words if word not in TUSSENVOEGSELS]


def name_forms(name: str, email: str = "") -> list[list[str]]:
    """The ways a report's name (and address) may be read: lists of folded words."""
    name = _ADDITIONS.sub(" ", name)
    texts = [_PARENTHESES.sub(" ", name), *_PARENTHESES.findall(name)]
    forms = []
    for text in texts:
        if "," in text:  # "Jansen, Piet" and "Berg, Anna van den": the last name first
            last, _, first = text.partition(",")
            text = f"{first} {last}"
        if words := _words(text):
            forms.append(words)
    local_part = email.partition("@")[0]
    if words := _words(local_part):
        forms.append(words)
    return forms


def name_key(name: str) -> str:
    """The report name as one folded text, without Teams' and Zoom's additions."""
    return " ".join(_words(_ADDITIONS.sub(" ", name)))


@dataclass(frozen=True)
class Person:
    """A registrant's name, folded once."""

    first: list[str]
    last: list[str]
    #: the whole last name with tussenvoegsel, without spaces ("vandenberg")
    joined_last: str

    @classmethod
    def of(cls, first_name: str, tussenvoegsel: str, last_name: str) -> Person:
        last = _words(f"{tussenvoegsel} {last_name}")
        return cls(first=_words(first_name), last=_core(last) or last, joined_last="".join(last))


def _rest(person: Person, words: list[str], core: list[str]) -> list[str] | None:
    """The words besides the person's last name, or None when the last name is not there."""
    if person.last and all(word in core for word in person.last):
        return [word for word in core if word not in person.last]
    glued = person.joined_last
    for word in words:  # the last name written as one word, perhaps after the first name or an initial
        if len(glued) >= 3 and word.endswith(glued):
            before = word[: -len(glued)]
            return [before] if before else [other for other in core if other != word]
    return None


def _score_form(person: Person, words: list[str]) -> int:
    rest = _rest(person, words, _core(words) or words)
    if rest is None:
        return 0
    if not person.first:
        return LAST_ONLY
    if rest == person.first:
        return SAME_NAME
    if person.first[0] in rest:
        return FIRST_AND_LAST
    initials = [word for word in rest if len(word) == 1]
    if initials and initials[0] == person.first[0][0]:
        return INITIAL_AND_LAST
    return LAST_ONLY


def score(person: Person, forms: list[list[str]]) -> int:
    """How well any of the report's forms fits the person (0 when not at all)."""
    return max((_score_form(person, words) for words in forms), default=0)


class Candidates:
    """The people to suggest from, indexed by their last name, so each row scores only those it may be."""

    def __init__(self, people: list[tuple[object, Person]]) -> None:
        self.people = people
        #: a word of a last name, or the whole last name written as one word -> positions in `people`
        self.by_word: dict[str, set[int]] = defaultdict(set)
        self.by_glued: dict[str, set[int]] = defaultdict(set)
        for index, (_, person) in enumerate(people):
            for word in person.last:
                self.by_word[word].add(index)
            if len(person.joined_last) >= 3:
                self.by_glued[person.joined_last].add(index)

    def _possible(self, forms: list[list[str]]) -> set[int]:
        """Everyone whose last name is in a form, as a word or at the end of one (see _rest)."""
        found: set[int] = set()
        for word in {word for words in forms for word in words}:
            found |= self.by_word.get(word, set())
            for start in range(len(word) - 2):
                found |= self.by_glued.get(word[start:], set())
        return found

    def suggest(self, forms: list[list[str]]) -> list[tuple[object, str]]:
        """The best fitting people for a report row's forms, best first: (person's object, reason)."""
        scored = [(score(self.people[index][1], forms), index) for index in self._possible(forms)]
        found = sorted((item for item in scored if item[0]), key=lambda item: (-item[0], item[1]))
        if found and found[0][0] > LAST_ONLY:  # a better fit makes a shared last name noise
            found = [item for item in found if item[0] > LAST_ONLY]
        return [(self.people[index][0], REASONS[points]) for points, index in found[:MOST]]


def suggest(forms: list[list[str]], people: list[tuple[object, Person]]) -> list[tuple[object, str]]:
    """The best fitting people for a report row's forms, best first: (person's object, reason)."""
    return Candidates(people).suggest(forms)
