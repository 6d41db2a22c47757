"""The certificate's download from the manage link, and the public verification page /bewijs/<code>."""

from __future__ import annotations

from flask import Response, abort, current_app, render_template

from ..database import utcnow
from ..dutch import period
from ..registration.views import registration_or_404
from . import bp
from .pdf import FILENAME, pdf_for
from .services import certificate_statement
from .statement import InvalidCode, verify


@bp.get("/r/<token>/bewijs-van-deelname.pdf")
def download(token: str):
    """The certificate, while the registration exists and qualifies; else the 404 page."""
    registration = registration_or_404(token)
    statement = certificate_statement(registration, utcnow())
    if statement is None:
        abort(404)
    return Response(pdf_for(registration, statement), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{FILENAME}"'})


@bp.get("/bewijs/<code>")
def verification(code: str):
    """Confirm what a certificate says, from its code alone; a changed or forged code is refused."""
    try:
        statement = verify(code)
    except InvalidCode:
        return render_template("certificates/refused.html"), 404
    return render_template("certificates/verified.html", statement=statement,
                           when=period(statement.starts_at, statement.ends_at),
                           organiser=current_app.config["CERTIFICATE_ORGANISER"])


@bp.app_context_processor
def _certificate_links():
    """`certificate_available(registration)` for the manage page, which knows nothing of certificates."""
    return {"certificate_available": lambda registration: certificate_statement(registration, utcnow()) is not None}
