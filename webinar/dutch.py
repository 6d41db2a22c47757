"""Dutch ways of writing dates, times and amounts ("dinsdag 25 mei 2027, 16.00–17.15 uur")."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

DAYS = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"]
MONTHS = [
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
]


def local(moment: datetime) -> datetime:
    """The moment in Amsterdam time."""
    return moment.astimezone(AMSTERDAM)


def date(moment: datetime) -> str:
    """'dinsdag 25 mei 2027'."""
    day = local(moment)
    return f"{DAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


def time(moment: datetime) -> str:
    """'16.00'."""
    return local(moment).strftime("%H.%M")


def datetime_text(moment: datetime) -> str:
    """'dinsdag 25 mei 2027 om 16.00 uur'."""
    return f"{date(moment)} om {time(moment)} uur"


def period(starts: datetime, ends: datetime) -> str:
    """'dinsdag 25 mei 2027, 16.00–17.15 uur', or both dates when it spans days."""
    if local(starts).date() == local(ends).date():
        return f"{date(starts)}, {time(starts)}\u2013{time(ends)} uur"
    return f"{datetime_text(starts)} tot {datetime_text(ends)}"


def number(value: int) -> str:
    """'1.250'."""
    return f"{value:,}".replace(",", ".")


def euro(cents: int) -> str:
    """'€ 2.286,00' for 228600 cents (amounts are kept in whole cents)."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}\u20ac\u00a0{number(whole)},{rest:02d}"
