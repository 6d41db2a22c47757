"""The certificate as a PDF: A4, fonts embedded, text selectable, tagged (PDF/UA-1) in Dutch.

Made with WeasyPrint from an HTML template (templates/certificates/pdf.html),
the verification link's QR code drawn by segno as SVG. WeasyPrint needs
Pango from the operating system (Debian: libpango-1.0-0, libpangoft2-1.0-0)
and the DejaVu fonts (fonts-dejavu-core); see the README.
"""

from __future__ import annotations

import segno
from flask import current_app, render_template

from ..dutch import period
from ..links import external_url
from ..registration.models import Registration
from .statement import Statement, sign

#: what the PDF attachment and download are called
FILENAME = "bewijs-van-deelname.pdf"


def qr_svg(url: str) -> str:
    """The link as a QR code in SVG, for an <img> data: URL (error correction M, a quiet zone of 4)."""
    return segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=4, omitsize=True)


def certificate_pdf(statement: Statement, verify_url: str, *, contact_name: str = "") -> bytes:
    """The certificate for this statement with its verification link and QR code."""
    html = render_template(
        "certificates/pdf.html", statement=statement, when=period(statement.starts_at, statement.ends_at),
        verify_url=verify_url, qr=qr_svg(verify_url), organiser=current_app.config["CERTIFICATE_ORGANISER"],
        contact_name=contact_name,
    )
    # Imported here, not at the top: WeasyPrint loads Pango when imported, and
    # the rest of the app (and a worker with no certificate to make) runs without it.
    from weasyprint import HTML

    return HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")


def verify_url(statement: Statement) -> str:
    """The absolute verification link for a statement (under BASE_URL)."""
    return external_url("certificates.verification", code=sign(statement))


def pdf_for(registration: Registration, statement: Statement) -> bytes:
    """The registrant's certificate as a PDF, naming the event's contact person."""
    return certificate_pdf(statement, verify_url(statement), contact_name=registration.event.contact_name)
