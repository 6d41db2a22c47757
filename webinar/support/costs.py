"""The cost estimate of a support request, in whole euro cents.

The programme and the school each pay half. Eight half-days (dagdelen) cost
the school € 2.286 excluding VAT, so one half-day costs the school € 285,75 and
is worth € 571,50 in all. A school can ask for at most 2 × 8 = 16 half-days.

VAT (21%) is computed per school on the school's share and rounded to whole
cents, half a cent upwards (ROUND_HALF_UP); the overall totals are the sums of
the schools' lines, so the table always adds up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: what one half-day costs the school, excluding VAT (the programme pays the same)
SCHOOL_CENTS_PER_HALF_DAY = 28575
#: the most half-days the programme funds for one school
MAX_HALF_DAYS = 16
#: VAT in percent
VAT_PERCENT = 21


def vat_cents(amount_cents: int) -> int:
    """21% of the amount, rounded to whole cents with half a cent going up."""
    if amount_cents < 0:
        raise ValueError("negative amount")
    return (amount_cents * VAT_PERCENT + 50) // 100


@dataclass(frozen=True)
class SchoolCost:
    """What the half-days for one school cost, and who pays what."""

    half_days: int
    #: the programme's half (no VAT: it is not invoiced to the school)
    programme_cents: int
    #: the school's half, excluding VAT
    school_cents: int
    school_vat_cents: int

    @property
    def total_cents(self) -> int:
        """The value of the support excluding VAT: both halves."""
        return self.programme_cents + self.school_cents

    @property
    def school_incl_cents(self) -> int:
        return self.school_cents + self.school_vat_cents


@dataclass(frozen=True)
class Estimate:
    """The cost per school and overall."""

    schools: tuple[SchoolCost, ...]

    @property
    def half_days(self) -> int:
        return sum(school.half_days for school in self.schools)

    @property
    def programme_cents(self) -> int:
        return sum(school.programme_cents for school in self.schools)

    @property
    def school_cents(self) -> int:
        return sum(school.school_cents for school in self.schools)

    @property
    def school_vat_cents(self) -> int:
        return sum(school.school_vat_cents for school in self.schools)

    @property
    def school_incl_cents(self) -> int:
        return self.school_cents + self.school_vat_cents

    @property
    def total_cents(self) -> int:
        return self.programme_cents + self.school_cents


def school_cost(half_days: int) -> SchoolCost:
    """The cost of `half_days` for one school; ValueError outside 1..16."""
    if not 1 <= half_days <= MAX_HALF_DAYS:
        raise ValueError(f"a school can ask for 1 to {MAX_HALF_DAYS} half-days, not {half_days}")
    share = half_days * SCHOOL_CENTS_PER_HALF_DAY
    return SchoolCost(half_days, programme_cents=share, school_cents=share, school_vat_cents=vat_cents(share))


def estimate(half_days: Iterable[int]) -> Estimate:
    """The estimate for schools asking for these numbers of half-days."""
    return Estimate(tuple(school_cost(days) for days in half_days))
