"""Reading the times and durations in meeting reports (see report_files.py for the rules)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timezone

from ..dutch import AMSTERDAM

_DATE_TIME = re.compile(
    r"(\d{1,4})[-/.](\d{1,2})[-/.](\d{1,4}),?[ T](\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)? ?([ap]\.?m\.?)?",
    re.IGNORECASE,
)
_HMS = re.compile(
    r"(?:(\d+) ?(?:h|hr|hrs|u|uur)\.?)? ?(?:(\d+) ?m(?:in|inute|inuten|inutes)?\.?)? ?"
    r"(?:(\d+) ?s(?:ec|econden|econds)?\.?)?",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"(\d+):(\d{2}):(\d{2})")


def date_parts(text: str) -> tuple[str, ...] | None:
    match = _DATE_TIME.fullmatch(text)
    return match.groups() if match else None


def _reading(parts: tuple[str, ...], day_first: bool) -> datetime | None:
    """The local date and time in the parts, read day-first or month-first; None if invalid."""
    first, second, third, hour, minute, second_of_minute, half = parts
    if len(first) == 4:
        year, month, day = first, second, third
    elif len(third) in (2, 4):
        year, (day, month) = third, ((first, second) if day_first else (second, first))
    else:
        return None
    hours = int(hour)
    if half:
        if not 1 <= hours <= 12:
            return None
        hours = hours % 12 + (12 if half[0].lower() == "p" else 0)
    try:
        return datetime(int(year) + (2000 if len(year) == 2 else 0), int(month), int(day),
                        hours, int(minute), int(second_of_minute or 0))
    except ValueError:
        return None


def _day_first(all_parts: list[tuple[str, ...]], meeting_date: date | None) -> bool:
    """Whether this file's dates put the day first (see the module's docstring)."""
    ambiguous = [parts for parts in all_parts if len(parts[0]) <= 2]
    if not ambiguous:
        return True
    fits = {order: all(_reading(parts, order) for parts in ambiguous) for order in (True, False)}
    if fits[True] != fits[False]:
        return fits[True]
    if meeting_date is not None and fits[True]:
        near = {
            order: abs((_reading(ambiguous[0], order).date() - meeting_date).days) <= 1
            for order in (True, False)
        }
        if near[True] != near[False]:
            return near[True]
    return not any(parts[6] for parts in ambiguous)


def time_reader(texts: list[str], meeting_date: date | None) -> Callable[[str], datetime | None]:
    """A function from a report's time text to an aware UTC datetime (None if unreadable)."""
    day_first = _day_first([parts for text in texts if (parts := date_parts(text))], meeting_date)

    def to_time(text: str) -> datetime | None:
        parts = date_parts(text)
        local = _reading(parts, day_first) if parts else None
        if local is None:
            return None
        return local.replace(tzinfo=AMSTERDAM).astimezone(timezone.utc)

    return to_time


def duration_seconds(text: str) -> int | None:
    """Seconds in a Teams duration ("1h 5m 12s", "47m 3s", "01:05:12"); None if unreadable."""
    text = text.strip()
    if match := _CLOCK.fullmatch(text):
        hours, minutes, seconds = (int(part) for part in match.groups())
        return hours * 3600 + minutes * 60 + seconds
    match = _HMS.fullmatch(text)
    if not text or match is None or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds
