"""The organiser's API tokens: make one (its secret shown once), see them, revoke one."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, ValidationError

from ..extensions import db
from ..forms import MultiCheckboxField, button_or_400, single_line, strip
from . import tokens_bp as bp
from .models import SCOPES, ApiToken
from .services import MAX_DAYS, create_token, revoke_token, tokens_of


class TokenForm(FlaskForm):
    name = StringField("Naam (waarvoor gebruikt u het?)", [DataRequired("Geef het token een naam."),
                                                           Length(max=100, message="Hoogstens 100 tekens."),
                                                           single_line], filters=[strip])
    scopes = MultiCheckboxField("Wat mag het token?", default=["read"], validate_choice=False,
                                choices=[SelectChoice(key, label) for key, label in SCOPES.items()])
    days = IntegerField("Geldig (dagen)", [DataRequired("Vul een aantal dagen in."),
                                           NumberRange(1, MAX_DAYS, f"Kies 1 tot {MAX_DAYS} dagen.")], default=90)

    def validate_scopes(self, field):
        if not field.data or not set(field.data) <= set(SCOPES):
            raise ValidationError("Kies wat het token mag: lezen, wijzigen of beide.")


@bp.route("", methods=["GET", "POST"])
def tokens():
    """The organiser's tokens and a form for a new one; a new token's secret is shown on this answer only."""
    form = TokenForm()
    secret = None
    if form.validate_on_submit():
        made = create_token(current_user, form.name.data, form.scopes.data, form.days.data)
        db.session.commit()
        secret = made.secret
        form = TokenForm(formdata=None)
    status = 422 if form.errors else 200
    return render_template("api/tokens.html", form=form, tokens=tokens_of(current_user), secret=secret), status


@bp.post("/<int:token_id>/intrekken")
def revoke(token_id: int):
    """Revoke one of the organiser's own tokens: it stops working at once."""
    button_or_400()
    token = db.session.get(ApiToken, token_id)
    if token is None or token.organiser_id != current_user.id:
        abort(404)
    if revoke_token(current_user, token):
        db.session.commit()
        flash(f"Het token {token.name!r} is ingetrokken en werkt niet meer.", "success")
    else:
        flash("Dit token was al ingetrokken.", "error")
    return redirect(url_for(".tokens"))
