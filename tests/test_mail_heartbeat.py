"""Whether mail goes out: the workers' heartbeat, the organiser's warning, /healthz/mail, `flask mail status`.

Mail counts as stuck when some is due and no worker was seen for
MAIL_WORKER_STALE_MINUTES (3): the organiser's pages warn in Dutch with how
much is waiting, /healthz/mail answers 503 and `flask mail status` exits 1.
The last test runs a real `flask mail worker` process.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta

import pytest

from helpers import NOW, Recorder, page_text, person, queue_confirmations, smtp_server, wait_for
from webinar.database import utcnow
from webinar.extensions import db
from webinar.mailing.heartbeat import record_pass
from webinar.mailing.models import MailWorker

WARNING = "Let op: er wordt op dit moment geen e-mail verstuurd."


def workers_seen() -> list[MailWorker]:
    db.session.rollback()
    return list(db.session.scalars(db.select(MailWorker).order_by(MailWorker.id)))


def test_due_mail_without_a_worker_warns_the_organiser_and_the_monitoring(organiser_client, runner, event):
    person(event, "Anna", "Berg")
    person(event, "Piet", "Bakker")

    for page in (f"/organiser/events/{event.slug}", "/organiser/"):
        text = page_text(organiser_client.get(page))
        assert WARNING in text, page
        assert "al minstens een dag geen verzendproces (mail worker) actief geweest" in text
        assert "2 e-mails wachten op verzending, de oudste sinds zaterdag 1 mei 2027 om 12.00 uur" in text

    response = organiser_client.get("/healthz/mail")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "stuck"
    assert body["due"] == 2 and body["workers_alive"] == 0 and body["last_seen"] is None
    assert body["oldest_due_at"] == "2027-05-01T10:00:00+00:00"
    assert "2 e-mails wachten" in body["reason"]

    result = runner.invoke(args=["mail", "status"])
    assert result.exit_code == 1
    assert "VASTGELOPEN: Er is al minstens een dag geen verzendproces" in result.output
    assert "nu te versturen: 2" in result.output


def test_a_worker_seen_lately_keeps_it_quiet_and_one_gone_for_minutes_does_not(organiser_client, runner, event,
                                                                              frozen):
    person(event, "Anna", "Berg")
    record_pass(sent=0)

    for minutes, status in ((0, 200), (3, 200), (4, 503)):
        frozen.move_to(NOW + timedelta(minutes=minutes))
        assert organiser_client.get("/healthz/mail").status_code == status, minutes
        shown = WARNING in page_text(organiser_client.get(f"/organiser/events/{event.slug}"))
        assert shown == (status == 503), minutes
    assert "sinds zaterdag 1 mei 2027 om 12.00 uur geen verzendproces" in organiser_client.get(
        "/healthz/mail").get_json()["reason"]
    assert runner.invoke(args=["mail", "status"]).exit_code == 1

    record_pass(sent=1)
    assert organiser_client.get("/healthz/mail").status_code == 200
    result = runner.invoke(args=["mail", "status"])
    assert result.exit_code == 0, result.output
    assert "verzendprocessen actief: 1" in result.output


def test_without_due_mail_nothing_is_stuck_even_without_a_worker(organiser_client, event, frozen):
    person(event, "Anna", "Berg")
    frozen.move_to(NOW - timedelta(minutes=1))  # the confirmation is not due yet
    response = organiser_client.get("/healthz/mail")
    assert response.status_code == 200
    assert response.get_json()["due"] == 0
    assert WARNING not in page_text(organiser_client.get("/organiser/"))


def test_each_pass_is_recorded_per_process_and_old_workers_are_forgotten(app, runner, smtp, event, frozen):
    db.session.add(MailWorker(host="oude-server", pid=4242, started_at=NOW - timedelta(days=3),
                              last_seen=NOW - timedelta(days=1, minutes=1)))
    db.session.add(MailWorker(host="andere-server", pid=77, last_seen=NOW - timedelta(hours=23)))
    db.session.commit()
    person(event, "Anna", "Berg")

    result = runner.invoke(args=["mail", "send-due"])  # from cron: a pass of its own
    assert result.exit_code == 0, result.output
    frozen.move_to(NOW + timedelta(seconds=5))
    record_pass(sent=0, error="mailserver onbereikbaar")

    seen = {(worker.host, worker.pid): worker for worker in workers_seen()}
    assert set(seen) == {("andere-server", 77), (socket.gethostname(), os.getpid())}
    mine = seen[socket.gethostname(), os.getpid()]
    assert (mine.total_sent, mine.last_sent, mine.last_error) == (1, 0, "mailserver onbereikbaar")
    assert mine.started_at == NOW and mine.last_seen == NOW + timedelta(seconds=5)


@pytest.mark.slow
def test_a_running_worker_process_answers_the_monitoring_with_200(live, workers):
    client = live.test_client()
    recorder = Recorder()
    with smtp_server(recorder) as port:
        queue_confirmations(3)
        assert client.get("/healthz/mail").status_code == 503  # due, and nobody to send it

        group = workers(port)
        process = group.start("worker", "--interval", "0.2")
        wait_for(lambda: any(w.pid == process.pid and w.total_sent == 3 for w in workers_seen()),
                 "the worker to send the three messages and say so", timeout=60, group=group, alive=[process])
        answer = client.get("/healthz/mail")
        assert answer.status_code == 200
        assert answer.get_json()["workers_alive"] == 1
        assert recorder.count() == 3
        worker = [w for w in workers_seen() if w.pid == process.pid][0]
        assert utcnow() - worker.last_seen < timedelta(seconds=30)
        assert group.stop(process) == 0
