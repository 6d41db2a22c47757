"""Support requests: the cost rules (half days, VAT, totals) and how amounts are written."""

from __future__ import annotations

import pytest

from helpers import NBSP
from webinar.dutch import euro
from webinar.support.costs import MAX_HALF_DAYS, estimate, school_cost, vat_cents


# -- the cost rules --------------------------------------------------------------


@pytest.mark.parametrize(
    ("half_days", "school", "vat", "incl"),
    [
        (1, 28575, 6001, 34576),      # 6000.75 cents of VAT: up
        (2, 57150, 12002, 69152),     # 12001.5: half a cent goes up
        (3, 85725, 18002, 103727),    # 18002.25: down
        (8, 228600, 48006, 276606),   # the seed's figure: € 2.286 for 8 half-days
        (16, 457200, 96012, 553212),  # the most there is: 2 × 8
    ],
)
def test_school_pays_half_at_28575_cents_a_half_day_plus_vat(half_days, school, vat, incl):
    cost = school_cost(half_days)
    assert (cost.school_cents, cost.school_vat_cents, cost.school_incl_cents) == (school, vat, incl)
    assert cost.programme_cents == cost.school_cents  # 50/50
    assert cost.total_cents == 2 * school


@pytest.mark.parametrize("half_days", [0, -1, MAX_HALF_DAYS + 1, 32])
def test_more_than_16_or_fewer_than_1_half_days_is_refused(half_days):
    with pytest.raises(ValueError):
        school_cost(half_days)
    with pytest.raises(ValueError):
        estimate([8, half_days])


@pytest.mark.parametrize(("amount", "vat"), [(0, 0), (1, 0), (2, 0), (50, 11), (150, 32), (250, 53), (100, 21)])
def test_vat_is_rounded_to_whole_cents_half_up(amount, vat):
    assert vat_cents(amount) == vat


def test_overall_totals_are_the_sums_of_the_school_lines():
    total = estimate([1, 2, 16])
    assert total.half_days == 19
    assert total.school_cents == 28575 * 19
    # Each school's VAT rounded on its own, then added: the table adds up.
    assert total.school_vat_cents == 6001 + 12002 + 96012
    assert total.school_incl_cents == total.school_cents + total.school_vat_cents
    assert total.programme_cents == total.school_cents


@pytest.mark.parametrize(("cents", "text"), [(228600, "€ 2.286,00"), (28575, "€ 285,75"), (5, "€ 0,05"),
                                             (123456789, "€ 1.234.567,89")])
def test_amounts_are_written_the_dutch_way(cents, text):
    assert euro(cents) == text.replace(" ", NBSP)
