"""Support requests (Leren verbeteren) through the API: the organisers' list with its filters, one request,
and changing its status as the organiser's page does."""

from __future__ import annotations

from flask import abort, request
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from ..database import utcnow
from ..extensions import db
from ..organiser.roles import SUPPORT_EDIT, SUPPORT_VIEW
from ..support.forms import SupportUpdateForm
from ..support.models import STATUS_LABELS, SupportRequest, SupportStatus
from ..support.services import SupportFilters, requests_query, update_request
from . import bp
from .auth import needs
from .common import audit_api, documented
from .forms import checked, form_data
from .problems import problem
from .registrations import decode_cursor, encode_cursor
from .schemas import SupportArgs, SupportChange, SupportOut, SupportPage


def support_json(found: SupportRequest) -> dict:
    """One request as the API shows it."""
    names = ("id", "status_label", "organisation", "requester_name", "requester_position", "requester_email",
             "requester_phone", "help_text", "needs_review", "adviser", "notes", "created_at", "status_changed_at")
    shown = {name: getattr(found, name) for name in names}
    return {**shown, "status": found.status.value, "schools": len(found.schools),
            "help_types": [kind for kind in found.help_types.split(",") if kind]}


def _request_or_404(request_id: int) -> SupportRequest:
    found = db.session.get(SupportRequest, request_id)
    if found is None:
        abort(404, "Deze aanvraag bestaat niet (meer).")
    return found


@bp.get("/support-requests")
@bp.arguments(SupportArgs, location="query")
@bp.response(200, SupportPage)
@documented(400, 422)
@needs(SUPPORT_VIEW)
def list_requests(args: dict):
    """Requests, newest first, with the organisers' filters (status, sector, reden), by cursor."""
    query = requests_query(SupportFilters.from_args(request.args)).options(selectinload(SupportRequest.schools))
    if args.get("cursor"):
        after = db.session.get(SupportRequest, decode_cursor(args["cursor"]))
        if after is None:
            abort(400, "Deze cursor hoort niet (meer) bij deze lijst; begin opnieuw zonder cursor.")
        query = query.where((SupportRequest.created_at < after.created_at)
                            | ((SupportRequest.created_at == after.created_at) & (SupportRequest.id < after.id)))
    limit = args.get("limit", 50)
    found = list(db.session.scalars(query.limit(limit + 1)))
    page, more = found[:limit], len(found) > limit
    return {"items": [support_json(item) for item in page],
            "next_cursor": encode_cursor(page[-1].id) if more else None}


@bp.get("/support-requests/<int:request_id>")
@bp.response(200, SupportOut)
@documented()
@needs(SUPPORT_VIEW)
def get_request(request_id: int):
    """One request."""
    return support_json(_request_or_404(request_id))


@bp.patch("/support-requests/<int:request_id>")
@bp.arguments(SupportChange)
@bp.response(200, SupportOut)
@documented(422)
@needs(SUPPORT_EDIT)
def change_request(values: dict, request_id: int):
    """Change status, adviser or notes; with `inform` the requester gets an e-mail about a new status."""
    found = _request_or_404(request_id)
    blank = SupportUpdateForm(formdata=None, obj=found, meta={"csrf": False})
    blank.status.data = found.status.value
    blank.status_note.data = ""
    blank.inform.data = False
    form, refused = _checked_update(form_data(blank, values), found)
    if refused:
        return refused
    if form.status.data not in {status.value for status in SupportStatus}:
        return problem(422, errors=[{"field": "status", "message": "Kies een status uit de lijst."}])
    try:
        changes = update_request(found, SupportStatus(form.status.data), form.adviser.data or "",
                                 form.notes.data or "", form.inform.data, utcnow(), form.status_note.data or "")
    except ValueError as error:
        db.session.rollback()
        return problem(422, errors=[{"field": "status_note", "message": str(error)}])
    if changes:
        audit_api("support.update", f"aanvraag {found.id} ({found.organisation}): " + "; ".join(changes))
    db.session.commit()
    return support_json(found)


def _checked_update(data, found: SupportRequest):
    class Update(SupportUpdateForm):
        current_status = found.status.value

    def build(*args, **kwargs):
        form = Update(*args, **kwargs)
        form.status.choices = [SelectChoice(status.value, label) for status, label in STATUS_LABELS.items()]
        return form

    return checked(build, data)
