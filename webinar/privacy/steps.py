"""Purge steps of other domains, run by `flask privacy purge` after the events.

A step takes the current time, removes the personal data its domain has kept
long enough, flushes (never commits) and returns how many records it removed.
The command runs each step in a transaction of its own. To add a step, import
it here and append it to STEPS with a Dutch description of what it removes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ..api.webhooks import purge_delivered_payloads
from ..support.services import purge_closed_requests

PurgeStep = Callable[[datetime], "int | None"]

#: (what the step removes, the step)
STEPS: list[tuple[str, PurgeStep]] = [
    ("afgesloten ondersteuningsvragen", purge_closed_requests),
    ("inhoud van afgeleverde webhookberichten", purge_delivered_payloads),
]
