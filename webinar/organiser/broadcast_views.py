"""Messages to a group of an event's registrants: compose, preview, test, send, follow up."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..audit import audit
from ..database import utcnow
from ..dutch import datetime_text, period
from ..events.lookup import event_or_404
from ..events.models import Event
from ..extensions import db
from . import bp
from .broadcast_services import (
    PLACEHOLDERS,
    SAMPLE_EMAIL,
    SAMPLE_NAME,
    STATUS_LABELS,
    Selection,
    count_recipients,
    count_selected,
    event_broadcasts,
    is_draft,
    queue_test,
    recipient_mails,
    sample_mail,
    save_draft,
    selection_label,
    send_broadcast,
    status_counts,
)
from .forms import MessageForm, MessageTestForm, SendForm
from .models import Broadcast
from .previews import framed_mail
from .roles import EVENTS_VIEW, MESSAGES_SEND, requires


def _broadcast_or_404(event: Event, broadcast_id: int, *, lock: bool = False) -> Broadcast:
    query = select(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.event_id == event.id)
    return db.first_or_404(query.with_for_update() if lock else query)


@bp.get("/events/<slug>/berichten")
@requires(EVENTS_VIEW)
def messages(slug: str):
    """The event's messages: sent, planned and drafts, with counts by status."""
    event = event_or_404(slug)
    broadcasts = event_broadcasts(event)
    return render_template(
        "organiser/messages.html", event=event, now=utcnow(),
        sent=[b for b in broadcasts if not is_draft(b)], drafts=[b for b in broadcasts if is_draft(b)],
        counts=status_counts(event), status_labels=STATUS_LABELS, selection_label=selection_label,
    )


def _compose(event: Event, broadcast: Broadcast | None):
    form = MessageForm(event, obj=broadcast)
    if request.method == "GET" and broadcast is not None:
        form.fill_from(broadcast)
    counted = None
    if request.method == "POST" and request.form.get("actie") == "tellen":
        # Count the recipients of the selection as it is now, without saving (and without script).
        if form.validate_selection():
            counted = form.selection().describe(count_selected(event, form.selection()))
    elif form.validate_on_submit():
        broadcast = save_draft(event, current_user, broadcast, **form.values())
        db.session.commit()
        return redirect(url_for(".preview_message", slug=event.slug, broadcast_id=broadcast.id))
    return render_template("organiser/messages_compose.html", event=event, form=form, broadcast=broadcast,
                           placeholders=PLACEHOLDERS, example_date=period(event.starts_at, event.ends_at),
                           counted=counted)


@bp.route("/events/<slug>/berichten/nieuw", methods=["GET", "POST"])
@requires(EVENTS_VIEW, MESSAGES_SEND)
def new_message(slug: str):
    """Write a message; it is kept as a draft until it is sent."""
    return _compose(event_or_404(slug), None)


@bp.route("/events/<slug>/berichten/<int:broadcast_id>/bewerken", methods=["GET", "POST"])
@requires(EVENTS_VIEW, MESSAGES_SEND)
def edit_message(slug: str, broadcast_id: int):
    """Change a draft."""
    event = event_or_404(slug)
    broadcast = _broadcast_or_404(event, broadcast_id)
    if not is_draft(broadcast):
        abort(409)
    return _compose(event, broadcast)


def _preview(event: Event, broadcast: Broadcast, send_form: SendForm, test_form: MessageTestForm | None = None,
             status: int = 200):
    subject, context = sample_mail(broadcast, event)
    count = count_recipients(event, broadcast)
    if test_form is None:
        test_form = MessageTestForm(formdata=None, address=current_user.email)
    return render_template(
        "organiser/messages_preview.html", event=event, broadcast=broadcast, sample_name=SAMPLE_NAME,
        sample_email=SAMPLE_EMAIL, count=count, subject=subject,
        selection_label=Selection.of(broadcast).describe(),
        text=render_template("email/broadcast.txt", **context),
        send_form=send_form, test_form=test_form,
    ), status


@bp.get("/events/<slug>/berichten/<int:broadcast_id>/voorbeeld.html")
@requires(EVENTS_VIEW, MESSAGES_SEND)
def preview_message_html(slug: str, broadcast_id: int):
    """The HTML version of the e-mail alone, for the preview's frame: its styles, no script."""
    event = event_or_404(slug)
    _, context = sample_mail(_broadcast_or_404(event, broadcast_id), event)
    return framed_mail(render_template("email/broadcast.html", **context))


@bp.get("/events/<slug>/berichten/<int:broadcast_id>/voorbeeld")
@requires(EVENTS_VIEW, MESSAGES_SEND)
def preview_message(slug: str, broadcast_id: int):
    """The e-mail as a fictional registrant gets it, how many it goes to, and the ways to send it."""
    event = event_or_404(slug)
    broadcast = _broadcast_or_404(event, broadcast_id)
    if not is_draft(broadcast):
        return redirect(url_for(".message", slug=slug, broadcast_id=broadcast_id))
    return _preview(event, broadcast, SendForm())


@bp.post("/events/<slug>/berichten/<int:broadcast_id>/test")
@requires(EVENTS_VIEW, MESSAGES_SEND)
def test_message(slug: str, broadcast_id: int):
    """Send the message, as the fictional registrant gets it, to an address the organiser types."""
    event = event_or_404(slug)
    broadcast = _broadcast_or_404(event, broadcast_id)
    form = MessageTestForm()
    if not form.validate_on_submit():
        return _preview(event, broadcast, SendForm(formdata=None), form, status=422)
    address = form.address.data
    if queue_test(broadcast, address):
        audit(current_user, "message.test", f'test van "{broadcast.subject}" aan {address}', event)
        flash(f"Er gaat een test naar {address}. Die komt binnen enkele minuten aan.", "success")
    db.session.commit()
    return redirect(url_for(".preview_message", slug=slug, broadcast_id=broadcast_id))


@bp.post("/events/<slug>/berichten/<int:broadcast_id>/versturen")
@requires(EVENTS_VIEW, MESSAGES_SEND)
def send_message(slug: str, broadcast_id: int):
    """Queue one e-mail per recipient, now or at the chosen moment."""
    event = event_or_404(slug)
    broadcast = _broadcast_or_404(event, broadcast_id, lock=True)
    if not is_draft(broadcast):
        abort(409)
    form = SendForm()
    if form.validate_on_submit():
        send_at = form.moment(utcnow())
        try:
            count = send_broadcast(event, broadcast, send_at)
        except ValueError as error:
            db.session.rollback()
            form.when.errors.append(str(error))
        else:
            moment = "nu" if form.when.data == "nu" else f"op {datetime_text(send_at)}"
            audit(current_user, "message.send",
                  f'"{broadcast.subject}" aan {selection_label(broadcast)}, {moment}', event)
            db.session.commit()
            flash(f"Het bericht gaat {moment} naar {count} ontvangers.", "success")
            return redirect(url_for(".message", slug=slug, broadcast_id=broadcast_id))
    return _preview(event, broadcast, form)


@bp.get("/events/<slug>/berichten/<int:broadcast_id>")
@requires(EVENTS_VIEW)
def message(slug: str, broadcast_id: int):
    """A sent or planned message, with the status of each recipient's e-mail."""
    event = event_or_404(slug)
    broadcast = _broadcast_or_404(event, broadcast_id)
    if is_draft(broadcast):
        return redirect(url_for(".preview_message", slug=slug, broadcast_id=broadcast_id))
    return render_template(
        "organiser/messages_detail.html", event=event, broadcast=broadcast, mails=recipient_mails(broadcast),
        counts=status_counts(event).get(broadcast.id, {}), status_labels=STATUS_LABELS,
        selection_label=selection_label(broadcast), now=utcnow(),
    )
