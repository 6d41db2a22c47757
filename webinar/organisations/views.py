"""The organiser's "Organisaties" page: the organisations as matched, correcting one, merging several."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..forms import EmptyForm, search_words
from ..organiser.roles import EVENTS_VIEW, ORGANISATIONS_EDIT, requires
from ..registration.models import SECTORS
from . import bp
from .forms import OrganisationForm
from .grouping import OrganisationGroup, organisation_groups
from .keys import brin_key
from .services import KeyTaken, correct_organisation, merge_groups

CHANGED_MEANWHILE = "Een collega wijzigde deze organisaties net. Bekijk de lijst en probeer het opnieuw."


@bp.get("/organisaties")
@requires(EVENTS_VIEW)
def organisations():
    """Every organisation as registrations and support requests are grouped, with their counts."""
    return render_template("organisations/list.html", groups=organisation_groups(), form=EmptyForm(),
                           sector_labels=SECTORS)


def _group_or_404(ref: str) -> OrganisationGroup:
    found = next((group for group in organisation_groups() if group.ref == ref), None)
    if found is None:
        abort(404)
    return found


@bp.route("/organisaties/corrigeren", methods=["GET", "POST"])
@requires(EVENTS_VIEW, ORGANISATIONS_EDIT)
def correct():
    """Correct one organisation's name, type, BRIN and board; kept for every report from then on."""
    group = _group_or_404(search_words(request.args.get("groep"), 500))
    form = OrganisationForm(data=None if request.method == "POST" else {
        "name": group.name, "organisation_type": group.organisation_type, "brin": group.brin,
        "board_name": group.board_name, "sector": group.organisation.sector if group.organisation else ""})
    if form.validate_on_submit():
        correction = form.correction()
        try:
            organisation = correct_organisation(group, correction, current_user)
            db.session.commit()
        except (IntegrityError, StaleDataError):  # another organiser stored or merged it a moment ago
            db.session.rollback()
            flash(CHANGED_MEANWHILE, "error")
            return redirect(url_for("organisations.organisations"))
        except KeyTaken as taken:
            other, on_brin = taken.other.name, taken.key == brin_key(correction.brin)
            db.session.rollback()
            (form.brin if on_brin else form.name).errors.append(
                f"{'Deze BRIN-code' if on_brin else 'Deze naam'} hoort al bij de organisatie ‘{other}’. "
                "Voeg de twee samen op de lijst van organisaties.")
        else:
            flash(f"De organisatie ‘{organisation.name}’ is opgeslagen.", "success")
            return redirect(url_for("organisations.organisations"))
    status = 422 if form.errors else 200
    return render_template("organisations/correct.html", group=group, form=form, sector_labels=SECTORS), status


@bp.post("/organisaties/samenvoegen")
@requires(EVENTS_VIEW, ORGANISATIONS_EDIT)
def merge():
    """Merge the chosen organisations into one (see merge_groups), then offer to correct the result."""
    if not EmptyForm().validate():
        abort(400)
    chosen = set(request.form.getlist("groep"))
    groups = [group for group in organisation_groups() if group.ref in chosen]
    if len(groups) < 2:
        flash("Kies twee of meer organisaties om samen te voegen.", "error")
        return redirect(url_for("organisations.organisations"))
    try:
        organisation = merge_groups(groups, current_user)
        db.session.commit()
    except (IntegrityError, StaleDataError):  # another organiser changed one of them a moment ago
        db.session.rollback()
        flash(CHANGED_MEANWHILE, "error")
        return redirect(url_for("organisations.organisations"))
    flash(f"{len(groups)} organisaties zijn samengevoegd tot ‘{organisation.name}’. Controleer naam, soort, "
          "BRIN-code en bestuur.", "success")
    return redirect(url_for("organisations.correct", groep=f"o{organisation.id}"))
