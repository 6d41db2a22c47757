"""Helpers the tests import: moments, the app, form data, an SMTP server, worker processes.

Fixtures stay in conftest.py; nothing imports from there.
"""

from __future__ import annotations

import asyncio
import ctypes.util
import fcntl
import grp
import html
import imaplib
import io
import json
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path

import pypdfium2
import pytest
import vobject
import zxingcpp
from aiosmtpd.controller import Controller
from flask import g, has_app_context
from flask.testing import FlaskCliRunner, FlaskClient
from pypdf import PdfReader
from sqlalchemy import func, select
from werkzeug.serving import make_server

from webinar import create_app
from webinar.attendance.models import Attendance
from webinar.database import begin_write, utcnow
from webinar.dutch import AMSTERDAM
from webinar.events.services import create_event
from webinar.extensions import db
from webinar.mailing.models import MailStatus, OutgoingMail
from webinar.mailing.mime import Email, to_bytes
from webinar.mailing.sending import Connection, PassResult, Ready, send_batch
from webinar.mailing.worker import send_due
from webinar.audit import AuditEntry
from webinar.registration.models import Registration, RegistrationStatus
from webinar.registration.services import Details, register
from webinar.support.models import SupportRequest
from webinar.support.services import RequestDetails, SchoolDetails, submit_request

#: the organiser account most tests log in with
ORGANISER_EMAIL = "organisator@example.org"
ORGANISER_PASSWORD = "een lang en geheim wachtwoord"

#: "now" in most tests: a few weeks before the event
NOW = datetime(2027, 5, 1, 12, 0, tzinfo=AMSTERDAM)
STARTS = datetime(2027, 5, 25, 16, 0, tzinfo=AMSTERDAM)
ENDS = datetime(2027, 5, 25, 17, 15, tzinfo=AMSTERDAM)

#: the organiser's event form, filled in for a new event
EVENT_FORM = {
    "title": "Najaarsbijeenkomst", "slug": "najaar", "starts_at": "2027-11-02T16:00",
    "ends_at": "2027-11-02T17:15", "capacity": "40", "roles": "Schoolleider\nIntern begeleider",
    "reminder_days_before": "1", "reminder_local_time": "10:00", "join_link_minutes_before": "30",
    "followup_minutes_after": "60", "meeting_url": "https://meet.example.org/najaar",
}

#: the project's folder (package.json and node_modules/ live here)
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on loopback that nothing listens on (yet)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_external(missing: str | None, env: str) -> None:
    """Skip the test with one line when an outside program is missing, or fail when `env`=1 asks for it."""
    if missing is None:
        return
    if os.environ.get(env) == "1":
        pytest.fail(f"{env}=1 but {missing}")
    pytest.skip(missing)


def require_pango() -> None:
    """Skip with one line when Pango, which WeasyPrint draws certificates with, is missing (fail with REQUIRE_PANGO=1)."""
    missing = None if ctypes.util.find_library("pango-1.0") else "no Pango (install Debian's 'libpango-1.0-0')"
    require_external(missing, "REQUIRE_PANGO")


def pdf_reader(pdf: bytes):
    """pypdf's reader of a PDF."""
    return PdfReader(io.BytesIO(pdf))


def pdf_text(pdf: bytes) -> str:
    """The text a reader can select and copy, page by page, with runs of white space as one space."""
    return " ".join(" ".join((page.extract_text() or "").split()) for page in pdf_reader(pdf).pages)


def pdf_fonts(pdf: bytes) -> dict[str, bool]:
    """Each font on the PDF's pages by its name, and whether the font file is embedded."""
    fonts = {}
    for page in pdf_reader(pdf).pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            described = descendants[0].get_object() if descendants else font
            descriptor = described.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            fonts[str(font["/BaseFont"])] = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
    return fonts


def qr_codes_on_page(pdf: bytes, page: int = 0) -> list[str]:
    """What a QR reader (zxing-cpp) finds on the page rendered at 150 dpi (PDFium)."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[page].render(scale=150 / 72).to_pil()
    finally:
        document.close()
    return [found.text for found in zxingcpp.read_barcodes(image)]


def node_module(name: str) -> Path:
    """The folder of an npm package from package.json, or a skip (a failure with REQUIRE_NODE=1)."""
    folder = ROOT / "node_modules" / name
    if shutil.which("node") is None:
        require_external("no node (install Debian's 'nodejs')", "REQUIRE_NODE")
    if not folder.is_dir():
        require_external(f"npm package {name} is not installed (run 'npm ci')", "REQUIRE_NODE")
    return folder


def read_with_icaljs(ics: bytes) -> dict:
    """What Mozilla's ical.js (Thunderbird's parser) reads in a calendar file: tests/js/read_calendar.mjs."""
    node_module("ical.js")
    script = ROOT / "tests" / "js" / "read_calendar.mjs"
    done = subprocess.run(["node", str(script)], input=ics, capture_output=True, check=True, timeout=60)
    return json.loads(done.stdout)


def read_with_mailparser(raw: bytes) -> dict:
    """What Nodemailer's mailparser reads in an e-mail (tests/js/read_mail.mjs): a second parser beside Python's."""
    node_module("mailparser")
    script = ROOT / "tests" / "js" / "read_mail.mjs"
    done = subprocess.run(["node", str(script)], input=raw, capture_output=True, check=True, timeout=60)
    return json.loads(done.stdout)


def read_with_exceljs(xlsx: bytes) -> list[dict]:
    """What ExcelJS (tests/js/read_workbook.mjs) reads in a workbook: per sheet its name and [type, value] cells."""
    node_module("exceljs")
    script = ROOT / "tests" / "js" / "read_workbook.mjs"
    done = subprocess.run(["node", str(script)], input=xlsx, capture_output=True, check=True, timeout=60)
    return json.loads(done.stdout)


def read_with_vobject(ics: bytes) -> dict:
    """What Python's vobject reads in a calendar file, in the shape of read_with_icaljs."""
    calendar = vobject.readOne(ics.decode("utf-8"))
    events = []
    for entry in calendar.contents.get("vevent", []):
        value = _vobject_values(entry)
        organizer = entry.contents.get("organizer", [None])[0]
        events.append({
            "uid": value("uid"),
            "sequence": int(value("sequence")) if value("sequence") is not None else None,
            "status": value("status"),
            "summary": value("summary"),
            "start": _utc_text(value("dtstart")),
            "end": _utc_text(value("dtend")),
            "dtstamp": _utc_text(value("dtstamp")),
            "url": value("url"),
            "organizer": organizer and {
                "address": organizer.value, "cn": organizer.params.get("CN", [None])[0],
            },
            "attendee": "attendee" in entry.contents,
        })
    method = calendar.contents.get("method")
    return {"method": method[0].value if method else None, "events": events}


def _vobject_values(component):
    """A reader of a component's first value of a property, or None."""
    return lambda name: component.contents[name][0].value if name in component.contents else None


def _utc_text(moment: datetime | None) -> str | None:
    """An aware moment as ical.js's JSON writes it: '2027-05-25T14:00:00Z'."""
    return None if moment is None else moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

# --- the app, its requests and forms ---------------------------------------


def make_app(database_uri: str, **overrides):
    settings = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "MAIL_SUPPRESS_SEND": False,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": 1,  # nothing listens: tests that send mail use the smtp fixture
    }
    settings.update(overrides)
    return create_app(settings)


@dataclass
class SMTPServer:
    """A real SMTP server on loopback that keeps what it receives."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    #: each message as it arrived, before parsing
    raw: list[bytes] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    #: the MAIL FROM parameters of each message, e.g. ["SMTPUTF8", "SIZE=1234"]
    mail_options: list[list[str]] = field(default_factory=list)
    #: SMTP replies to give instead of accepting, one per DATA (e.g. "421 busy")
    replies: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.replies:
                return self.replies.pop(0)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.mail_options.append([option.upper() for option in envelope.mail_options])
            self.raw.append(envelope.original_content)
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"].addresses[0].addr_spec.lower() == address.lower()]


class Client(FlaskClient):
    """A test client whose requests start a fresh transaction, as real requests do.

    Requests share the test's app context and so its session; ending the test's
    open transaction first lets the request begin its own (BEGIN IMMEDIATE on
    SQLite for a POST).
    """

    def open(self, *args, **kwargs):
        db.session.rollback()
        # Nor the organiser the last request loaded (Flask-Login keeps it in flask.g, which the requests share).
        if has_app_context():
            g.pop("_login_user", None)
        return super().open(*args, **kwargs)


@contextmanager
def app_in_context(database_uri: str, **overrides):
    """An app with its context pushed; every table is emptied afterwards."""
    app = make_app(database_uri, **overrides)
    app.test_client_class = Client
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            try:
                with db.engine.begin() as conn:
                    for table in reversed(db.metadata.sorted_tables):
                        conn.execute(table.delete())
            finally:
                # Also when the cleanup fails: a leaked connection would turn
                # into a ResourceWarning, and so an error, at exit.
                db.engine.dispose()


class CliRunner(FlaskCliRunner):
    """Like Client: a command starts its own transaction, as it would in its own process."""

    def invoke(self, *args, **kwargs):
        db.session.rollback()
        return super().invoke(*args, **kwargs)


def form_data(**overrides) -> dict:
    """A valid registration form, with fields replaced by `overrides`."""
    data = {
        "first_name": "Anna",
        "tussenvoegsel": "van den",
        "last_name": "Berg",
        "email": "anna.vandenberg@example.org",
        "organisation": "OBS De Linde",
        "organisation_type": "School",
        "role": "Schoolleider",
        "role_other": "",
        "question": "",
        "privacy": "y",
        "website": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post_registration(client, event, **overrides):
    return client.post(f"/events/{event.slug}", data=form_data(**overrides))


def deliver() -> list:
    """Run one worker pass in the current app."""
    return send_due()


@contextmanager
def serving(app):
    """Serve `app` over HTTP on loopback from a thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- a recording SMTP server ------------------------------------------------


@dataclass(frozen=True)
class Received:
    recipient: str
    message_id: str
    subject: str


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps recipient, Message-ID and subject of each message.

    `delay` makes every DATA take that long before it is accepted, so that a
    batch takes a while and a kill lands in the middle of one. With
    `pipelining` the EHLO answer offers PIPELINING (RFC 2920), as Postfix does:
    aiosmtpd reads commands from a buffered stream, so it takes them in groups.
    """

    delay: float = 0.0
    pipelining: bool = False
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        return self.accept(envelope)

    def accept(self, envelope) -> str:
        headers = BytesHeaderParser(policy=policy.default).parsebytes(envelope.content)
        with self.lock:
            for recipient in envelope.rcpt_tos:
                self.received.append(
                    Received(recipient.lower(), str(headers["Message-ID"]), str(headers["Subject"]).strip())
                )
        return "250 OK"

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def count(self) -> int:
        with self.lock:
            return len(self.received)


@contextmanager
def serving_mail_for(app, server: SMTPServer):
    """Serve `server` on loopback at its port, and `app` sending to it."""
    with smtp_server(server, port=server.port):
        app.config["MAIL_PORT"] = server.port
        app.extensions["mail"].port = server.port
        yield server


@contextmanager
def smtp_server(handler, port: int | None = None):
    """Serve `handler` on loopback (at `port`, or a free one); yields the port."""
    port = port or free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


#: a text part whose lines start with periods (ASCII: the lines go as they are)
PERIOD_LINES = "Beste Anna,\n.\n.punt vooraan\n..twee punten\nTot dan.\n"


def send_period_lines(sender: str) -> tuple[list[Ready], PassResult]:
    """Three messages with `PERIOD_LINES`, sent by `send_batch` over a connection of its own as the worker
    hands them over (the last one without its final line break)."""
    data = to_bytes(Email("anna@example.org", "Punten", PERIOD_LINES, "<p>.</p>", "<1@example.org>", None),
                    sender=sender, date=NOW)
    assert b"\r\n.punt vooraan\r\n" in data
    ready = [Ready(row_id, 1, "anna@example.org", False, content)
             for row_id, content in enumerate([data, data, data.rstrip(b"\r\n")], start=1)]
    result = PassResult()
    with Connection(result) as connection:
        send_batch(ready, NOW, result, connection)
    return ready, result


# --- a real IMAP server (Debian's dovecot-imapd) ------------------------------

DOVECOT = shutil.which("dovecot", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
#: the bounce mailbox's login on the test server
BOUNCE_LOGIN = ("bounces@example.org", "een geheim voor de test")
#: the DSN samples in tests/data/bounces, with these stand-ins for what depends on the message sent
BOUNCE_SAMPLES = ROOT / "tests" / "data" / "bounces"


def require_dovecot() -> None:
    """Skip with one line when dovecot is missing (fail with REQUIRE_DOVECOT=1)."""
    require_external(None if DOVECOT else "no dovecot (install Debian's 'dovecot-imapd')", "REQUIRE_DOVECOT")


def bounce_sample(name: str, *, bounce_address: str, recipient: str, message_id: str) -> bytes:
    """A DSN sample from tests/data/bounces, about this message, with CRLF line ends as IMAP wants."""
    text = (BOUNCE_SAMPLES / f"{name}.eml").read_text(encoding="utf-8")
    for stand_in, value in (("%%BOUNCE_ADDRESS%%", bounce_address), ("%%RECIPIENT%%", recipient),
                            ("%%ORIGINAL_MESSAGE_ID%%", message_id)):
        text = text.replace(stand_in, value)
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


@dataclass
class LoopbackDaemon:
    """A server program of the system's, run in the foreground on a free loopback port, in a folder of its own."""

    folder: Path
    port: int = 0
    process: subprocess.Popen | None = None

    def wait_for_port(self, name: str, log: Path) -> None:
        """Return once the port takes connections; fail with the log when the program ends or 20 s pass."""
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{name} did not start: {log.read_text(errors='replace') if log.exists() else ''}")
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@dataclass
class Dovecot(LoopbackDaemon):
    """Dovecot on a free loopback port, in a folder of its own: STARTTLS with its own certificate, one
    passwd-file user with a maildir."""

    @property
    def ca_file(self) -> Path:
        return self.folder / "cert.pem"

    def settings(self) -> dict:
        """The app's settings to read this server's mailbox."""
        return {"MAIL_BOUNCE_IMAP_HOST": "127.0.0.1", "MAIL_BOUNCE_IMAP_PORT": self.port,
                "MAIL_BOUNCE_IMAP_SECURITY": "starttls", "MAIL_BOUNCE_IMAP_CA_FILE": str(self.ca_file),
                "MAIL_BOUNCE_IMAP_USERNAME": BOUNCE_LOGIN[0], "MAIL_BOUNCE_IMAP_PASSWORD": BOUNCE_LOGIN[1]}

    def start(self) -> None:
        self.port = free_port()
        for name in ("run", "state", "home"):
            (self.folder / name).mkdir(parents=True, exist_ok=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-keyout", str(self.folder / "key.pem"), "-out", str(self.ca_file), "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
        (self.folder / "passwd").write_text(f"{BOUNCE_LOGIN[0]}:{{PLAIN}}{BOUNCE_LOGIN[1]}\n")
        (self.folder / "dovecot.conf").write_text(self._config())
        if os.geteuid() == 0:  # its processes drop root: they must read and write the folder as dovecot
            subprocess.run(["chown", "-R", "dovecot:dovecot", str(self.folder)], check=True)
            self.folder.chmod(0o755)
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(self.folder / "dovecot.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_for_port("dovecot", self.folder / "dovecot.log")

    def _config(self) -> str:
        if os.geteuid() == 0:  # dovecot's own users, as Debian's package creates them
            internal, group, login = "dovecot", "dovecot", "dovenull"
            uid, gid = pwd.getpwnam("dovecot").pw_uid, grp.getgrnam("dovecot").gr_gid
        else:
            internal = login = pwd.getpwuid(os.getuid()).pw_name
            group = grp.getgrgid(os.getgid()).gr_name
            uid, gid = os.getuid(), os.getgid()
        folder = self.folder
        return f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{folder}/cert.pem
ssl_key = <{folder}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
first_valid_uid = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={folder}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""

    @contextmanager
    def session(self):
        """A logged-in IMAP connection, as a mail program would open it."""
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.starttls(ssl_context=ssl.create_default_context(cafile=str(self.ca_file)))
        imap.login(*BOUNCE_LOGIN)
        try:
            yield imap
        finally:
            imap.logout()

    def deliver(self, *messages: bytes) -> None:
        """Put messages in the inbox (IMAP APPEND), as the mail server delivers them."""
        with self.session() as imap:
            for raw in messages:
                assert imap.append("INBOX", None, None, raw)[0] == "OK"

    def subjects(self, folder: str) -> list[str]:
        """The subjects of the messages in a folder ([] when it does not exist), in order."""
        with self.session() as imap:
            if imap.select(f'"{folder}"', readonly=True)[0] != "OK":
                return []
            found = []
            for uid in imap.uid("SEARCH", None, "ALL")[1][0].split():
                data = imap.uid("FETCH", uid, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")[1]
                header = BytesHeaderParser(policy=policy.default).parsebytes(data[0][1])
                found.append(str(header["Subject"]))
            return found


# --- a real mail server (Debian's opensmtpd) ----------------------------------

SMTPD = shutil.which("smtpd", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
#: the recipient the test server refuses at RCPT TO
REFUSED = "niemand@example.org"


def require_opensmtpd() -> None:
    """Skip with one line when OpenSMTPD is missing or cannot run (fail with REQUIRE_OPENSMTPD=1)."""
    missing = None
    if not SMTPD:
        missing = "no OpenSMTPD (install Debian's 'opensmtpd')"
    elif os.geteuid() != 0:
        missing = "OpenSMTPD starts as root only"
    require_external(missing, "REQUIRE_OPENSMTPD")


@dataclass
class OpenSMTPD(LoopbackDaemon):
    """OpenSMTPD in the foreground on a free loopback port: it takes mail for example.org and an IDN
    domain into a maildir in `folder` (delivered as `nobody`, as it delivers to no root), and refuses
    `REFUSED` at RCPT TO. Its queue and control socket are the system's (/var/spool/smtpd,
    /run/smtpd.sock): one at a time on a machine, which a lock file sees to."""

    lock: io.TextIOWrapper | None = None

    @property
    def maildir(self) -> Path:
        return self.folder / "Maildir"

    def start(self) -> None:
        self.lock = open("/tmp/webinar-opensmtpd.lock", "a")  # held until stop()
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        with socket.socket(socket.AF_UNIX) as control:
            running = control.connect_ex("/run/smtpd.sock") == 0
        require_external("an smtpd runs already (the system's? stop it)" if running else None, "REQUIRE_OPENSMTPD")
        self.port = free_port()
        (self.folder / "refused").write_text(f"{REFUSED}\n")
        config = self.folder / "smtpd.conf"
        config.write_text(f"""
table refused file:{self.folder}/refused
table everyone {{ "@" = "nobody" }}
listen on 127.0.0.1 port {self.port} hostname mta.test
action "keep" maildir "{self.maildir}" virtual <everyone>
match from any for domain {{ "example.org", "xn--basisschool-n-mhba.nl" }} rcpt-to <refused> reject
match from any for domain {{ "example.org", "xn--basisschool-n-mhba.nl" }} action "keep"
""")
        checked = subprocess.run([SMTPD, "-n", "-f", str(config)], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
        self.maildir.mkdir()
        shutil.chown(self.maildir, "nobody")
        self.folder.chmod(0o755)
        with (self.folder / "smtpd.log").open("w") as log:
            self.process = subprocess.Popen([SMTPD, "-d", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self.wait_for_port("smtpd", self.folder / "smtpd.log")

    def log(self) -> str:
        return (self.folder / "smtpd.log").read_text(errors="replace")

    def stop(self) -> None:
        """End smtpd and the processes it forked, and wait until they are gone: until then its control
        socket is taken, and the next smtpd on the machine would not start."""
        try:
            if self.process is not None:
                self._end_process_group()
        finally:
            if self.lock is not None:
                self.lock.close()  # and with it the lock

    def _end_process_group(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        self.process.wait(timeout=20)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        pytest.fail(f"smtpd's processes did not end: {self.log()}")

    def delivered(self, count: int, timeout: float = 30) -> list[bytes]:
        """The messages in the maildir, once there are `count` (it delivers after accepting)."""
        new = self.maildir / "new"
        deadline = time.monotonic() + timeout
        while True:
            files = sorted(new.iterdir()) if new.is_dir() else []
            if len(files) >= count or time.monotonic() > deadline:
                assert len(files) == count, self.log()
                return [path.read_bytes() for path in files]
            time.sleep(0.05)


# --- worker processes ---------------------------------------------------------


class Workers:
    """Start `flask mail ...` subprocesses; whatever is still running at the end is killed."""

    def __init__(self, directory: Path, database_url: str, mail_port: int, **settings):
        self.directory = directory
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MAIL_", "FLASK_"))}
        env.pop("TEST_DATABASE_URL", None)
        env.update(
            WEBINAR_CONFIG="development",
            SECRET_KEY="x",
            DATABASE_URL=database_url,
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=str(mail_port),
            MAIL_TIMEOUT="10",
            BASE_URL="http://webinar.test",
            WEBINAR_INSTANCE_DIR=str(directory / "instance"),
            PYTHONUNBUFFERED="1",
        )
        env.update({name: str(value) for name, value in settings.items()})
        self.env = env
        self.processes: list[tuple[subprocess.Popen, Path]] = []

    def start(self, *args: str) -> subprocess.Popen:
        log = self.directory / f"worker-{len(self.processes) + 1}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "mail", *args],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.processes.append((process, log))
        return process

    def output(self, process: subprocess.Popen) -> str:
        for candidate, log in self.processes:
            if candidate is process:
                return log.read_text(errors="replace")
        raise ValueError(process)

    def outputs(self) -> str:
        return "\n".join(f"--- worker {p.pid}:\n{self.output(p)}" for p, _ in self.processes)

    def stop(self, process: subprocess.Popen, timeout: float = 15) -> int:
        """SIGTERM: the worker finishes its pass and exits."""
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"worker {process.pid} did not stop on SIGTERM\n{self.outputs()}")

    def close(self) -> None:
        for process, _ in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


def wait_for(condition, what: str, *, timeout: float, group: Workers | None = None, alive=()):
    """Poll `condition` until it is true; fail after `timeout` seconds or when a worker dies."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        for process in alive:
            if process.poll() is not None:
                pytest.fail(f"worker {process.pid} exited ({process.returncode}) while waiting for {what}\n"
                            f"{group.outputs() if group else ''}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}\n{group.outputs() if group else ''}")
        time.sleep(0.01)


# --- the database, on the real clock -----------------------------------------


def queue_confirmations(count: int) -> list[str]:
    """An event weeks ahead with `count` confirmed registrations; their confirmations are due now."""
    db.session.rollback()
    begin_write()  # on SQLite, take the write lock first: workers may be polling
    starts = (utcnow() + timedelta(days=30)).replace(second=0, microsecond=0)
    event = create_event(
        slug="veel-aanmeldingen",
        title="Bijeenkomst met veel aanmeldingen",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        meeting_url="https://meet.example.org/geheim-123",
        capacity=None,
    )
    addresses = [f"deelnemer{number:04d}@example.org" for number in range(count)]
    for address in addresses:
        register(event, details(address))
    db.session.commit()
    assert statuses() == {MailStatus.pending: count}
    return addresses


def details(address: str) -> Details:
    return Details(
        first_name="Deelnemer",
        tussenvoegsel="",
        last_name=address.split("@")[0],
        email=address,
        organisation="OBS De Linde",
        role="Schoolleider",
    )


def statuses() -> dict[MailStatus, int]:
    db.session.rollback()
    rows = db.session.execute(select(OutgoingMail.status, func.count()).group_by(OutgoingMail.status))
    return dict(rows.all())


def outbox() -> list[OutgoingMail]:
    db.session.rollback()
    return list(db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)))


def all_sent(count: int):
    return lambda: statuses().get(MailStatus.sent, 0) == count

def login(client, email: str | None = None, password: str | None = None, **kwargs):
    """Post the organiser login form, by default with the `organiser` fixture's account."""
    data = {"email": email or ORGANISER_EMAIL, "password": password or ORGANISER_PASSWORD}
    return client.post("/organiser/login", data=data, **kwargs)


def log_in_in_browser(page, site: str) -> None:
    """Fill in and send the organiser login form in a Playwright page, as the `organiser` fixture's account."""
    page.goto(f"{site}/organiser/login")
    page.get_by_label("E-mailadres").fill(ORGANISER_EMAIL)
    page.get_by_label("Wachtwoord").fill(ORGANISER_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()


def median_seconds(attempts: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """The median wall time of each attempt over `rounds`, taken in turns.

    Each round runs every attempt once, starting with another one each time,
    so a busy machine slows all of them alike and the medians stay comparable.
    """
    names = list(attempts)
    times: dict[str, list[float]] = {name: [] for name in names}
    for turn in range(rounds):
        for name in names[turn % len(names):] + names[:turn % len(names)]:
            started = time.perf_counter()  # time-machine leaves the performance counter alone
            attempts[name]()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}

# Large imports: files of many rows, as organisers upload them


def registrant_csv(count: int, *, start: int = 0, broken: int | None = None) -> bytes:
    """A registrant list of `count` rows (Dutch Excel: semicolons); row number `broken` gets an invalid address."""
    lines = ["voornaam;achternaam;e-mailadres;organisatie;rol"]
    for n in range(start, start + count):
        address = "lid@" if n == broken else f"lid{n:05d}@example.org"
        lines.append(f"Lid;Nummer {n:05d};{address};OBS De Linde;Schoolleider")
    return ("\n".join(lines) + "\n").encode()


def add_confirmed(event_id: int, count: int, when) -> list[str]:
    """`count` confirmed registrations stored at once (no e-mails); their addresses."""
    from sqlalchemy import insert

    from webinar.extensions import db
    from webinar.registration.models import Registration, RegistrationStatus

    addresses = [f"deelnemer{n:05d}@example.org" for n in range(count)]
    db.session.execute(insert(Registration), [
        {"event_id": event_id, "status": RegistrationStatus.confirmed, "first_name": "Deelnemer",
         "last_name": f"Nummer {n:05d}", "email": address, "email_normalized": address,
         "organisation": "OBS De Linde", "role": "Schoolleider", "privacy_accepted_at": when,
         "registered_at": when, "created_at": when, "updated_at": when}
        for n, address in enumerate(addresses)])
    db.session.commit()
    return addresses


def teams_participants(addresses: list[str]) -> bytes:
    """Teams' participants table (UTF-16, tabs): each joined at 15.58 on 25 May 2027 for n % 60 + 5 minutes."""
    lines = ["2. Participants", "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\tParticipant ID (UPN)\tRole"]
    lines += [f"Deelnemer {n}\t5/25/27, 3:58:00 PM\t5/25/27, 5:10:00 PM\t{n % 60 + 5}m 0s\t{a}\t{a}\tAttendee"
              for n, a in enumerate(addresses)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-16")


def zoom_participants(addresses: list[str]) -> bytes:
    """Zoom's participant export (UTF-8, commas), with the same times and minutes as teams_participants."""
    lines = ["Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest"]
    lines += [f"Deelnemer {n},{a},05/25/2027 03:58:00 PM,05/25/2027 05:10:00 PM,{n % 60 + 5},Yes"
              for n, a in enumerate(addresses)]
    return ("\r\n".join(lines) + "\r\n").encode()


# --- support requests: the form, the services ------------------------------


#: the public support request form
SUPPORT_URL = "/ondersteuning"
REQUESTER = "jan.jansen@example.org"
NBSP = "\u00a0"


def school_fields(index: int, **overrides) -> dict:
    """One school row of the form, as schools-<index>-<name> fields."""
    values = {"name": f"OBS De Linde {index + 1}", "brin": f"1{index}AB", "sector": "po",
              "reason": "onvoldoende", "judgement_date": "2027-01-15", "risk_description": "",
              "half_days": "8"}
    values.update(overrides)
    return {f"schools-{index}-{name}": value for name, value in values.items()}


def request_data(schools: list[dict] | None = None, **overrides) -> dict:
    """A valid request for one school; `schools` replaces the school rows."""
    data = {"requester_name": "Jan Jansen", "requester_position": "Directeur", "requester_email": REQUESTER,
            "requester_phone": "030 123 45 67", "kind": "school", "board_name": "",
            "help_types": ["schoolscan", "stappenplan"], "help_text": "Onze resultaten lopen terug.",
            "privacy": "y", "website": "", "key": "0123456789abcdef0123456789abcdef", "actie": "versturen"}
    for row in schools if schools is not None else [school_fields(0)]:
        data.update(row)
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def stored() -> list[SupportRequest]:
    db.session.rollback()
    return list(db.session.scalars(select(SupportRequest).order_by(SupportRequest.id)))


def text_body(message) -> str:
    return message.get_body(("plain",)).get_content()


def support_details(board: str = "", reasons=("onvoldoende",), half_days=(8,), sectors=None, **values) -> RequestDetails:
    """A request's details for the services, one school per reason."""
    schools = [
        SchoolDetails(name=f"School {n + 1}", brin=f"1{n}AB", sector=(sectors or ["po"] * 9)[n], reason=reason,
                      judgement_date=date(2027, 1, 15) if reason in ("onvoldoende", "zeer_zwak") else None,
                      risk_description="Dalende resultaten" if reason == "risico" else "", half_days=days)
        for n, (reason, days) in enumerate(zip(reasons, half_days))
    ]
    fields = dict(requester_name="Jan Jansen", requester_position="Directeur", requester_email=REQUESTER,
                  requester_phone="030 123 45 67", board_name=board, help_types=["schoolscan"], help_text="",
                  schools=schools)
    fields.update(values)
    return RequestDetails(**fields)


def make_request(key: str = "a" * 32, **kwargs) -> SupportRequest:
    request = submit_request(support_details(**kwargs), key, NOW)
    db.session.commit()
    return request


# --- attendance reports as Teams and Zoom write them, and the attendance page -----


#: registrants whose names appear in the reports below
ANNA = "anna.vandenberg@example.org"
BRAM = "bram.smit@example.org"


def amsterdam_at(hour: int, minute: int, second: int = 0, day: int = 25) -> datetime:
    """A moment in May 2027, Amsterdam time, as the aware UTC datetime the app stores."""
    return datetime(2027, 5, day, hour, minute, second, tzinfo=AMSTERDAM).astimezone(timezone.utc)


def report_table(rows: list[list[str]], delimiter: str = "\t") -> str:
    """Lines of cells; cells with the delimiter or a quote are quoted, as Excel does."""
    def cell(value: str) -> str:
        if delimiter in value or '"' in value:
            return '"' + value.replace('"', '""') + '"'
        return value
    return "\r\n".join(delimiter.join(cell(value) for value in row) for row in rows) + "\r\n"


TEAMS_SUMMARY = [
    ["1. Summary"],
    ["Meeting title", "Samen onderwijs versnellen"],
    ["Attended participants", "3"],
    ["Start time", "5/25/27, 3:55:10 PM"],
    ["End time", "5/25/27, 5:20:01 PM"],
    ["Meeting duration", "1h 24m 51s"],
    ["Average attendance time", "58m 3s"],
    [],
]


TEAMS_PARTICIPANTS = [
    ["2. Participants"],
    ["Name", "First Join", "Last Leave", "In-Meeting Duration", "Email", "Participant ID (UPN)", "Role"],
    ["Mirjam de Vries", "5/25/27, 3:55:10 PM", "5/25/27, 5:20:01 PM", "1h 24m 51s",
     "bijeenkomsten@example.org", "bijeenkomsten@example.org", "Organizer"],
    ["Anna van den Berg", "5/25/27, 3:58:12 PM", "5/25/27, 5:03:24 PM", "1h 5m 12s",
     "Anna.vandenBerg@example.org", "Anna.vandenBerg@example.org", "Attendee"],
    ["Piet Jansen (External)", "5/25/27, 4:10:00\u202fPM", "5/25/27, 4:40:29 PM", "30m 29s",
     "", "piet.jansen@example.org", "Attendee"],
    [],
    ["3. In-Meeting Activities"],
    ["Name", "Join Time", "Leave Time", "Duration", "Email", "Role"],
    ["Anna van den Berg", "5/25/27, 3:58:12 PM", "5/25/27, 4:30:00 PM", "31m 48s", "Anna.vandenBerg@example.org", "Attendee"],
    ["Anna van den Berg", "5/25/27, 4:31:00 PM", "5/25/27, 5:03:24 PM", "32m 24s", "Anna.vandenBerg@example.org", "Attendee"],
]


def teams_report(delimiter: str = "\t", encoding: str = "utf-16") -> bytes:
    """Teams' attendance report: UTF-16 LE with a BOM and tabs, as Teams writes it."""
    return report_table(TEAMS_SUMMARY + TEAMS_PARTICIPANTS, delimiter).encode(encoding)


ZOOM_REPORT = report_table([
    ["Meeting ID", "Topic", "Start Time", "End Time", "User Email", "Duration (Minutes)", "Participants"],
    ["851 2345 6789", "Samen onderwijs versnellen", "05/25/2027 03:55:00 PM", "05/25/2027 05:20:00 PM",
     "bijeenkomsten@example.org", "85", "4"],
    [],
    ["Name (Original Name)", "User Email", "Join Time", "Leave Time", "Duration (Minutes)", "Guest"],
    ["Anna (Anna van den Berg)", "anna.vandenberg@example.org", "05/25/2027 03:58:12 PM", "05/25/2027 04:30:40 PM", "33", "Yes"],
    ["Bram Smit", "bram.smit@example.org", "05/25/2027 04:02:00 PM", "05/25/2027 05:15:00 PM", "73", "Yes"],
    ["Anna (Anna van den Berg)", "ANNA.vandenberg@example.org", "05/25/2027 04:35:02 PM", "05/25/2027 05:15:00 PM", "40", "Yes"],
    ["Jansen, Piet", "piet@andere-school.example", "05/25/2027 04:10:00 PM", "05/25/2027 04:40:00 PM", "30", "Yes"],
    ["iPhone van Kees", "", "05/25/2027 04:00:00 PM", "05/25/2027 04:20:00 PM", "20", "Yes"],
], ",").encode("utf-8")


def register_attendee(client, event, email, status=RegistrationStatus.confirmed, **names) -> Registration:
    post_registration(client, event, email=email, **names)
    db.session.rollback()
    registration = db.session.scalar(select(Registration).where(Registration.email_normalized == email.lower()))
    if registration.status != status:
        registration.status = status
        db.session.commit()
    return registration


def upload_report(client, event, data: bytes, filename: str = "rapport.csv"):
    return client.post(
        f"/organiser/events/{event.slug}/aanwezigheid/rapport",
        data={"report": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


#: realistic Teams and Zoom reports of the 25 May meeting, one per format (see tests/data/)
REPORT_DIR = Path(__file__).parent / "data"
REPORT_FILES = sorted(path.name for path in REPORT_DIR.glob("*.csv"))
#: registered with another address than the one in the reports ("J. de Wit", j.dewit@example.org)
JOSE = "jose.dewit@example.org"


def report_file(name: str) -> bytes:
    return (REPORT_DIR / name).read_bytes()


def register_report_people(client, event) -> tuple[Registration, Registration, Registration]:
    """Anna and Bram (in every report by their address) and José de Wit (in them as "J. de Wit")."""
    return (register_attendee(client, event, ANNA),
            register_attendee(client, event, BRAM, first_name="Bram", tussenvoegsel="", last_name="Smit",
                              organisation="Stichting Lindeboom"),
            register_attendee(client, event, JOSE, first_name="José", tussenvoegsel="de", last_name="Wit",
                              organisation="Kindcentrum De Regenboog"))


def attendance_of(registration: Registration) -> Attendance | None:
    db.session.rollback()
    return db.session.scalar(select(Attendance).where(Attendance.registration_id == registration.id))


def attendance_counts() -> tuple[int, int]:
    db.session.rollback()
    return db.session.scalar(select(func.count(Attendance.id))), db.session.scalar(select(func.count(AuditEntry.id)))


def mark_attendance(client, event, registration, value):
    return client.post(f"/organiser/events/{event.slug}/aanwezigheid/{registration.id}", data={"aanwezig": value})


# --- registrations in the organiser area -------------------------------------


#: the organiser's registrations of the `event` fixture's meeting
REGISTRATIONS_URL = "/organiser/events/samen-onderwijs-versnellen/aanmeldingen"
CONFIRMATION_SUBJECT = "Aanmelding bevestigd: Samen onderwijs versnellen"


def person(event, first, last, tussenvoegsel="", *, email=None, organisation="OBS De Linde",
           role="Schoolleider", role_other="") -> Registration:
    """Register someone through the real service and commit."""
    details = Details(first_name=first, tussenvoegsel=tussenvoegsel, last_name=last,
                      email=email or f"{first}.{last}@example.org".lower().replace(" ", ""),
                      organisation=organisation, role=role, role_other=role_other)
    registration = register(event, details).registration
    db.session.commit()
    return registration


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def flash_after(response, client) -> str:
    """Follow the redirect and return the page's flashed messages."""
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    return " ".join(html.unescape(m) for m in re.findall(r'<div class="notice[^"]*" role="status">(.*?)</div>', page))


def reload_registration(registration: Registration) -> Registration:
    db.session.rollback()
    return db.session.get(Registration, registration.id)


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def kinds_for(registration: Registration) -> list[str]:
    return list(db.session.scalars(
        select(OutgoingMail.kind).where(OutgoingMail.registration_id == registration.id).order_by(OutgoingMail.id)))


# --- an OpenID Connect provider on loopback -------------------------------------


@contextmanager
def openid_provider(client_id: str, client_secret: str, redirect_uri: str):
    """The `oidc-provider` npm package serving tests/js/oidc_provider.mjs on a free port; yields its issuer URL."""
    node_module("oidc-provider")
    port = free_port()
    script = ROOT / "tests" / "js" / "oidc_provider.mjs"
    process = subprocess.Popen(["node", str(script), str(port), client_id, client_secret, redirect_uri],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = process.stdout.readline()
        assert line.strip() == "ready", f"the OpenID provider did not start: {line!r}"
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def api_token(organiser, scopes=("read", "write"), days: int = 30) -> dict:
    """A personal API token of `organiser`, as the Authorization header that carries it."""
    from webinar.api.services import create_token

    made = create_token(organiser, "CRM-koppeling", list(scopes), days)
    db.session.commit()
    return {"Authorization": f"Bearer {made.secret}"}


# --- a webhook receiver on loopback ------------------------------------------------


class WebhookReceiver:
    """A real HTTP server on loopback that records each POST and answers as told (`answers`, then 204).

    An answer is a status code, or "hang": keep the request open until the receiver closes.
    """

    def __init__(self, answers=()):
        import http.server

        self.answers = list(answers)
        self.received: list[tuple[dict, bytes]] = []
        #: the path (and query) of each POST, as it arrived
        self.paths: list[str] = []
        self.released = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                receiver.paths.append(self.path)
                answer = receiver.answers.pop(0) if receiver.answers else 204
                if answer == "hang":
                    receiver.released.wait(30)
                    return
                self.send_response(answer)
                if answer in (301, 302, 307, 308):
                    self.send_header("Location", "http://127.0.0.1:1/elders")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
