"""The mail worker's steps one by one, on one thread: CPU time per message of each.

    .venv/bin/python bench/mail_steps.py [--database-url URL] [--batch-size 100] [--repeat 15]

Builds a fresh database as bench/mail_throughput.py does (one event, 2,000
confirmed registrations, their join links queued by the sweep), claims one
batch, and times each step of a worker pass on that batch, with no SMTP and
no sender thread, so that no other thread's work lands in a step's time.
Every step is run `--repeat` times, each in a transaction that is rolled back
(the claim and the marks are committed, as in the pass); the figure is the
smallest CPU time of this thread (`time.thread_time`), per message. Where
`bench/mail_throughput.py --breakdown` says how a pass's time divides, this
says what each step costs when nothing else runs.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from mail_throughput import add_event_and_registrations
from throwaway import fresh_database

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (a database of its own is made)")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="mail-steps-"))
    os.environ["WEBINAR_INSTANCE_DIR"] = str(directory / "instance")
    sys.path.insert(0, str(ROOT))

    from flask_migrate import upgrade

    from webinar import create_app
    from webinar.extensions import db

    url, drop = fresh_database(args.database_url, directory)
    try:
        app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                          "BASE_URL": "https://bijeenkomsten.example.org"})
        with app.app_context():
            logging.disable(logging.WARNING)
            upgrade()
            run_steps(app, args.batch_size, args.repeat)
            db.session.remove()
            db.engine.dispose()
    finally:
        drop()
    print(f"load average: {' '.join(f'{n:.2f}' for n in os.getloadavg())} ({os.cpu_count()} CPUs)")
    return 0


def run_steps(app, size: int, repeat: int) -> None:
    from sqlalchemy import insert, select
    from sqlalchemy.orm import Session, joinedload

    from webinar.database import begin_write
    from webinar.extensions import db
    from webinar.mailing import worker
    from webinar.mailing.kinds import Batch, render, run_sweeps
    from webinar.mailing.mime import to_bytes
    from webinar.mailing.models import MailStatus, OutgoingMail
    from webinar.mailing.sending import PassResult, mark
    from webinar.registration.models import AccessToken

    now = datetime.now(timezone.utc).replace(microsecond=0)
    add_event_and_registrations(2000, (now + timedelta(minutes=11)).replace(second=0), now - timedelta(days=1))
    db.session.rollback()
    begin_write()
    run_sweeps(now)
    db.session.commit()
    sender = app.config["MAIL_DEFAULT_SENDER"]
    ids = worker.claim_due(now, size, 300)

    def step(label: str, work, rolled_back: bool = True) -> None:
        best = None
        for _ in range(repeat):
            if rolled_back:
                db.session.rollback()
                begin_write()
            started = time.thread_time()
            work()
            spent = time.thread_time() - started
            if rolled_back:
                db.session.rollback()
            best = spent if best is None else min(best, spent)
        print(f"  {label:<58} {best / len(ids) * 1e6:7.1f} µs")

    def load():
        session = Session(bind=db.session.connection(), expire_on_commit=False, autoflush=False)
        rows = session.scalars(select(OutgoingMail).options(joinedload(OutgoingMail.registration).lazyload("*"))
                               .where(OutgoingMail.id.in_(ids)).order_by(OutgoingMail.id)).all()
        return session, rows

    print(f"CPU time per message, best of {repeat}, batch of {len(ids)} ({db.engine.dialect.name}):")
    step("claim: two SELECTs, one UPDATE, commit (claim_due)",
         lambda: worker.claim_due(now, size, 300), rolled_back=False)
    db.session.rollback()
    step("load the rows and registrations through the ORM", lambda: load()[0].close())
    step("load the outbox rows alone as Core rows",
         lambda: db.session.execute(select(OutgoingMail.__table__).where(OutgoingMail.id.in_(ids))).all())
    db.session.rollback()
    session, rows = load()
    batch = Batch()
    render(rows[0], now, batch)  # the stencil and the per-event values, made once per batch

    def render_all():
        batch.pending.clear()
        for row in rows:
            render(row, now, batch)
    step("render: check, two tokens, links, bodies, Message-ID", render_all)
    step("… the same with a new batch (the stencil made again)", lambda: [render(row, now, fresh) for fresh in
                                                                            [Batch()] for row in rows])
    emails = [render(row, now, Batch()) for row in rows]
    step("MIME: the message's bytes from the skeleton (to_bytes)",
         lambda: [to_bytes(email, sender=sender, date=now) for email in emails])
    step("the whole of _prepare (load, render, MIME, store, commit)",
         lambda: worker._prepare(ids, now, PassResult()), rolled_back=False)
    tokens = [row for rows_ in batch.pending.values() for row in rows_]
    step("store the batch's tokens: INSERT executed for all rows",
         lambda: db.session.execute(insert(AccessToken.__table__), tokens))
    step("… the same as one INSERT of many VALUES with RETURNING",
         lambda: db.session.execute(insert(AccessToken.__table__).returning(AccessToken.__table__.c.id), tokens).all())
    rendered = [{"row_id": row.id, "recipient": row.recipient, "message_id": email.message_id}
                for row, email in zip(rows, emails)]
    step("record recipients and Message-IDs (UPDATE per row, executemany)",
         lambda: db.session.execute(worker.RECORD_RENDERED, rendered))
    group = app.config["MAIL_MARK_GROUP"]
    step(f"mark sent in groups of {group}: UPDATE and commit each",
         lambda: [mark(ids[start:start + group], status=MailStatus.sending, last_error="")
                  for start in range(0, len(ids), group)], rolled_back=False)
    session.close()
    db.session.rollback()


if __name__ == "__main__":
    sys.exit(main())
