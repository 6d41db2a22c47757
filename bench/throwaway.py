"""A throwaway database for one test run or one benchmark: a SQLite file, or a PostgreSQL database of its own.

The tests (tests/conftest.py, run with the project folder on the path) import it
as `bench.throwaway`; the benchmarks (run as `.venv/bin/python bench/x.py`,
with bench/ on the path) as `throwaway`.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from config import database_url

ROOT = Path(__file__).resolve().parent.parent


def fresh_database(url: str | None, directory: Path, label: str = "bench") -> tuple[str, Callable[[], None]]:
    """(SQLAlchemy URL, cleanup): a SQLite file in `directory`, or a new PostgreSQL database next to `url`.

    The PostgreSQL database is named after the one in `url`, `label` and this
    process's id, so two runs at once (or two test workers) never share tables.
    """
    if not url:
        return f"sqlite:///{directory / f'{label}.db'}", lambda: None
    base = make_url(database_url(url))
    name = f"{base.database}_{label}_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


@contextmanager
def database(url: str | None, directory: Path, label: str = "bench") -> Iterator[str]:
    """fresh_database's URL, dropped when the block ends."""
    uri, drop = fresh_database(url, directory, label)
    try:
        yield uri
    finally:
        drop()


@contextmanager
def throwaway_database(url: str | None, prefix: str) -> Iterator[tuple[Path, str]]:
    """(folder, SQLAlchemy URL): a temporary folder holding the app's instance folder, and fresh_database's
    database; both removed afterwards."""
    sys.path.insert(0, str(ROOT))
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["WEBINAR_INSTANCE_DIR"] = str(directory / "instance")
    try:
        with database(url, directory) as uri:
            yield directory, uri
    finally:
        shutil.rmtree(directory, ignore_errors=True)
