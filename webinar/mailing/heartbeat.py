"""Whether mail goes out: each worker process records every pass, and anyone can ask if mail is stuck.

A worker (`flask mail worker`, or `flask mail send-due` from cron) writes one
row per host and process at the end of every pass (`record_pass`). Mail is
stuck when some of it is due and no worker was seen for MAIL_WORKER_STALE_MINUTES:
the organiser's pages warn, `/healthz/mail` answers 503 and `flask mail status`
exits non-zero (`mail_health`). Rows of workers gone for a day are removed by the
next pass of any worker.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from ..database import begin_write, dialect_insert, utcnow
from ..dutch import datetime_text
from ..extensions import db
from .models import MailWorker, OutgoingMail
from .worker import due

#: a worker not seen for this long is forgotten
FORGET_AFTER = timedelta(days=1)


def record_pass(sent: int, error: str = "", now: datetime | None = None) -> None:
    """Record that this process finished a pass, what it sent and why it failed (""), and commit."""
    now = now or utcnow()
    db.session.rollback()
    begin_write()
    values = {"host": socket.gethostname()[:255], "pid": os.getpid(), "last_seen": now, "last_sent": sent,
              "last_error": error}
    statement = dialect_insert(MailWorker).values(started_at=now, total_sent=sent, **values)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["host", "pid"],
        set_={"last_seen": now, "last_sent": sent, "last_error": error,
              "total_sent": MailWorker.__table__.c.total_sent + sent},
    ))
    db.session.execute(delete(MailWorker).where(MailWorker.last_seen < now - FORGET_AFTER))
    db.session.commit()


@dataclass(frozen=True)
class MailHealth:
    """Whether mail goes out: how much is due, and when a worker was last seen."""

    #: messages due now (waiting, or claimed by a worker that is gone)
    due: int
    #: the moment the longest-waiting of them became due
    oldest_due_at: datetime | None
    #: workers seen within the stale window
    alive: int
    #: the latest moment any worker was seen (None: none in the last day)
    last_seen: datetime | None
    stale_minutes: int

    @property
    def stuck(self) -> bool:
        """Mail is due and no worker is there to send it."""
        return self.due > 0 and self.alive == 0

    @property
    def reason(self) -> str:
        """What is the matter, in Dutch ("" when nothing is)."""
        if not self.stuck:
            return ""
        seen = (f"sinds {datetime_text(self.last_seen)}" if self.last_seen is not None
                else "al minstens een dag")
        waiting = "1 e-mail wacht" if self.due == 1 else f"{self.due} e-mails wachten"
        return (f"Er is {seen} geen verzendproces (mail worker) actief geweest, en {waiting} "
                f"op verzending, de oudste sinds {datetime_text(self.oldest_due_at)}.")

    def as_json(self) -> dict:
        """For monitoring: plain fields, times in UTC ISO 8601."""
        return {
            "status": "stuck" if self.stuck else "ok",
            "due": self.due,
            "oldest_due_at": _iso(self.oldest_due_at),
            "workers_alive": self.alive,
            "last_seen": _iso(self.last_seen),
            "stale_minutes": self.stale_minutes,
            "reason": self.reason,
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def mail_health(now: datetime | None = None) -> MailHealth:
    """How much mail is due now, and whether a worker was seen recently enough to send it."""
    now = now or utcnow()
    stale_minutes = current_app.config["MAIL_WORKER_STALE_MINUTES"]
    count, oldest = db.session.execute(
        select(func.count(OutgoingMail.id), func.min(OutgoingMail.due_at)).where(due(now))
    ).one()
    alive, last_seen = db.session.execute(
        select(func.count(MailWorker.id).filter(MailWorker.last_seen >= now - timedelta(minutes=stale_minutes)),
               func.max(MailWorker.last_seen))
    ).one()
    return MailHealth(count, oldest, alive, last_seen, stale_minutes)
