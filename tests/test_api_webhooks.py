"""Webhooks: queued with the change, sent by the worker's pass, signed per Standard Webhooks, retried, logged."""

from __future__ import annotations

import base64
import json
import os
import signal
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from helpers import (
    ANNA,
    ORGANISER_EMAIL,
    ORGANISER_PASSWORD,
    details,
    WebhookReceiver,
    api_token,
    make_request,
    person,
    teams_participants,
    wait_for,
)
from webinar.api.delivery import deliver_due
from webinar.api.webhook_models import DeliveryStatus, WebhookDelivery
from webinar.api.webhooks import Refused, rotate_secret, send_again, subscribe
from webinar.database import utcnow
from webinar.extensions import db
from webinar.mailing.worker import send_due
from webinar.organiser.services import create_organiser
from webinar.registration.models import Registration
from webinar.registration.services import register
from webinar.support.models import SupportStatus
from webinar.support.services import update_request


@pytest.fixture
def loopback(app):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    return app


def deliveries() -> list[WebhookDelivery]:
    db.session.rollback()
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def subscribed(organiser, url, kinds=("registration.created",)):
    subscription = subscribe(organiser, url, list(kinds))
    db.session.commit()
    return subscription


def test_a_registration_reaches_the_receiver_signed_and_without_personal_data(loopback, organiser, event):
    with WebhookReceiver() as receiver:
        subscription = subscribed(organiser, receiver.url)
        anna = person(event, "Anna", "Berg", "van den", email="anna@example.org")
        [queued] = deliveries()
        assert queued.status == DeliveryStatus.pending and receiver.received == []  # nothing inside the request
        send_due()  # the mail worker's pass sends the webhooks after the mail
        [(headers, body)] = receiver.received
    payload = Webhook(subscription.secret).verify(body, headers)  # the package's own verifier
    assert payload == {"type": "registration.created", "timestamp": payload["timestamp"],
                       "data": {"event": event.slug, "registration_id": anna.id}}
    assert "anna" not in body.decode().lower()
    assert headers["webhook-id"] == queued.message_id
    [done] = deliveries()
    assert done.status == DeliveryStatus.delivered and done.last_status == 204 and done.attempts == 1
    with pytest.raises(WebhookVerificationError):  # negative control: another secret does not verify
        Webhook("whsec_" + "A" * 43 + "=").verify(body, headers)


def test_a_503_is_tried_again_after_the_wait_with_the_same_id(loopback, organiser, event, frozen):
    with WebhookReceiver(answers=[503]) as receiver:
        subscribed(organiser, receiver.url)
        person(event, "Piet", "Bakker")
        deliver_due()
        [waiting] = deliveries()
        assert waiting.status == DeliveryStatus.pending and waiting.last_status == 503
        assert waiting.due_at == utcnow() + timedelta(minutes=1)
        deliver_due()
        assert len(receiver.received) == 1  # not before the wait
        frozen.shift(timedelta(minutes=1))
        deliver_due()
        assert [headers["webhook-id"] for headers, _ in receiver.received] == [waiting.message_id] * 2
    [done] = deliveries()
    assert done.status == DeliveryStatus.delivered and done.attempts == 2


def test_a_receiver_that_hangs_times_out_and_is_tried_again(loopback, organiser, event):
    loopback.config["WEBHOOK_TIMEOUT_SECONDS"] = 0.5
    with WebhookReceiver(answers=["hang"]) as receiver:
        subscribed(organiser, receiver.url)
        person(event, "Piet", "Bakker")
        started = time.monotonic()
        deliver_due()
        assert time.monotonic() - started < 5
    [waiting] = deliveries()
    assert waiting.status == DeliveryStatus.pending and waiting.last_status is None
    assert "timed out" in waiting.last_response


def test_redirects_are_not_followed_and_a_4xx_fails_at_once(loopback, organiser, event):
    with WebhookReceiver(answers=[302, 410]) as receiver:
        subscribed(organiser, receiver.url)
        person(event, "Piet", "Bakker")
        person(event, "Jan", "Dijk")
        deliver_due()
        assert len(receiver.received) == 2
    moved, gone = deliveries()
    assert moved.status == DeliveryStatus.failed and "doorverwijzingen volgen we niet" in moved.last_response
    assert gone.status == DeliveryStatus.failed and gone.last_status == 410


def test_private_and_loopback_destinations_are_refused_unless_allowed(app, organiser, event):
    for url in ("http://127.0.0.1:8080/hook", "https://127.0.0.1/hook", "https://10.1.2.3/hook",
                "https://169.254.169.254/latest", "https://[::1]/hook", "https://localhost/hook"):
        with pytest.raises(Refused):
            subscribe(organiser, url, ["registration.created"])
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    with WebhookReceiver() as receiver:
        subscribed(organiser, receiver.url)
        person(event, "Piet", "Bakker")
        app.config["WEBHOOK_ALLOW_PRIVATE"] = False  # checked again at every attempt
        deliver_due()
        assert receiver.received == []
    [refused] = deliveries()
    assert refused.status == DeliveryStatus.failed and "https" in refused.last_response  # loopback over http


def test_kinds_follow_the_role_and_each_change_queues_its_kind(loopback, organiser, event, full_event):
    anna, bert = full_event
    adviser = create_organiser("adviseur@example.org", ORGANISER_PASSWORD, name="Ad Viseur")
    adviser.role = "adviseur"
    db.session.commit()
    with pytest.raises(ValueError):
        subscribe(adviser, "http://127.0.0.1:9/hook", ["registration.created"])
    with WebhookReceiver() as receiver:
        subscribed(organiser, receiver.url, ["registration.cancelled", "registration.promoted", "event.changed",
                                             "support_request.created", "support_request.status_changed"])
        from webinar.registration.services import cancel_registration
        cancel_registration(anna)  # Bert moves up
        db.session.commit()
        request = make_request()
        update_request(request, SupportStatus.in_progress, "", "", False, utcnow())
        db.session.commit()
    kinds = [(row.kind, json.loads(row.payload)["data"]) for row in deliveries()]
    assert kinds == [
        ("registration.cancelled", {"event": event.slug, "registration_id": anna.id}),
        ("registration.promoted", {"event": event.slug, "registration_id": bert.id}),
        ("support_request.created", {"support_request_id": request.id, "status": "new"}),
        ("support_request.status_changed", {"support_request_id": request.id, "status": "in_progress"}),
    ]


def test_rotation_signs_with_both_secrets_for_a_while(loopback, organiser, event, frozen):
    with WebhookReceiver() as receiver:
        subscription = subscribed(organiser, receiver.url)
        old = subscription.secret
        rotate_secret(organiser, subscription)
        db.session.commit()
        person(event, "Piet", "Bakker")
        deliver_due()
        during, body = receiver.received[-1]
        Webhook(old).verify(body, during)
        Webhook(subscription.secret).verify(body, during)
        frozen.shift(timedelta(hours=25))
        person(event, "Jan", "Dijk")
        deliver_due()
        after, later = receiver.received[-1]
    Webhook(subscription.secret).verify(later, after)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(later, after)


def test_send_again_and_the_purge_of_delivered_payloads(loopback, organiser, event, runner):
    with WebhookReceiver() as receiver:
        subscribed(organiser, receiver.url)
        person(event, "Piet", "Bakker")
        deliver_due()
        [delivered] = deliveries()
        assert send_again(organiser, delivered)
        db.session.commit()
        deliver_due()
        assert len(receiver.received) == 2 and receiver.received[0][1] == receiver.received[1][1]
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    [purged] = deliveries()
    assert purged.payload is None and purged.status == DeliveryStatus.delivered
    assert not send_again(organiser, purged)


def test_webhook_pages(loopback, organiser_client, organiser, event):
    with WebhookReceiver() as receiver:
        made = organiser_client.post("/organiser/webhooks", data={"url": receiver.url,
                                                                 "kinds": ["registration.created"]})
        assert made.status_code == 200 and 'id="webhook-geheim">whsec_' in made.get_data(as_text=True)
        person(event, "Piet", "Bakker")
        deliver_due()
    [delivery] = deliveries()
    page = organiser_client.get(f"/organiser/webhooks/{delivery.subscription_id}").get_data(as_text=True)
    assert "Afgeleverd" in page and "204" in page
    refused = organiser_client.post("/organiser/webhooks", data={"url": "https://10.0.0.1/x", "kinds": []})
    assert refused.status_code == 422


@pytest.mark.slow
def test_nothing_is_lost_when_the_worker_is_killed_mid_delivery(live, workers):
    organiser = create_organiser(ORGANISER_EMAIL, ORGANISER_PASSWORD)
    db.session.commit()
    live.config["WEBHOOK_ALLOW_PRIVATE"] = True
    with WebhookReceiver(answers=["hang"]) as receiver:
        subscription = subscribed(organiser, receiver.url, ["support_request.created"])
        make_request()
        group = workers(1, WEBHOOK_ALLOW_PRIVATE="1", WEBHOOK_CLAIM_SECONDS="2", WEBHOOK_TIMEOUT_SECONDS="30")
        first = group.start("send-due")
        wait_for(lambda: receiver.received, "the delivery to be under way", timeout=60, group=group, alive=[first])
        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL
        [claimed] = deliveries()
        assert claimed.status == DeliveryStatus.sending  # claimed, never marked
        time.sleep(2.5)  # the claim runs out
        second = group.start("send-due")
        assert second.wait(timeout=60) in (0, 1), group.outputs()  # 1: no mail server, which this test lacks
    [done] = deliveries()
    assert done.status == DeliveryStatus.delivered and done.attempts == 2
    ids = [headers["webhook-id"] for headers, _ in receiver.received]
    assert ids == [done.message_id] * 2  # at least once: the receiver can drop the repeat by its id
    Webhook(subscription.secret).verify(receiver.received[1][1], receiver.received[1][0])


def test_changes_through_the_api_queue_their_webhooks_too(loopback, client, organiser, event, people):
    headers = api_token(organiser)
    subscribed(organiser, "http://127.0.0.1:9/hook", ["attendance.recorded", "event.changed"])
    report = base64.b64encode(teams_participants([ANNA])).decode()
    assert client.post(f"/api/v1/events/{event.slug}/attendance/report", headers=headers,
                       json={"report": report}).status_code == 200
    assert client.patch(f"/api/v1/events/{event.slug}", headers=headers, json={"capacity": 50}).status_code == 200
    assert [(row.kind, json.loads(row.payload)["data"]) for row in deliveries()] == [
        ("attendance.recorded", {"event": event.slug, "registration_id": people["berg"].id}),
        ("event.changed", {"event": event.slug, "changed": ["capacity"]}),
    ]


def _id(outcome) -> int:
    return outcome.stored if isinstance(outcome.stored, int) else outcome.stored.id


def test_a_sign_up_and_its_delivery_are_committed_together_or_not_at_all(loopback, organiser, event):
    """The fast path's own commit (register(commit=True) on PostgreSQL) is skipped while someone subscribes:
    a rollback right after the sign-up then takes the delivery and the registration alike, never only one."""
    subscribed(organiser, "http://127.0.0.1:9/hook")
    outcome = register(event, details("joke@example.org"), commit=True)
    assert outcome.created and len(db.session.scalars(select(WebhookDelivery)).all()) == 1
    db.session.rollback()  # the process dies before the view commits
    assert db.session.get(Registration, _id(outcome)) is None
    assert deliveries() == []


def test_without_a_subscriber_the_sign_up_keeps_its_own_commit(app, event):
    """The negative control: nobody subscribes, so on PostgreSQL the sign-up is committed in its own round
    trip (it survives the rollback); on SQLite there is no such commit and it goes."""
    outcome = register(event, details("piet@example.org"), commit=True)
    db.session.rollback()
    stored = db.session.get(Registration, _id(outcome)) is not None
    assert stored == (db.engine.dialect.name == "postgresql")


def _signed_up(event, email: str) -> None:
    """A public sign-up: the view's register(commit=True) and its commit."""
    register(event, details(email), commit=True)
    db.session.commit()


def test_a_subscription_saved_here_receives_the_very_next_sign_up_and_a_stopped_one_none(loopback, organiser, event):
    _signed_up(event, "voor@example.org")  # read with nobody subscribed
    assert deliveries() == []
    subscription = subscribed(organiser, "http://127.0.0.1:9/hook")
    _signed_up(event, "na@example.org")
    [queued] = deliveries()
    assert json.loads(queued.payload)["data"]["registration_id"] == db.session.scalar(
        select(Registration.id).where(Registration.email_normalized == "na@example.org"))
    from webinar.api.webhooks import deactivate
    deactivate(organiser, db.session.get(type(subscription), subscription.id))
    db.session.commit()
    _signed_up(event, "gestopt@example.org")
    assert len(deliveries()) == 1


def test_a_subscription_saved_by_another_process_receives_sign_ups_within_the_freshness(
        loopback, organiser, event, monkeypatch):
    """Each process reads the subscribed kinds at most KINDS_FRESH_SECONDS ago; a row another process stored
    (here: written past this process's ORM) is seen once that time is up, with no restart."""
    from webinar.api import webhooks
    from webinar.api.webhook_models import WebhookSubscription
    monkeypatch.setattr(webhooks, "KINDS_FRESH_SECONDS", 0.5)
    _signed_up(event, "voor@example.org")  # read with nobody subscribed
    organiser_id = organiser.id
    db.session.rollback()  # this process holds nothing open while the other one writes
    with db.engine.begin() as connection:  # as another worker process would store it
        connection.execute(WebhookSubscription.__table__.insert().values(
            organiser_id=organiser_id, url="http://127.0.0.1:9/hook", kinds=["registration.created"],
            secret="whsec_" + "A" * 43 + "=", active=True, created_at=utcnow()))
    _signed_up(event, "meteen@example.org")
    assert deliveries() == []  # within the freshness: not yet known here (the documented window)
    time.sleep(0.6)
    _signed_up(event, "later@example.org")
    [queued] = deliveries()
    assert json.loads(queued.payload)["data"]["registration_id"] == db.session.scalar(
        select(Registration.id).where(Registration.email_normalized == "later@example.org"))


def test_a_path_with_accents_is_sent_percent_encoded(loopback, organiser, event):
    with WebhookReceiver() as receiver:
        subscribed(organiser, receiver.url.replace("/hook", "/aanmelding-ontvangen/coöperatie?bron=webinar"))
        person(event, "Piet", "Bakker")
        deliver_due()
        assert receiver.paths == ["/aanmelding-ontvangen/co%C3%B6peratie?bron=webinar"]
    [done] = deliveries()
    assert done.status == DeliveryStatus.delivered


def test_one_broken_delivery_does_not_hold_up_the_others_in_its_pass(loopback, organiser, event, frozen, caplog):
    """A subscription whose stored secret cannot sign (a bad row) gets a retry with a note; the deliveries
    after it in the same batch are sent in the same pass."""
    with WebhookReceiver() as receiver:
        broken = subscribed(organiser, receiver.url)
        sound = subscribed(organiser, receiver.url.replace("/hook", "/tweede"))
        broken.secret = "whsec_dit-is-geen-base64!"
        db.session.commit()
        person(event, "Piet", "Bakker")
        assert deliver_due() == 2
        assert receiver.paths == ["/tweede"]
    by_subscription = {delivery.subscription_id: delivery for delivery in deliveries()}
    failed, done = by_subscription[broken.id], by_subscription[sound.id]
    assert done.status == DeliveryStatus.delivered
    assert failed.status == DeliveryStatus.pending and failed.last_response.startswith("interne fout")
    assert failed.due_at == utcnow() + timedelta(minutes=1) and failed.claimed_until is None
    assert "could not be sent" in caplog.text
