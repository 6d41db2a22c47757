"""The organiser's webhooks: subscribe a URL, see its delivery log, send one again, rotate the secret, stop."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, ValidationError

from ..extensions import db
from ..forms import MultiCheckboxField, button_or_400, single_line, strip
from . import webhooks_bp as bp
from .webhook_models import KINDS, WebhookDelivery, WebhookSubscription
from .webhooks import Refused, allowed_kinds, deactivate, rotate_secret, send_again, subscribe

#: deliveries shown on a subscription's page, newest first
LOG_LINES = 100


class SubscriptionForm(FlaskForm):
    url = StringField("Link van de ontvanger (https)", [DataRequired("Vul de link van de ontvanger in."), single_line],
                      filters=[strip])
    kinds = MultiCheckboxField("Over welke gebeurtenissen?", validate_choice=False)

    def validate_kinds(self, field):
        if not field.data or not set(field.data) <= {choice.value for choice in field.choices}:
            raise ValidationError("Kies ten minste één gebeurtenis uit de lijst.")


def _form() -> SubscriptionForm:
    form = SubscriptionForm()
    form.kinds.choices = [SelectChoice(kind, f"{KINDS[kind]} ({kind})") for kind in allowed_kinds(current_user)]
    return form


def _own(subscription_id: int) -> WebhookSubscription:
    subscription = db.session.get(WebhookSubscription, subscription_id)
    if subscription is None or subscription.organiser_id != current_user.id:
        abort(404)
    return subscription


@bp.route("", methods=["GET", "POST"])
def webhooks():
    """The organiser's subscriptions and a form for a new one; its secret is shown on the answer only."""
    form = _form()
    if form.validate_on_submit():
        try:
            made = subscribe(current_user, form.url.data, form.kinds.data)
        except (Refused, ValueError) as error:
            form.url.errors.append(str(error))
        else:
            db.session.commit()
            return _subscription_page(made, secret=made.secret)
    found = db.session.scalars(select(WebhookSubscription).where(WebhookSubscription.organiser_id == current_user.id)
                               .order_by(WebhookSubscription.id.desc())).all()
    return render_template("api/webhooks.html", form=form, subscriptions=found), 422 if form.errors else 200


def _subscription_page(subscription: WebhookSubscription, secret: str | None = None):
    deliveries = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
                                    .order_by(WebhookDelivery.id.desc()).limit(LOG_LINES)).all()
    return render_template("api/webhook.html", subscription=subscription, deliveries=deliveries, secret=secret,
                           kinds=KINDS)


@bp.get("/<int:subscription_id>")
def webhook(subscription_id: int):
    """One subscription: its kinds and its delivery log with the receivers' last answers."""
    return _subscription_page(_own(subscription_id))


@bp.post("/<int:subscription_id>/geheim")
def rotate(subscription_id: int):
    """A new secret, shown once; the old one keeps signing for a day."""
    subscription = _own(subscription_id)
    button_or_400()
    rotate_secret(current_user, subscription)
    db.session.commit()
    return _subscription_page(subscription, secret=subscription.secret)


@bp.post("/<int:subscription_id>/stoppen")
def stop(subscription_id: int):
    subscription = _own(subscription_id)
    button_or_400()
    deactivate(current_user, subscription)
    db.session.commit()
    flash("De webhook is gestopt: er worden geen nieuwe berichten meer klaargezet.", "success")
    return redirect(url_for(".webhook", subscription_id=subscription.id))


@bp.post("/<int:subscription_id>/berichten/<int:delivery_id>/opnieuw")
def resend(subscription_id: int, delivery_id: int):
    """Send one message again (same webhook-id, so the receiver can tell it is a repeat)."""
    subscription = _own(subscription_id)
    button_or_400()
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.subscription_id != subscription.id:
        abort(404)
    if send_again(current_user, delivery):
        db.session.commit()
        flash("Het bericht staat weer klaar en gaat bij de volgende ronde van de verzender mee.", "success")
    else:
        flash("Dit bericht kan niet opnieuw: het wordt nu verstuurd, of de inhoud is al opgeruimd.", "error")
    return redirect(url_for(".webhook", subscription_id=subscription.id))
