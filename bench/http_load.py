"""What the load benchmarks share: gunicorn on loopback, and visitors who open and submit the form.

Used by bench/registration_load.py and bench/scale_out.py. Every server listens
on 127.0.0.1 only; every phase of requests stops at a deadline.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
#: seconds a client waits for one answer
TIMEOUT = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- servers ---------------------------------------------------------------------------


#: gunicorn's master process id per base URL, for server_cpu()
MASTERS: dict[str, int] = {}


def server_cpu(url: str) -> float:
    """CPU seconds (user + system) used so far by the gunicorn workers serving `url`."""
    master, total = MASTERS[url], 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == master:  # fields[1] is the parent's pid
            total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


@contextmanager
def gunicorn(app: str, env: dict, *, workers: int, threads: int, extra: tuple = ()):
    """Serve `app` with gunicorn on a free loopback port; yields the base URL once /healthz answers."""
    port = free_port()
    command = [str(BIN / "gunicorn"), app, "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
               "--threads", str(threads), "--log-level", "warning", *extra]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    url = f"http://127.0.0.1:{port}"
    MASTERS[url] = process.pid
    try:
        wait_until_up(url, process)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:  # still booting
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up within {timeout} s")


def server_env(database: str, instance: Path) -> dict:
    """The environment for the app's processes (development config: cookies work over http)."""
    return {
        "DATABASE_URL": database,
        "SECRET_KEY": "bench-not-secret",
        "WEBINAR_INSTANCE_DIR": str(instance),
        "RATELIMIT_ENABLED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def add_load_arguments(parser, *, clients: int, max_clients: int, max_seconds: float) -> None:
    """--clients, --max-seconds, --workers and --database-url, as the load benchmarks take them."""
    parser.add_argument("--clients", type=int, default=clients, help=f"concurrent clients (at most {max_clients})")
    parser.add_argument("--max-seconds", type=float, default=max_seconds, help="stop starting new requests after this")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (a database of its own is made)")


def bound_load_arguments(args, *, max_clients: int) -> None:
    """Keep --clients and --max-seconds within what a shared machine can take."""
    args.clients = max(1, min(args.clients, max_clients))
    args.max_seconds = max(1.0, min(args.max_seconds, 300.0))


def verdict(ok: bool, problems: list[str]) -> int:
    """Print the problems found and whether the targets are met; the exit status."""
    for problem in problems:
        print(f"  {problem}")
    print(f"targets: {'met' if ok and not problems else 'NOT met'}")
    return 0 if ok and not problems else 1


def load_average() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


# --- the clients -----------------------------------------------------------------------


def form_data(email: str, token: str, number: int) -> dict:
    """The registration form as a browser sends it (field names from registration/forms.py)."""
    return {
        "csrf_token": token, "first_name": "Deelnemer", "tussenvoegsel": "van den",
        "last_name": f"Berg {number}", "email": email, "organisation": "OBS De Linde",
        "organisation_type": "School", "role": "Schoolleider", "role_other": "", "question": "",
        "privacy": "y", "website": "",
    }


@dataclass
class Visitor:
    """Someone with the form open: the page's cookies and CSRF token."""

    number: int
    email: str
    base: str
    slug: str
    cookies: object = None
    token: str = ""
    #: whether the POST went out (then exactly one registration must exist)
    posted: bool = False
    #: where the POST redirected to
    location: str = ""


@dataclass
class Run:
    """What one phase (all GETs, or all POSTs) gave."""

    name: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: CPU seconds the server's workers used meanwhile (0 when not measured)
    cpu: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def cpu_each(self) -> float:
        """The server's CPU seconds per answered request."""
        return self.cpu / max(len(self.latencies), 1)

    def percentile(self, p: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else 0.0
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1]


def open_form(visitor: Visitor) -> str:
    """GET the event page with fresh cookies; keep the cookies and token. An error, or ''."""
    with requests.Session() as http:
        page = http.get(f"{visitor.base}/events/{visitor.slug}", timeout=TIMEOUT)
        match = CSRF_INPUT.search(page.text)
        if page.status_code != 200 or not match:
            return f"GET {page.status_code}"
        visitor.cookies, visitor.token = http.cookies, match.group(1)
    return ""


def submit_form(visitor: Visitor) -> str:
    """POST the registration with the visitor's cookies and token. An error, or ''."""
    visitor.posted = True
    answer = requests.post(
        f"{visitor.base}/events/{visitor.slug}", data=form_data(visitor.email, visitor.token, visitor.number),
        cookies=visitor.cookies, allow_redirects=False, timeout=TIMEOUT,
    )
    visitor.location = answer.headers.get("Location", "")
    if answer.status_code != 302 or "/aangemeld" not in visitor.location:
        return f"POST {answer.status_code}"
    return ""


def phase(name: str, action, visitors: list[Visitor], clients: int, deadline: float) -> Run:
    """CLIENTS threads apply `action` to the visitors, each visitor once, until done or the deadline."""
    run = Run(name)
    pending = iter(visitors)
    lock = threading.Lock()

    def client() -> None:
        while time.monotonic() < deadline:
            with lock:
                visitor = next(pending, None)
            if visitor is None:
                return
            started = time.perf_counter()
            try:
                error = action(visitor)
            except requests.RequestException as exc:
                error = type(exc).__name__
            if error:
                run.errors.append(error)
            else:
                run.latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for future in [pool.submit(client) for _ in range(clients)]:
            future.result()
    run.seconds = time.perf_counter() - started
    return run


def visitors_for(targets: list[tuple[str, str]], count: int, prefix: str) -> list[Visitor]:
    """COUNT visitors spread round-robin over `targets` (base URL, slug)."""
    return [Visitor(n, f"{prefix}{n:05d}@example.org", *targets[n % len(targets)]) for n in range(count)]


def drive(targets: list[tuple[str, str]], clients: int, count: int, max_seconds: float,
          prefix: str) -> tuple[Run, Run, list[Visitor]]:
    """Every visitor opens the form, then every visitor submits it: (GET run, POST run, visitors)."""
    deadline = time.monotonic() + max_seconds
    visitors = visitors_for(targets, count, prefix)
    gets = phase("GET", open_form, visitors, clients, deadline)
    ready = [v for v in visitors if v.token]
    posts = phase("POST", submit_form, ready, clients, deadline)
    return gets, posts, ready
