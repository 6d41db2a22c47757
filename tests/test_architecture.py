"""Imports run downwards only: mailing knows no feature, events know no registrations.

The rooms of the package, lowest first, as DESIGN.md draws them. A module may
import from its own room and from lower ones, never from a higher one: when a
lower room needs something from a higher one, the higher one registers it (mail
kinds, sweeps, signals). The checks read the source with `ast`, so an import
inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "webinar"

#: rank per room (a sub-package or a top-level module of `webinar`); higher may import lower
ROOMS = {
    **dict.fromkeys(("extensions", "database", "dutch", "links", "tokens", "uploads",
                     "security", "audit", "forms"), 0),
    "mailing": 1,
    "events": 2,
    "registration": 3,
    "attendance": 4,
    **dict.fromkeys(("support", "organiser", "privacy", "api", "certificates", "organisations"), 5),
    **dict.fromkeys(("demo", "cli", "__init__"), 6),
}
#: the feature packages mailing may not import
FEATURES = ("events", "registration", "attendance", "organiser", "support", "privacy", "api", "certificates",
            "organisations")
#: imports that go up today, each with what removes it; the list may only shrink
KNOWN_UPWARD: set[tuple[str, str]] = set()


def imported_rooms(source: str, path: Path) -> set[str]:
    """The rooms of `webinar` that this module's source imports from (absolute or relative)."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    package = ("webinar", *parts[:-1])  # __init__ and plain modules alike: their package
    rooms = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name.split(".") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            module = base + (node.module.split(".") if node.module else [])
            # `from . import x` or `from .. import x` names modules or rooms
            names = [module + [alias.name] for alias in node.names] if not node.module else [module]
        else:
            continue
        rooms.update(name[1] for name in names if len(name) > 1 and name[0] == "webinar")
    return rooms


def room_of(path: Path) -> str:
    """The room a module lives in: its sub-package, or its own name at the top level."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else path.stem


def modules(room: str | None = None) -> list[Path]:
    """The package's modules, or one room's."""
    found = sorted(PACKAGE.rglob("*.py"))
    return [path for path in found if room is None or room_of(path) == room]


def upward_imports(path: Path, source: str) -> set[str]:
    """The rooms above this module's own that it imports."""
    own = ROOMS[room_of(path)]
    return {room for room in imported_rooms(source, path) if ROOMS.get(room, 0) > own}


def test_every_room_has_a_rank():
    assert {room_of(path) for path in modules()} <= set(ROOMS)


def test_mailing_imports_no_feature_package():
    found = {(path.name, room) for path in modules("mailing")
             for room in imported_rooms(path.read_text(), path) if room in FEATURES}
    assert found == set()


def test_events_import_nothing_of_registrations_attendance_organiser_or_support():
    found = {(path.name, room) for path in modules("events")
             for room in imported_rooms(path.read_text(), path)
             if room in ("registration", "attendance", "organiser", "support")}
    assert found == set()


def test_no_lower_room_imports_a_higher_one():
    found = {(path.relative_to(PACKAGE).as_posix(), room) for path in modules()
             for room in upward_imports(path, path.read_text())}
    assert found - KNOWN_UPWARD == set()
    assert KNOWN_UPWARD <= found, "an upward import is gone: take it off KNOWN_UPWARD"


@pytest.mark.parametrize("source", [
    "from ..registration.models import Registration",
    "from webinar.organiser import services",
    "import webinar.support.models",
    "from .. import attendance",
    "def later():\n    from ..events.models import Event\n",
])
def test_the_checks_see_a_bad_import(source):
    """Negative control: a feature import written into mailing, in any form, is found."""
    path = PACKAGE / "mailing" / "worker.py"
    assert imported_rooms(source, path) & set(FEATURES)
    assert upward_imports(path, source)


def test_a_relative_import_within_the_room_is_not_counted_as_another_room():
    path = PACKAGE / "mailing" / "worker.py"
    assert imported_rooms("from .models import OutgoingMail\nfrom ..database import utcnow", path) == {
        "mailing", "database"}
