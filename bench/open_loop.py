"""Open-loop load: sign-ups arrive at a fixed rate, whether or not earlier ones are done.

Used by bench/registration_load.py (--open-loop). Arrival times are drawn in
advance with exponential gaps (a Poisson process of RATE per second) for
SECONDS seconds. A dispatcher thread hands each arrival, at its time, to a
large pool of client threads; each arrival is a whole sign-up by a new visitor:
GET the event page (a fresh session: cookie and CSRF token), then POST the
form, over http.client (one connection per request, as gunicorn's sync
workers close it anyway), which costs the load generator far less CPU than
requests. A sign-up's latency runs from its planned arrival to the POST's
answer, so time lost waiting for a free client thread counts too (no
coordinated omission). The generator's own lag (planned arrival to the
moment a thread starts it) is reported separately, with its CPU per sign-up
and the most threads busy at once: a lag with threads to spare means the
generator could not keep up; a lag with every thread busy means the server
fell behind and its backlog queues at the client. Arrivals not started within
the bound are counted as dropped.
"""

from __future__ import annotations

import http.client
import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from http_load import CSRF_INPUT, TIMEOUT, Visitor, form_data, server_cpu

#: a sign-up started this long after its planned arrival counts as late
LATE = 0.010


@dataclass
class OpenRun:
    """What one rate gave for one side."""

    rate: float
    planned: int = 0
    #: seconds from planned arrival to the POST's answer, per successful sign-up
    latencies: list[float] = field(default_factory=list)
    #: seconds from planned arrival to a client thread starting it, per started sign-up
    lags: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dropped: int = 0
    seconds: float = 0.0
    #: CPU seconds of the server's workers during the run
    cpu: float = 0.0
    #: CPU seconds of this (the generator's) process during the run
    generator_cpu: float = 0.0
    #: the most sign-ups under way at once, and the client threads there were
    most_in_flight: int = 0
    threads: int = 0

    def percentile(self, values: list[float], p: int) -> float:
        if len(values) < 2:
            return values[0] if values else 0.0
        return statistics.quantiles(values, n=100, method="inclusive")[p - 1]

    @property
    def late(self) -> int:
        return sum(lag > LATE for lag in self.lags)

    def line(self, name: str) -> str:
        done = len(self.latencies)
        return (f"open loop {self.rate:5.0f}/s {name:<9} {done:>5} of {self.planned:>5} sign-ups in {self.seconds:5.1f} s "
                f"({done / self.seconds if self.seconds else 0:5.1f}/s)  p50 {self.percentile(self.latencies, 50) * 1000:7.1f} ms  "
                f"p99 {self.percentile(self.latencies, 99) * 1000:7.1f} ms  errors {len(self.errors)}  "
                f"server CPU {self.cpu / max(done, 1) * 1000:5.1f} ms per sign-up  "
                f"generator: lag p50 {self.percentile(self.lags, 50) * 1000:5.1f} / p99 "
                f"{self.percentile(self.lags, 99) * 1000:5.1f} / max {max(self.lags, default=0) * 1000:6.1f} ms, "
                f"late {self.late}, dropped {self.dropped}, CPU {self.generator_cpu / max(self.planned, 1) * 1000:4.1f} ms "
                f"per sign-up, at most {self.most_in_flight} of {self.threads} threads busy"
                f"{' (all: the lag is the server backlog queueing at the client)' if self.most_in_flight >= self.threads else ''}")


def _cookies(response: http.client.HTTPResponse) -> str:
    """The Cookie header that sends back every cookie the response set."""
    return "; ".join(value.split(";", 1)[0] for value in response.headers.get_all("Set-Cookie") or ())


def sign_up(visitor: Visitor) -> str:
    """GET the page, then POST the form, as a new visitor: an error, or ''."""
    parts = urlsplit(visitor.base)
    path = f"/events/{visitor.slug}"
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    try:
        connection.request("GET", path)
        page = connection.getresponse()
        body = page.read().decode()
        match = CSRF_INPUT.search(body)
        if page.status != 200 or not match:
            return f"GET {page.status}"
        cookies = _cookies(page)
    finally:
        connection.close()
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    try:
        visitor.posted = True
        connection.request("POST", path, urlencode(form_data(visitor.email, match.group(1), visitor.number)),
                           {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookies})
        answer = connection.getresponse()
        answer.read()
        visitor.location = answer.getheader("Location", "")
    finally:
        connection.close()
    if answer.status != 302 or "/aangemeld" not in visitor.location:
        return f"POST {answer.status}"
    return ""


def arrivals(rate: float, seconds: float, rng: random.Random) -> list[float]:
    """Planned arrival offsets (seconds from the start): exponential gaps, mean 1 / rate, within `seconds`."""
    moments, moment = [], rng.expovariate(rate)
    while moment < seconds:
        moments.append(moment)
        moment += rng.expovariate(rate)
    return moments


def run_open_loop(base: str, visitors: list[Visitor], rate: float, seconds: float, *, threads: int,
                  grace: float, seed: int) -> OpenRun:
    """Start each visitor's sign-up at its planned arrival; wait at most `grace` s after the last for answers.

    `visitors` must be at least as many as the arrivals (rate * seconds plus a margin); the unused are left alone.
    """
    plan = arrivals(rate, seconds, random.Random(seed))[: len(visitors)]
    run = OpenRun(rate, planned=len(plan), threads=threads)
    lock = threading.Lock()
    in_flight = [0]
    stop_at = time.perf_counter() + seconds + grace  # set again when the clock starts below

    def one(visitor: Visitor, planned: float) -> None:
        started = time.perf_counter()
        if started > stop_at:
            with lock:
                run.dropped += 1
            return
        with lock:
            in_flight[0] += 1
            run.most_in_flight = max(run.most_in_flight, in_flight[0])
        try:
            error = sign_up(visitor)
        except (OSError, http.client.HTTPException) as exc:
            error = type(exc).__name__
        done = time.perf_counter()
        with lock:
            in_flight[0] -= 1
            run.lags.append(started - planned)
            if error:
                run.errors.append(error)
            else:
                run.latencies.append(done - planned)

    cpu_before, generator_before = server_cpu(base), time.process_time()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        start = time.perf_counter()
        stop_at = start + seconds + grace
        for visitor, offset in zip(visitors, plan):
            planned = start + offset
            wait = planned - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            pool.submit(one, visitor, planned)
    run.seconds = time.perf_counter() - start
    run.cpu = server_cpu(base) - cpu_before
    run.generator_cpu = time.process_time() - generator_before
    return run
