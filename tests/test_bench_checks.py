"""The load benchmarks' checks can fail: lost, doubled or wrong registrations and mail are reported.

bench/registration_load.py and bench/scale_out.py end by comparing what was
submitted with the database and the SMTP sink. These tests feed the checks
made-up outcomes, good and bad, so a clean "all passed" in a run means
something; and the open loop's arrivals are what it says. No servers are started.
"""

from __future__ import annotations

import random
import sys
from collections import namedtuple
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from http_load import Visitor  # noqa: E402
from open_loop import arrivals  # noqa: E402
from registration_load import exactly_once, open_loop_visitors  # noqa: E402
from scale_out import check  # noqa: E402

Row = namedtuple("Row", "id email status kind mail_status message_id")
CAPACITY = 2


def visitor(number: int, waiting: bool) -> Visitor:
    location = "/events/e/aangemeld" + ("?wachtlijst=1" if waiting else "")
    return Visitor(number, f"p{number}@example.org", "http://127.0.0.1:1", "e", posted=True, location=location)


def outcome():
    """Three sign-ups for two places, all well: (rows, visitors, what the sink received)."""
    visitors = [visitor(0, False), visitor(1, False), visitor(2, True)]
    rows = [
        Row(1, "p0@example.org", "confirmed", "confirmation", "sent", "<m1@example.org>"),
        Row(2, "p1@example.org", "confirmed", "confirmation", "sent", "<m2@example.org>"),
        Row(3, "p2@example.org", "waitlisted", "waitlisted", "sent", "<m3@example.org>"),
    ]
    received = [(row.message_id, [row.email]) for row in rows]
    return rows, visitors, received


def test_a_good_outcome_passes():
    rows, visitors, received = outcome()
    assert check(rows, visitors, CAPACITY, received) == []


def test_exactly_once_names_missing_extra_and_doubled():
    problems = exactly_once("x", ["a", "b", "c"], {"a": 1, "b": 2, "d": 1})
    assert any("missing" in p and "'c'" in p for p in problems)
    assert any("never submitted" in p and "'d'" in p for p in problems)
    assert any("more than once" in p and "'b'" in p for p in problems)


def _overbooked(rows, visitors, received):
    rows[2] = rows[2]._replace(status="confirmed", kind="confirmation")
    visitors[2].location = "/events/e/aangemeld"


def _doubled_delivery(rows, visitors, received):
    received.append(received[0])


def _lost_delivery(rows, visitors, received):
    received.pop()


def _unsent(rows, visitors, received):
    rows[0] = rows[0]._replace(mail_status="pending")


def _wrong_kind(rows, visitors, received):
    rows[2] = rows[2]._replace(kind="confirmation")


def _stored_twice(rows, visitors, received):
    rows.append(Row(4, "p0@example.org", "waitlisted", "waitlisted", "sent", "<m4@example.org>"))
    received.append(("<m4@example.org>", ["p0@example.org"]))


def _told_wrong(rows, visitors, received):
    visitors[2].location = "/events/e/aangemeld"


@pytest.mark.parametrize(
    "spoil, words",
    [
        (_overbooked, "3 confirmed"),
        (_doubled_delivery, "Message-IDs at the sink: 1 more than once"),
        (_lost_delivery, "Message-IDs at the sink: 1 submitted but missing"),
        (_unsent, "not sent"),
        (_wrong_kind, "wrong kind"),
        (_stored_twice, "registrations: 1 more than once"),
        (_told_wrong, "told the wrong status"),
    ],
    ids=lambda value: getattr(value, "__name__", "")[1:] if callable(value) else "",
)
def test_a_bad_outcome_is_reported(spoil, words):
    rows, visitors, received = outcome()
    spoil(rows, visitors, received)
    problems = check(rows, visitors, CAPACITY, received)
    assert any(words in problem for problem in problems), problems


def test_open_loop_arrivals_are_a_poisson_process_within_the_run():
    """Arrivals at 100/s for 10 s: about 1,000, in order, inside the 10 s, with gaps of mean 10 ms;
    the visitors prepared always suffice."""
    for seed in range(20):
        moments = arrivals(100, 10, random.Random(seed))
        assert 1000 - 5 * 32 < len(moments) < 1000 + 5 * 32  # Poisson: standard deviation sqrt(1000)
        assert moments == sorted(moments) and 0 < moments[0] and moments[-1] < 10
        assert len(moments) <= open_loop_visitors(100, 10)
        gaps = [b - a for a, b in zip(moments, moments[1:])]
        assert 0.008 < sum(gaps) / len(gaps) < 0.012
