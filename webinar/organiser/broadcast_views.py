"""Messages to a group of an event's registrants: compose, preview, test, send, follow up."""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from ..audit import audit
from ..database import utcnow
from ..dutch import AMSTERDAM, datetime_text, period
from ..events.models import Event
from ..extensions import db
from ..forms import EmptyForm, plain_text, single_line
from .blueprint import bp, event_or_404
from .broadcast_services import (
    PLACEHOLDERS,
    SEGMENTS,
    STATUS_LABELS,
    broadcast_mail,
    count_recipients,
    event_broadcasts,
    first_recipient,
    is_draft,
    queue_test,
    recipient_mails,
    sample_values,
    save_draft,
    segment_label,
    send_broadcast,
    status_counts,
    unknown_placeholders,
    uses_placeholder,
)
from .models import Broadcast
from .previews import framed_mail

_LOCAL = "%Y-%m-%dT%H:%M"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class MessageForm(FlaskForm):
    """Who a message goes to, and what it says."""

    segment = RadioField("Aan wie?", choices=[SelectChoice(name, s.label) for name, s in SEGMENTS.items()],
                         validate_choice=False)
    role = SelectField("Rol (bij 'Aangemelden met een bepaalde rol')", validate_choice=False)
    subject = StringField("Onderwerp", [
        DataRequired("Vul een onderwerp in."),
        Length(max=200, message="Het onderwerp mag hoogstens 200 tekens hebben."),
        single_line,
    ], filters=[_strip])
    body = TextAreaField("Bericht", [
        DataRequired("Schrijf een bericht."),
        Length(max=20000, message="Het bericht mag hoogstens 20.000 tekens hebben."),
        plain_text,
    ], filters=[_strip], render_kw={"rows": 14})

    def __init__(self, event: Event, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.event = event
        roles = [SelectChoice(role) for role in event.role_choices()]
        self.role.choices = [SelectChoice("", "Kies een rol"), *roles]

    def validate_segment(self, field):
        if field.data not in SEGMENTS:  # RadioField's own check speaks English
            raise ValidationError("Kies aan wie het bericht gaat.")

    def validate_role(self, field):
        if self.segment.data == "role" and field.data not in self.event.role_choices():
            raise ValidationError("Kies de rol van de ontvangers.")

    def validate_subject(self, field):
        _check_placeholders(field.data)

    def validate_body(self, field):
        _check_placeholders(field.data)
        if self.segment.data == "waitlisted" and uses_placeholder("deelnamelink", field.data):
            raise ValidationError("Wie op de wachtlijst staat kan nog niet deelnemen: "
                                  "gebruik {deelnamelink} hier niet.")

    def values(self) -> dict[str, str]:
        """The message as entered."""
        role = self.role.data if self.segment.data == "role" else ""
        return {"segment": self.segment.data, "role": role or "",
                "subject": self.subject.data, "body": self.body.data}


def _check_placeholders(text: str | None) -> None:
    unknown = unknown_placeholders(text or "")
    if unknown:
        known = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
        noun = "Onbekende plaatshouders" if len(unknown) > 1 else "Onbekende plaatshouder"
        raise ValidationError(f"{noun}: {', '.join(unknown)}. U kunt gebruiken: {known}.")


class SendForm(FlaskForm):
    """Send now or at a later moment (Amsterdam time)."""

    when = RadioField("Wanneer versturen?", default="nu", validate_choice=False,
                      choices=[SelectChoice("nu", "Nu"), SelectChoice("later", "Op een later moment")])
    send_at = StringField("Datum en tijd", filters=[_strip], render_kw={"type": "datetime-local"})

    def validate_when(self, field):
        if field.data not in ("nu", "later"):
            raise ValidationError("Kies wanneer het bericht verstuurd wordt.")

    def validate_send_at(self, field):
        if self.when.data != "later":
            return
        try:
            moment = datetime.strptime(field.data or "", _LOCAL).replace(tzinfo=AMSTERDAM)
        except ValueError:
            raise ValidationError("Vul de datum en tijd in waarop het bericht verstuurd wordt.") from None
        if moment <= utcnow():
            raise ValidationError("Kies een moment in de toekomst.")

    def moment(self, now: datetime) -> datetime:
        """When the message goes out."""
        if self.when.data == "later":
            return datetime.strptime(self.send_at.data, _LOCAL).replace(tzinfo=AMSTERDAM)
        return now


def _broadcast_or_404(event: Event, broadcast_id: int, *, lock: bool = False) -> Broadcast:
    query = select(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.event_id == event.id)
    broadcast = db.session.scalar(query.with_for_update() if lock else query)
    if broadcast is None:
        abort(404)
    return broadcast


@bp.get("/events/<slug>/berichten")
def messages(slug: str):
    """The event's messages: sent, planned and drafts, with counts by status."""
    event = event_or_404(slug)
    broadcasts = event_broadcasts(event)
    return render_template(
        "organiser/messages.html", event=event, now=utcnow(),
        sent=[b for b in broadcasts if not is_draft(b)], drafts=[b for b in broadcasts if is_draft(b)],
        counts=status_counts(event), status_labels=STATUS_LABELS, segment_label=segment_label,
    )


def _compose(event: Event, broadcast: Broadcast | None):
    form = MessageForm(event, obj=broadcast)
    if form.validate_on_submit():
        broadcast = save_draft(event, current_user, broadcast, **form.values())
        db.session.commit()
        return redirect(url_for(".preview_message", slug=event.slug, broadcast_id=broadcast.id))
    return render_template("organiser/messages_compose.html", event=event, form=form, broadcast=broadcast,
                           placeholders=PLACEHOLDERS, example_date=period(event.starts_at, event.ends_at))


@bp.route("/events/<slug>/berichten/nieuw", methods=["GET", "POST"])
def new_message(slug: str):
    """Write a message; it is kept as a draft until it is sent."""
    return _compose(event_or_404(slug), None)


@bp.route("/events/<slug>/berichten/<int:broadcast_id>/bewerken", methods=["GET", "POST"])
def edit_message(slug: str, broadcast_id: int):
    """Change a draft."""
    event = event_or_404(slug)
    broadcast = _broadcast_or_404(event, broadcast_id)
    if not is_draft(broadcast):
        abort(409)
    return _compose(event, broadcast)


def _preview_mail(event: Event, broadcast: Broadcast):
    registration = first_recipient(event, broadcast)
    values = sample_values(event, registration.first_name if registration else "Anna")
    subject, context = broadcast_mail(broadcast, event, values)
    return registration, subject, context


def _preview(event: Event, broadcast: Broadcast, send_form: SendForm):
    registration, subject, context = _preview_mail(event, broadcast)
    return render_template(
        "organiser/messages_preview.html", event=event, broadcast=broadcast, registration=registration,
        count=count_recipients(event, broadcast), subject=subject, segment_label=segment_label(broadcast),
        text=render_template("email/broadcast.txt", **context),
        send_form=send_form, test_form=EmptyForm(),
    )


@bp.get("/events/<slug>/berichten/<int:broadcast_id>/voorbeeld.html")
def preview_message_html(slug: str, broadcast_id: int):
    """The HTML version of the e-mail alone, for the preview's frame: its styles, no script."""
    event = event_or_404(slug)
    _, _, context = _preview_mail(event, _broadcast_or_404(event, broadcast_id))
    return framed_mail(render_template("email/broadcast.html", **context))


@bp.get("/events/<slug>/berichten/<int:broadcast_id>/voorbeeld")
def preview_message(slug: str, broadcast_id: int):
    """The e-mail as the first recipient would get it, and the ways to send it."""
    event = event_or_404(slug)
    broadcast = _broadcast_or_404(event, broadcast_id)
    if not is_draft(broadcast):
        return redirect(url_for(".message", slug=slug, broadcast_id=broadcast_id))
    return _preview(event, broadcast, SendForm())


@bp.post("/events/<slug>/berichten/<int:broadcast_id>/test")
def test_message(slug: str, broadcast_id: int):
    """Send the message to the organiser, with sample values."""
    event = event_or_404(slug)
    broadcast = _broadcast_or_404(event, broadcast_id)
    if not EmptyForm().validate():
        abort(400)
    if queue_test(broadcast, current_user.email):
        audit(current_user, "message.test", f'test van "{broadcast.subject}" aan {current_user.email}', event)
        flash(f"Er gaat een test naar {current_user.email}. Die komt binnen enkele minuten aan.", "success")
    db.session.commit()
    return redirect(url_for(".preview_message", slug=slug, broadcast_id=broadcast_id))


@bp.post("/events/<slug>/berichten/<int:broadcast_id>/versturen")
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
                  f'"{broadcast.subject}" aan {count} ontvangers ({segment_label(broadcast)}), {moment}', event)
            db.session.commit()
            flash(f"Het bericht gaat {moment} naar {count} ontvangers.", "success")
            return redirect(url_for(".message", slug=slug, broadcast_id=broadcast_id))
    return _preview(event, broadcast, form)


@bp.get("/events/<slug>/berichten/<int:broadcast_id>")
def message(slug: str, broadcast_id: int):
    """A sent or planned message, with the status of each recipient's e-mail."""
    event = event_or_404(slug)
    broadcast = _broadcast_or_404(event, broadcast_id)
    if is_draft(broadcast):
        return redirect(url_for(".preview_message", slug=slug, broadcast_id=broadcast_id))
    return render_template(
        "organiser/messages_detail.html", event=event, broadcast=broadcast, mails=recipient_mails(broadcast),
        counts=status_counts(event).get(broadcast.id, {}), status_labels=STATUS_LABELS,
        segment_label=segment_label(broadcast), now=utcnow(),
    )
