"""Reading the bounce mailbox over IMAP: each report of ours is recorded and moved; the rest stays for a person.

`flask mail bounces` runs it once; `flask mail worker` every MAIL_BOUNCE_INTERVAL_MINUTES when
MAIL_BOUNCE_IMAP_HOST is set. Messages are fetched without marking them read. A report that names a sent
message of ours (bounces.py) is recorded and committed first, then moved to MAIL_BOUNCE_DONE_FOLDER; should
the move fail, the next run records it again (nothing changes) and moves it. Anything else (an
out-of-office reply, a delay notice, a report about a message we do not know) stays where it is.
"""

from __future__ import annotations

import imaplib
import ssl
from dataclasses import dataclass

from flask import current_app

from ..database import begin_write, utcnow
from ..extensions import db
from .bounces import read_bounce, record_bounce

#: the most messages one run reads; the rest waits for the next run
RUN_LIMIT = 500
#: default port per MAIL_BOUNCE_IMAP_SECURITY
PORTS = {"ssl": 993, "starttls": 143, "none": 143}


class MailboxProblem(Exception):
    """The mailbox could not be read: the reason, in Dutch."""


@dataclass
class BounceRun:
    """What one run did: reports recorded and moved, and messages left where they were."""

    handled: int = 0
    left: int = 0


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _connect(config) -> imaplib.IMAP4:
    security = (config["MAIL_BOUNCE_IMAP_SECURITY"] or "ssl").lower()
    if security not in PORTS:
        raise MailboxProblem(f"MAIL_BOUNCE_IMAP_SECURITY moet ssl, starttls of none zijn, niet {security!r}")
    host, port = config["MAIL_BOUNCE_IMAP_HOST"], config["MAIL_BOUNCE_IMAP_PORT"] or PORTS[security]
    context = ssl.create_default_context(cafile=config["MAIL_BOUNCE_IMAP_CA_FILE"] or None)
    timeout = config["MAIL_TIMEOUT"]
    if security == "ssl":
        return imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=timeout)
    imap = imaplib.IMAP4(host, port, timeout=timeout)
    if security == "starttls":
        imap.starttls(ssl_context=context)
    return imap


def _check(answer: tuple, what: str) -> list:
    status, data = answer
    if status != "OK":
        detail = b" ".join(item for item in data if isinstance(item, bytes)).decode(errors="replace")
        raise MailboxProblem(f"{what} mislukt: {detail}")
    return data


def process_bounces() -> BounceRun:
    """Read the bounce mailbox once; raises MailboxProblem when it cannot be reached or read."""
    config = current_app.config
    run = BounceRun()
    try:
        with _connect(config) as imap:
            _check(imap.login(config["MAIL_BOUNCE_IMAP_USERNAME"], config["MAIL_BOUNCE_IMAP_PASSWORD"]), "inloggen")
            done = _quoted(config["MAIL_BOUNCE_DONE_FOLDER"])
            imap.create(done)  # "already exists" is fine
            _check(imap.select(_quoted(config["MAIL_BOUNCE_IMAP_FOLDER"])), "map openen")
            uids = _check(imap.uid("SEARCH", None, "ALL"), "zoeken")[0].split()
            for uid in uids[:RUN_LIMIT]:
                if _handle(imap, uid, done):
                    run.handled += 1
                else:
                    run.left += 1
    except (OSError, imaplib.IMAP4.error) as error:
        db.session.rollback()
        raise MailboxProblem(f"postbus voor teruggekomen mail onbereikbaar: {type(error).__name__}: {error}") from error
    return run


def _handle(imap: imaplib.IMAP4, uid: bytes, done: str) -> bool:
    """Record one message when it is a report of ours and move it; whether it was."""
    fetched = _check(imap.uid("FETCH", uid, "(BODY.PEEK[])"), "ophalen")
    raw = next((item[1] for item in fetched if isinstance(item, tuple)), None)
    bounce = read_bounce(raw) if raw else None
    if bounce is None:
        return False
    db.session.rollback()
    begin_write()
    if record_bounce(bounce, utcnow()) is None:
        db.session.rollback()
        return False
    db.session.commit()
    _move(imap, uid, done)
    return True


def _move(imap: imaplib.IMAP4, uid: bytes, done: str) -> None:
    """MOVE (RFC 6851), or copy, flag deleted and expunge on a server without it."""
    if imap.uid("MOVE", uid, done)[0] == "OK":
        return
    _check(imap.uid("COPY", uid, done), "kopiëren")
    _check(imap.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)"), "verwijderen")
    imap.expunge()
