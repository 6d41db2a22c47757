"""The registry of mail kinds: each domain registers the e-mails it sends, mailing sends them.

Mailing knows no feature: a domain calls `register_kind` from its own
`notifications.py` with the kind's Dutch label, who gets it, and how to render
a row of that kind at send time. Planned mail (reminders and the like) comes
from sweeps the domains register with `register_sweep`; the worker runs them
at the start of every pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from .mime import Email


@dataclass
class Batch:
    """What the e-mails of one batch share, and the rows their rendering asks to store before sending.

    Personal link tokens are minted while rendering, but stored once for the
    whole batch: a renderer hands each row to `keep` with the function that
    stores such rows, and the worker calls `store` in the transaction that
    records the rendering.
    """

    #: per event id: template values and calendar files that are the same for every recipient
    events: dict[int, dict] = field(default_factory=dict)
    #: rows to store, per function that stores a list of them in one statement
    pending: dict[Callable[[list[dict]], None], list[dict]] = field(default_factory=dict)
    #: files a renderer made for its rows (a PDF per person), kept for the batch by what they say
    prepared: dict = field(default_factory=dict)

    def keep(self, store: Callable[[list[dict]], None], row: dict) -> None:
        """Collect a row for `store`, called once for the batch."""
        self.pending.setdefault(store, []).append(row)

    def mark(self) -> dict:
        """How much is collected now, to drop what one row's failed rendering added (see `drop_since`)."""
        return {store: len(rows) for store, rows in self.pending.items()}

    def drop_since(self, mark: dict) -> None:
        """Forget the rows collected after `mark`: their message is not sent."""
        for store, rows in self.pending.items():
            del rows[mark.get(store, 0):]

    def store(self) -> None:
        """Store every collected row, one call per store function."""
        for store, rows in self.pending.items():
            if rows:
                store(rows)


@dataclass(frozen=True)
class MailKind:
    """One kind of e-mail: what organisers call it, who gets it, and how it is rendered when sent."""

    name: str
    #: what organisers call it, in Dutch (previews, `flask mail status`, `flask events schedule`)
    label: str
    #: who gets it, in Dutch: "aangemelde", "organisator", "aanvrager", ...
    recipient: str
    #: the row as a message, built when it is sent
    render: Callable[[object, datetime, Batch], Email]
    #: `still_useful(row, now, batch)` raises Obsolete when a row of this kind lost its use by the time it is
    #: sent (None: always useful)
    still_useful: Callable[[object, datetime, Batch], object] | None = None
    #: it carries a calendar file
    calendar: bool = False
    #: it carries personal links (tokens minted when it is rendered)
    personal_links: bool = False
    #: planned from the event's schedule: moving or cancelling the event makes unsent ones stale
    scheduled: bool = False
    #: sent to many at once and asking nothing of anyone: marked "Precedence: bulk" (see Email.bulk)
    bulk: bool = False


_KINDS: dict[str, MailKind] = {}
_SWEEPS: list[Callable[[datetime], int]] = []


def register_kind(name: str, *, label: str, recipient: str, render: Callable, still_useful: Callable | None = None,
                  calendar: bool = False, personal_links: bool = False, scheduled: bool = False,
                  bulk: bool = False) -> MailKind:
    """Make a kind of e-mail known to the worker, the previews and the commands."""
    if name in _KINDS:
        raise ValueError(f"mail kind {name!r} is registered twice")
    kind = MailKind(name, label, recipient, render, still_useful, calendar, personal_links, scheduled, bulk)
    _KINDS[name] = kind
    return kind


def mail_kind(name: str) -> MailKind:
    """The registered kind of this name."""
    return _KINDS[name]


def label(name: str) -> str:
    """The kind's Dutch label, or its name when no domain registered it."""
    kind = _KINDS.get(name)
    return kind.label if kind else name


def labels() -> dict[str, str]:
    """Every registered kind's Dutch label, by name."""
    return {name: kind.label for name, kind in _KINDS.items()}


def scheduled_kinds() -> list[str]:
    """The kinds planned from an event's schedule."""
    return [kind.name for kind in _KINDS.values() if kind.scheduled]


def render(row, now: datetime, batch: Batch) -> Email:
    """The message for an outbox row, rendered by its kind; Obsolete when it lost its use.

    KeyError for a kind nobody registered.
    """
    kind = _KINDS[row.kind]
    if kind.still_useful is not None:
        kind.still_useful(row, now, batch)
    email = kind.render(row, now, batch)
    return replace(email, bulk=True) if kind.bulk else email


def register_sweep(sweep: Callable[[datetime], int]) -> None:
    """Run `sweep(now)` at the start of every worker pass; it queues planned mail and says how many."""
    if sweep not in _SWEEPS:
        _SWEEPS.append(sweep)


#: other outboxes the worker empties after the mail in each pass (webhooks); each takes `now`
_PASSES: list[Callable[[datetime], object]] = []


def register_pass(extra: Callable[[datetime], object]) -> None:
    """Have the worker run `extra(now)` after the mail of each pass, outside any transaction."""
    if extra not in _PASSES:
        _PASSES.append(extra)


def run_passes(now: datetime) -> None:
    """Run the other outboxes' passes (see register_pass)."""
    for extra in _PASSES:
        extra(now)


def run_sweeps(now: datetime) -> int:
    """Run every registered sweep; how many messages they queued."""
    return sum(sweep(now) for sweep in _SWEEPS)
