"""Where a registration POST spends its CPU: the stages of one request, in process.

    .venv/bin/python bench/registration_breakdown.py [--count 500] [--database-url URL]

Builds a fresh database like bench/registration_load.py, opens COUNT forms with
Flask's test client (GET, CSRF on), then POSTs them one after the other while
thin wrappers add up the CPU time (`time.process_time`) of each stage; then
the same for the baseline (bench/baseline_app.py). No HTTP server and no
concurrency: this is the cost of the code itself, which the load run's
"server CPU per POST" adds gunicorn's share to.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from http_load import CSRF_INPUT, ROOT, form_data
from throwaway import fresh_database
from registration_load import APP_SLUG, BASELINE_SLUG, migrate_and_seed

#: (module, attribute, label); nested stages are indented
STAGES = (
    ("flask_wtf.csrf", "CSRFProtect.protect", "CSRF check"),
    ("webinar.registration.views", "begin_reads", "connection for the reads (SQLite)"),
    ("webinar.registration.views", "event_id_and_roles_or_404", "the event's id and roles"),
    ("webinar.registration.views", "RegistrationForm", "build the form"),
    ("flask_wtf.form", "FlaskForm.validate", "validate the form"),
    ("webinar.registration.views", "restart_as_write", "start the write transaction (SQLite)"),
    ("webinar.registration.views", "register", "register (service)"),
    ("webinar.registration.services", "insert_if_new",
     "  of which: lock, places, store it, queue the mail (one statement)"),
    ("webinar.registration.services", "lock_and_count",
     "  of which: the longer way: lock, places left, earlier sign-up"),
    ("webinar.registration.services", "_store_new", "  of which: the longer way: store it, queue the mail"),
    ("sqlalchemy.orm.scoping", "scoped_session.commit", "commit"),
)


def wrap(spent: dict[str, float]) -> None:
    """Replace each stage by a wrapper that adds its CPU time to `spent`."""
    for module_name, attribute, label in STAGES:
        owner = importlib.import_module(module_name)
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, name)
        spent[label] = 0.0

        def timed(*args, _original=original, _label=label, **kwargs):
            started = time.process_time()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_label] += time.process_time() - started

        setattr(owner, name, functools.wraps(original)(timed))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=500, help="at most 5000")
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (a database of its own is made)")
    args = parser.parse_args()
    count = max(1, min(args.count, 5000))
    directory = Path(tempfile.mkdtemp(prefix="registration-breakdown-"))
    os.environ["WEBINAR_INSTANCE_DIR"] = str(directory / "instance")
    sys.path.insert(0, str(ROOT))
    url, drop = fresh_database(args.database_url, directory)
    try:
        migrate_and_seed(url, {APP_SLUG: count + 10, BASELINE_SLUG: count + 10})
        spent: dict[str, float] = {}
        baseline = measure_baseline(url, count)
        total = measure(url, count, spent)
    finally:
        drop()
        shutil.rmtree(directory, ignore_errors=True)
    print(f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; {count} POSTs, one at a time")
    print(f"baseline: CPU per POST, whole request (test client): {baseline / count * 1000:5.2f} ms")
    print(f"app:      CPU per POST, whole request (test client): {total / count * 1000:5.2f} ms")
    for label, seconds in spent.items():
        print(f"  {label:<46} {seconds / count * 1000:5.2f} ms")
    return 0


def posts(app, slug: str, count: int, before=lambda: None) -> float:
    """Open `count` forms, warm up, call `before`, then POST them: the CPU seconds of the POSTs."""
    forms = []
    for number in range(count + 10):
        client = app.test_client()
        page = client.get(f"/events/{slug}").get_data(as_text=True)
        forms.append((client, CSRF_INPUT.search(page).group(1), number))

    def post(client, token, number):
        return client.post(f"/events/{slug}", data=form_data(f"{slug}{number:05d}@example.org", token, number))

    for form in forms[:10]:  # warm-up: caches, compiled statements
        post(*form)
    before()
    started = time.process_time()
    for form in forms[10:]:
        assert post(*form).status_code == 302
    return time.process_time() - started


def measure(url: str, count: int, spent: dict[str, float]) -> float:
    """The app's POSTs, with the stages timed into `spent`."""
    from webinar import create_app
    from webinar.extensions import db

    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    total = posts(app, APP_SLUG, count, before=lambda: wrap(spent))
    with app.app_context():
        db.engine.dispose()
    return total


def measure_baseline(url: str, count: int) -> float:
    """The baseline's POSTs."""
    os.environ["DATABASE_URL"] = url
    import baseline_app

    total = posts(baseline_app.app, BASELINE_SLUG, count)
    baseline_app.engine.dispose()
    return total


if __name__ == "__main__":
    sys.exit(main())
