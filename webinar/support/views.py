"""The public request form at /ondersteuning: fill in, check the estimate, send."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError

from ..database import utcnow
from ..extensions import db
from . import bp
from .costs import estimate
from .forms import SupportRequestForm
from .models import REASONS, SECTORS
from .services import submit_request


@bp.app_context_processor
def support_labels() -> dict:
    """Labels for sector and target-group reason, in pages and e-mails."""
    return {"SECTORS": SECTORS, "REASONS": REASONS, "zip": zip}


def _form_page(form: SupportRequestForm, status: int = 200, notice: str = ""):
    return render_template("support/form.html", form=form, notice=notice), status


@bp.get("/ondersteuning")
def form():
    """The request form, with one school row."""
    form = SupportRequestForm()
    form.ensure_key()
    return _form_page(form)


@bp.post("/ondersteuning")
def submit():
    """Add or remove a school row, show the preview, go back to editing, or send."""
    form = SupportRequestForm()
    form.ensure_key()
    action = request.form.get("actie", "controleren")
    if action == "school_toevoegen":
        notice = "" if form.add_school() else "Meer scholen passen niet in één aanvraag."
        return _form_page(form, notice=notice)
    if "verwijder_school" in request.form:
        form.remove_school(request.form["verwijder_school"])
        return _form_page(form)
    if action == "wijzigen":
        return _form_page(form)
    if not form.validate():
        return _form_page(form, status=422)
    if form.is_bot():
        return redirect(url_for(".sent"))
    if action != "versturen":
        details = form.details()
        costs = estimate(school.half_days for school in details.schools)
        return render_template("support/preview.html", form=form, details=details, estimate=costs)
    return _send(form)


def _send(form: SupportRequestForm):
    try:
        submit_request(form.details(), form.key.data, utcnow())
        db.session.commit()
    except IntegrityError:  # the same form sent twice at the same moment: the other one stored it
        db.session.rollback()
    return redirect(url_for(".sent"))


@bp.get("/ondersteuning/verstuurd")
def sent():
    """Thanks: what happens next."""
    return render_template("support/sent.html")


@bp.get("/ondersteuning/privacy")
def privacy():
    """What is kept of a request, for what, and for how long."""
    return render_template("support/privacy.html")
