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
