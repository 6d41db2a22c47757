"""Helpers the tests import (fixtures stay in conftest.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
import vobject

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


def read_with_icaljs(ics: bytes) -> dict:
    """What Mozilla's ical.js (Thunderbird's parser) reads in a calendar file: tests/js/read_calendar.mjs."""
    node_module("ical.js")
    script = ROOT / "tests" / "js" / "read_calendar.mjs"
    done = subprocess.run(["node", str(script)], input=ics, capture_output=True, check=True, timeout=60)
    return json.loads(done.stdout)


def read_with_vobject(ics: bytes) -> dict:
    """What Python's vobject reads in a calendar file, in the shape of read_with_icaljs."""
    calendar = vobject.readOne(ics.decode("utf-8"))
    events = []
    for entry in calendar.contents.get("vevent", []):
        value = _vobject_values(entry)
        organizer = entry.contents.get("organizer", [None])[0]
        events.append({
            "uid": value("uid"),
            "sequence": int(value("sequence")) if value("sequence") is not None else None,
            "status": value("status"),
            "summary": value("summary"),
            "start": _utc_text(value("dtstart")),
            "end": _utc_text(value("dtend")),
            "dtstamp": _utc_text(value("dtstamp")),
            "url": value("url"),
            "organizer": organizer and {
                "address": organizer.value, "cn": organizer.params.get("CN", [None])[0],
            },
            "attendee": "attendee" in entry.contents,
        })
    method = calendar.contents.get("method")
    return {"method": method[0].value if method else None, "events": events}


def _vobject_values(component):
    """A reader of a component's first value of a property, or None."""
    return lambda name: component.contents[name][0].value if name in component.contents else None


def _utc_text(moment: datetime | None) -> str | None:
    """An aware moment as ical.js's JSON writes it: '2027-05-25T14:00:00Z'."""
    return None if moment is None else moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
