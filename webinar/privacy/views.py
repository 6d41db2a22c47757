"""The registrant's own request to remove everything stored about them, from their manage link."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from ..extensions import db
from ..forms import EmptyForm
from ..registration.views import registration_or_404
from . import bp
from .services import erase_own_registration


@bp.route("/r/<token>/verwijderen", methods=["GET", "POST"])
def erase(token: str):
    """Ask to confirm, then remove the registration and everything stored about it."""
    registration = registration_or_404(token)
    form = EmptyForm()
    if request.method == "POST" and form.validate():
        slug = registration.event.slug
        erase_own_registration(registration)
        db.session.commit()
        flash("Uw aanmelding en al uw gegevens zijn verwijderd. Uw persoonlijke links werken niet meer.",
              "success")
        return redirect(url_for("registration.show", slug=slug))
    return render_template(
        "privacy/erase.html", registration=registration, event=registration.event, form=form, token=token,
    )
