"""Writing a large import in groups, each in a short write transaction of its own.

A public registration needs the same lock (SQLite's single writer, the event's
row on PostgreSQL), so it waits for one group at most, never for the whole
file. Groups that were committed stay committed: when a group fails, its rows
are tried one by one, so only the rows that fail themselves are left out, and
the caller tells the organiser which ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from flask import current_app

from ..database import restart_as_write
from ..extensions import db

#: rows per write transaction: some tens of milliseconds of lock each on a 2-core machine (docs/benchmarks.md)
GROUP_ROWS = 200
#: seconds between groups. On SQLite, writers waiting for the lock do not queue: they sleep and
#: try again (1, 2, 5, ... up to 100 ms apart), so without a pause the import would take the lock
#: again before any of them woke up. On PostgreSQL waiters on the event's row do queue, but the
#: import would still keep a core busy; the pause leaves room to the requests that wait for one.
PAUSE_SECONDS = 0.05

Item = TypeVar("Item")


@dataclass
class Written(Generic[Item]):
    """What writing in groups gave: each group's result, and the items that could not be written."""

    results: list = field(default_factory=list)
    failed: list[Item] = field(default_factory=list)
    #: whether any group failed (its rows were then tried one by one)
    retried: bool = False


def write_in_groups(items: list[Item], write: Callable[[list[Item]], object]) -> Written[Item]:
    """Call `write` for each group of items and commit it; a group that fails is tried again row by row."""
    written: Written[Item] = Written()
    for start in range(0, len(items), GROUP_ROWS):
        if start:
            time.sleep(PAUSE_SECONDS)
        group = items[start:start + GROUP_ROWS]
        try:
            written.results.append(_committed(write, group))
        except Exception:  # noqa: BLE001 - logged; the rows are tried one by one below
            current_app.logger.exception("import: a group of %d rows failed", len(group))
            written.retried = True
            for item in group:
                try:
                    written.results.append(_committed(write, [item]))
                except Exception:  # noqa: BLE001 - logged; the caller reports the row as not stored
                    current_app.logger.exception("import: a row could not be stored")
                    written.failed.append(item)
    return written


def _committed(write: Callable[[list[Item]], object], group: list[Item]):
    restart_as_write()
    try:
        result = write(group)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result
