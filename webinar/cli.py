"""The `flask` commands: demo, events, organisers, mail, privacy."""

from __future__ import annotations

import logging
import signal
import socket
import sys
import time as clock
from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from .database import begin_write, utcnow
from .demo import seed_demo
from .dutch import AMSTERDAM, datetime_text, period
from .events.services import cancel_event, create_event, get_event, move_event, set_schedule
from .extensions import db
from .links import external_url
from .events.schedule import planned
from .mailing.bounce_mailbox import MailboxProblem, process_bounces
from .mailing.heartbeat import mail_health, record_pass
from .mailing.kinds import label
from .mailing.models import MailStatus, OutgoingMail
from .mailing.sink import start_sink
from .mailing.sending import forget_transaction
from .mailing.worker import database_problem, send_due, wait_after_failed_passes
from .organiser.roles import DEFAULT_ROLE, ROLES, role_label
from .organiser.services import create_organiser
from .privacy.commands import privacy_cli

log = logging.getLogger(__name__)

#: how many different reasons for failed mail `flask mail status` lists, most frequent first
STATUS_REASONS = 20

def _fail(message: str) -> None:
    db.session.rollback()
    raise click.ClickException(message)


@click.command("demo")
def demo_command():
    """Add the demo event and a demo organiser (safe to run again)."""
    event, organiser, password = seed_demo(utcnow().astimezone(AMSTERDAM).date())
    db.session.commit()
    click.echo(f"Bijeenkomst: {event.title}, {period(event.starts_at, event.ends_at)}")
    click.echo(f"  {external_url('registration.show', slug=event.slug)}")
    if password:
        click.echo(f"Organisator: {organiser.email}, wachtwoord: {password}")


events_cli = AppGroup("events", help="Events.")


def _local_time(value: str, name: str) -> datetime:
    try:
        moment = datetime.strptime(value.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise click.BadParameter(f"gebruik de vorm JJJJ-MM-DD UU:MM, niet {value!r}", param_hint=name)
    return moment.replace(tzinfo=AMSTERDAM)


@events_cli.command("create")
@click.option("--slug", required=True, help="Name in the URL: /events/<slug>.")
@click.option("--title", required=True)
@click.option("--starts", required=True, help='Local Amsterdam time, "YYYY-MM-DD HH:MM".')
@click.option("--ends", required=True, help='Local Amsterdam time, "YYYY-MM-DD HH:MM".')
@click.option("--join-url", default=None, help="The meeting URL (kept secret).")
@click.option("--capacity", type=click.IntRange(min=1), default=None)
@click.option("--summary", default="")
@click.option("--concept", is_flag=True, help="Create it as a draft: not public until an organiser publishes it.")
def create_event_command(slug, title, starts, ends, join_url, capacity, summary, concept):
    """Create an event (published at once, unless --concept)."""
    try:
        event = create_event(
            slug=slug.strip(),
            title=title.strip(),
            starts_at=_local_time(starts, "--starts"),
            ends_at=_local_time(ends, "--ends"),
            meeting_url=join_url,
            capacity=capacity,
            summary=summary,
            draft=concept,
        )
    except ValueError as error:
        _fail(str(error))
    db.session.commit()
    click.echo(f"{event.title}, {period(event.starts_at, event.ends_at)}")
    click.echo(external_url("registration.show", slug=event.slug))


def _event(slug: str):
    event = get_event(slug)
    if event is None:
        _fail(f"Er is geen bijeenkomst met de naam {slug!r}.")
    return event


def _told(count: int) -> str:
    """'1 aangemelde krijgt bericht', '3 aangemelden krijgen bericht'."""
    return "1 aangemelde krijgt bericht" if count == 1 else f"{count} aangemelden krijgen bericht"


@events_cli.command("move")
@click.option("--slug", required=True)
@click.option("--starts", required=True, help='Local Amsterdam time, "YYYY-MM-DD HH:MM".')
@click.option("--ends", required=True, help='Local Amsterdam time, "YYYY-MM-DD HH:MM".')
def move_event_command(slug, starts, ends):
    """Give an event a new time; planned mail moves, registrants get an update."""
    begin_write()
    event = _event(slug)
    try:
        told = move_event(event, _local_time(starts, "--starts"), _local_time(ends, "--ends"))
    except ValueError as error:
        _fail(str(error))
    db.session.commit()
    click.echo(f"{event.title}: nu {period(event.starts_at, event.ends_at)}; {_told(told)}")


@events_cli.command("cancel")
@click.option("--slug", required=True)
@click.confirmation_option(prompt="De bijeenkomst annuleren en iedereen bericht sturen?")
def cancel_event_command(slug):
    """Cancel an event; everyone registered gets a cancellation with calendar file."""
    begin_write()
    event = _event(slug)
    told = cancel_event(event)
    db.session.commit()
    click.echo(f"{event.title} geannuleerd; {_told(told)}")


@events_cli.command("schedule")
@click.option("--slug", required=True)
@click.option("--reminder-days", type=int, default=None, help="Days before the start.")
@click.option("--no-reminder", is_flag=True, help="Send no reminder.")
@click.option("--reminder-time", default=None, help='Local time of the reminder, "HH:MM".')
@click.option("--join-link-minutes", type=int, default=None, help="Minutes before the start.")
@click.option("--followup-minutes", type=int, default=None, help="Minutes after the end.")
@click.option("--followup-joined", default=None, help="Follow-up text for those who joined.")
@click.option("--followup-missed", default=None, help="Follow-up text for those who did not.")
@click.option("--recording-url", default=None)
def schedule_command(slug, reminder_days, no_reminder, reminder_time, join_link_minutes,
                     followup_minutes, followup_joined, followup_missed, recording_url):
    """Show or change an event's mail schedule."""
    begin_write()
    event = _event(slug)
    changes = {
        "reminder_days_before": reminder_days,
        "reminder_local_time": reminder_time,
        "join_link_minutes_before": join_link_minutes,
        "followup_minutes_after": followup_minutes,
        "followup_joined_text": followup_joined,
        "followup_missed_text": followup_missed,
        "recording_url": recording_url,
    }
    changes = {name: value for name, value in changes.items() if value is not None}
    if no_reminder:
        changes["reminder_days_before"] = None
    try:
        set_schedule(event, **changes)
    except ValueError as error:
        _fail(str(error))
    db.session.commit()
    for moment in planned(event):
        click.echo(f"{label(moment.kind):<32} {datetime_text(moment.at)}")


organisers_cli = AppGroup("organisers", help="Organiser accounts.")


@organisers_cli.command("create")
@click.argument("email")
@click.option("--name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--role", type=click.Choice(sorted(ROLES)), default=DEFAULT_ROLE, show_default=True,
              help="What the account may do.")
def create_organiser_command(email, name, password_stdin, role):
    """Create an organiser account."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Wachtwoord", hide_input=True, confirmation_prompt=True)
    try:
        organiser = create_organiser(email, password, name=name, role=role)
    except ValueError as error:
        _fail(str(error))
    db.session.commit()
    click.echo(f"Account {organiser.email} aangemaakt ({role_label(organiser.role).lower()}).")


mail_cli = AppGroup("mail", help="Outgoing mail.")


def _report(result) -> None:
    click.echo(
        f"gepland {result.scheduled}, verstuurd {result.sent}, opnieuw later {result.retried}, "
        f"mislukt {result.failed}, overgeslagen {result.skipped}"
    )
    if result.connection_error:
        click.echo(f"mailserver onbereikbaar: {result.connection_error}", err=True)


@mail_cli.command("send-due")
def send_due_command():
    """Send all due mail once; exit 1 when the mail server or the database could not be reached."""
    socket.setdefaulttimeout(current_app.config.get("MAIL_TIMEOUT", 30))
    try:
        result = send_due()
    except DBAPIError as error:
        forget_transaction()
        click.echo(f"mail send-due: {database_problem(error)}", err=True)
        sys.exit(1)
    _report(result)
    _record_pass(result.sent, result.connection_error)
    if result.connection_error:
        sys.exit(1)


@mail_cli.command("worker")
@click.option("--interval", type=float, default=None, help="Seconds between passes.")
def worker_command(interval):
    """Send due mail in a loop until stopped (SIGTERM or Ctrl-C)."""
    socket.setdefaulttimeout(current_app.config.get("MAIL_TIMEOUT", 30))
    interval = interval or current_app.config["MAIL_WORKER_INTERVAL"]
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    click.echo(f"mail worker: every {interval:g} s")
    failures = 0
    bounces_at = clock.monotonic()  # read the bounce mailbox at once, then every MAIL_BOUNCE_INTERVAL_MINUTES
    try:
        while not stopping:
            if current_app.config["MAIL_BOUNCE_IMAP_HOST"] and clock.monotonic() >= bounces_at:
                _bounce_pass()
                bounces_at = clock.monotonic() + 60 * current_app.config["MAIL_BOUNCE_INTERVAL_MINUTES"]
            problem = _worker_pass(recovering=failures > 0)
            failures = failures + 1 if problem else 0
            wait = wait_after_failed_passes(interval, failures) if problem else interval
            if problem:
                click.echo(f"mail worker: {problem}; opnieuw over {wait:g} s", err=True)
            deadline = clock.monotonic() + wait
            while not stopping and clock.monotonic() < deadline:
                clock.sleep(0.2)
    except KeyboardInterrupt:
        pass
    click.echo("mail worker: stopped")


def _worker_pass(recovering: bool) -> str:
    """One pass of the worker, recorded as its heartbeat; a failed pass comes back as one line instead of
    ending the loop."""
    try:
        result = send_due()
    except DBAPIError as error:
        # The database's trouble passes (a lock is released, a server comes
        # back): keep the worker and try again later instead of exiting. No
        # heartbeat: the database could not take that either.
        forget_transaction()
        return database_problem(error)
    except Exception as error:
        # A fault outside any one row (the planning sweep, a bug) must not stop
        # every join link after it: keep the traceback in the log, try again later.
        log.exception("mail worker: onverwachte fout in een ronde")
        forget_transaction()
        problem = f"onverwachte fout: {type(error).__name__}: {error}"
        _record_pass(0, problem)
        return problem
    _record_pass(result.sent, result.connection_error)
    if recovering:
        click.echo("mail worker: weer in orde")
    if result.claimed or result.scheduled:
        _report(result)
    return ""


def _record_pass(sent: int, problem: str) -> None:
    """The heartbeat; when the database cannot take it, the pass's own trouble is already reported."""
    try:
        record_pass(sent, problem)
    except DBAPIError as error:
        forget_transaction()
        log.warning("mail worker: heartbeat not recorded: %s", database_problem(error))


def _bounce_pass() -> None:
    """The worker's reading of the bounce mailbox; trouble there is reported and never stops the sending."""
    try:
        run = process_bounces()
    except MailboxProblem as problem:
        click.echo(f"mail worker: {problem}", err=True)
        return
    except DBAPIError as error:
        forget_transaction()
        click.echo(f"mail worker: teruggekomen mail: {database_problem(error)}", err=True)
        return
    if run.handled:
        _report_bounces(run)


def _report_bounces(run) -> None:
    folder = current_app.config["MAIL_BOUNCE_DONE_FOLDER"]
    click.echo(f"teruggekomen mail: {run.handled} verwerkt (verplaatst naar {folder}), "
               f"{run.left} niet herkend (blijven staan)")


@mail_cli.command("bounces")
def bounces_command():
    """Read the bounce mailbox once: mark returned messages and their addresses; exit 1 when it cannot be read."""
    if not current_app.config["MAIL_BOUNCE_IMAP_HOST"]:
        _fail("MAIL_BOUNCE_IMAP_HOST is niet ingesteld: er is geen postbus voor teruggekomen mail.")
    try:
        run = process_bounces()
    except MailboxProblem as problem:
        _fail(str(problem))
    _report_bounces(run)


@mail_cli.command("status")
def status_command():
    """Count outbox rows by status and kind; exit 1 when mail is due and no worker is alive."""
    health = mail_health()
    rows = db.session.execute(
        select(OutgoingMail.kind, OutgoingMail.status, func.count())
        .group_by(OutgoingMail.kind, OutgoingMail.status)
        .order_by(OutgoingMail.kind)
    ).all()
    if not rows:
        click.echo("geen e-mail in de wachtrij")
    for kind, status, count in rows:
        click.echo(f"{kind:<14} {status.value:<8} {count:<7} {label(kind)}")
    reasons = db.session.execute(
        select(OutgoingMail.last_error, func.count())
        .where(OutgoingMail.status == MailStatus.failed)
        .group_by(OutgoingMail.last_error)
        .order_by(func.count().desc(), OutgoingMail.last_error)
        .limit(STATUS_REASONS)
    ).all()
    if reasons:
        click.echo("mislukt, met reden:")
    for reason, count in reasons:
        click.echo(f"{count:>6}  {reason or '(geen reden bewaard)'}")
    _report_health(health)


def _report_health(health) -> None:
    """Whether mail goes out; exit 1 when it is stuck."""
    seen = datetime_text(health.last_seen) if health.last_seen else "niet in het afgelopen etmaal"
    click.echo(f"verzendprocessen actief: {health.alive} (laatst gezien: {seen}); nu te versturen: {health.due}")
    if health.stuck:
        click.echo(f"VASTGELOPEN: {health.reason}", err=True)
        sys.exit(1)


@mail_cli.command("sink")
@click.option("--host", default="127.0.0.1")
@click.option("--port", type=int, default=None, help="Default: MAIL_PORT.")
def sink_command(host, port):
    """Development mail server: every message becomes an .eml file under instance/mail/."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    directory = current_app.config["MAIL_SINK_DIR"]
    controller = start_sink(directory, host, port or current_app.config["MAIL_PORT"])
    click.echo(f"mail sink: smtp://{host}:{controller.port}, messages in {directory}")
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        while not stopping:
            clock.sleep(0.5)
    except KeyboardInterrupt:
        pass
    controller.stop()


def register_commands(app) -> None:
    """Add the commands to `flask`."""
    app.cli.add_command(demo_command)
    app.cli.add_command(events_cli)
    app.cli.add_command(organisers_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(privacy_cli)
