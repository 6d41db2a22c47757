"""Helpers the tests import (fixtures stay in conftest.py)."""

from __future__ import annotations

import os
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import ORGANISER_EMAIL, ORGANISER_PASSWORD

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


def login(client, email: str | None = None, password: str | None = None, **kwargs):
    """Post the organiser login form, by default with the `organiser` fixture's account."""
    data = {"email": email or ORGANISER_EMAIL, "password": password or ORGANISER_PASSWORD}
    return client.post("/organiser/login", data=data, **kwargs)


def median_seconds(attempts: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """The median wall time of each attempt over `rounds`, taken in turns.

    Each round runs every attempt once, starting with another one each time,
    so a busy machine slows all of them alike and the medians stay comparable.
    """
    names = list(attempts)
    times: dict[str, list[float]] = {name: [] for name in names}
    for turn in range(rounds):
        for name in names[turn % len(names):] + names[:turn % len(names)]:
            started = time.perf_counter()  # time-machine leaves the performance counter alone
            attempts[name]()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}
