"""Helpers the tests import (fixtures stay in conftest.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

#: the project's folder (package.json and node_modules/ live here)
ROOT = Path(__file__).resolve().parent.parent


def require_external(missing: str | None, env: str) -> None:
    """Skip the test with one line when an outside program is missing, or fail when `env`=1 asks for it."""
    if missing is None:
        return
    if os.environ.get(env) == "1":
        pytest.fail(f"{env}=1 but {missing}")
    pytest.skip(missing)


def node_module(name: str) -> Path:
    """The folder of an npm package from package.json, or a skip (a failure with REQUIRE_NODE=1)."""
    folder = ROOT / "node_modules" / name
    if shutil.which("node") is None:
        require_external("no node (install Debian's 'nodejs')", "REQUIRE_NODE")
    if not folder.is_dir():
        require_external(f"npm package {name} is not installed (run 'npm ci')", "REQUIRE_NODE")
    return folder


# Large imports: files of many rows, as organisers upload them


def registrant_csv(count: int, *, start: int = 0, broken: int | None = None) -> bytes:
    """A registrant list of `count` rows (Dutch Excel: semicolons); row number `broken` gets an invalid address."""
    lines = ["voornaam;achternaam;e-mailadres;organisatie;rol"]
    for n in range(start, start + count):
        address = "lid@" if n == broken else f"lid{n:05d}@example.org"
        lines.append(f"Lid;Nummer {n:05d};{address};OBS De Linde;Schoolleider")
    return ("\n".join(lines) + "\n").encode()


def add_confirmed(event_id: int, count: int, when) -> list[str]:
    """`count` confirmed registrations stored at once (no e-mails); their addresses."""
    from sqlalchemy import insert

    from webinar.extensions import db
    from webinar.registration.models import Registration, RegistrationStatus

    addresses = [f"deelnemer{n:05d}@example.org" for n in range(count)]
    db.session.execute(insert(Registration), [
        {"event_id": event_id, "status": RegistrationStatus.confirmed, "first_name": "Deelnemer",
         "last_name": f"Nummer {n:05d}", "email": address, "email_normalized": address,
         "organisation": "OBS De Linde", "role": "Schoolleider", "privacy_accepted_at": when,
         "registered_at": when, "created_at": when, "updated_at": when}
        for n, address in enumerate(addresses)])
    db.session.commit()
    return addresses


def teams_participants(addresses: list[str]) -> bytes:
    """Teams' participants table (UTF-16, tabs): each joined at 15.58 on 25 May 2027 for n % 60 + 5 minutes."""
    lines = ["2. Participants", "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\tParticipant ID (UPN)\tRole"]
    lines += [f"Deelnemer {n}\t5/25/27, 3:58:00 PM\t5/25/27, 5:10:00 PM\t{n % 60 + 5}m 0s\t{a}\t{a}\tAttendee"
              for n, a in enumerate(addresses)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-16")


def zoom_participants(addresses: list[str]) -> bytes:
    """Zoom's participant export (UTF-8, commas), with the same times and minutes as teams_participants."""
    lines = ["Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest"]
    lines += [f"Deelnemer {n},{a},05/25/2027 03:58:00 PM,05/25/2027 05:10:00 PM,{n % 60 + 5},Yes"
              for n, a in enumerate(addresses)]
    return ("\r\n".join(lines) + "\r\n").encode()
