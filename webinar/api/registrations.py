"""An event's registrations through the API: the organiser's table (filters, order) with cursor paging,
one registration, adding one by hand, cancelling and promoting."""

from __future__ import annotations

import base64
import binascii

from flask import abort, request
from sqlalchemy import func, select, tuple_

from ..extensions import db
from ..organiser.registrations import _FINISHED, _TAKEN
from ..organiser.queries import Filters, registrations_query, sort_name
from ..organiser.registrations_services import add_registration, changes_allowed, joined_ids, places_over, promote
from ..organiser.roles import EVENTS_VIEW, REGISTRATIONS_EDIT
from ..registration.forms import DetailsForm
from ..registration.models import Registration, RegistrationStatus
from ..registration.services import EmailTaken, RegistrationClosed, cancel_registration
from . import bp
from .auth import needs
from .common import audit_api, documented, event_or_problem
from .forms import checked, form_data
from .problems import problem
from .schemas import (
    CancelRegistrationResult,
    PromoteResult,
    RegistrationArgs,
    RegistrationCreate,
    RegistrationOut,
    RegistrationPage,
)

_FIELDS = ("id", "first_name", "tussenvoegsel", "last_name", "email", "organisation", "organisation_type", "brin",
           "board_name", "sector", "role", "role_other", "question", "created_at", "registered_at", "cancelled_at")


def registration_json(registration: Registration, joined: bool) -> dict:
    """One registration as the API shows it."""
    found = {name: getattr(registration, name) for name in _FIELDS}
    return {**found, "status": registration.status.value, "joined": joined}


def encode_cursor(last_id: int) -> str:
    """An opaque cursor: the last registration of the page (its sort key is read again from it)."""
    return base64.urlsafe_b64encode(f"r{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The registration id in a cursor; a 400 problem for one that is no cursor of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not (text.startswith("r") and text[1:].isdigit() and len(text) < 20):
        abort(400, "Deze cursor is ongeldig; begin opnieuw zonder cursor.")
    return int(text[1:])


def _sort_key():
    """The organiser table's order (registrations_query), as one comparable row."""
    return tuple_(sort_name(), func.lower(Registration.first_name), Registration.id)


@bp.get("/events/<slug>/registrations")
@bp.arguments(RegistrationArgs, location="query")
@bp.response(200, RegistrationPage)
@documented(400, 422)
@needs(EVENTS_VIEW)
def list_registrations(args: dict, slug: str):
    """Registrations, with the organiser table's filters (q, rol, status, deelgenomen) and order (last name).

    Pages follow each other by `next_cursor`: a page starts after the cursor's registration, so
    registrations added meanwhile are not shown twice.
    """
    event = event_or_problem(slug)
    query = registrations_query(event, Filters.from_args(request.args))
    if args.get("cursor"):
        after = db.session.execute(
            select(sort_name(), func.lower(Registration.first_name), Registration.id).where(
                Registration.id == decode_cursor(args["cursor"]), Registration.event_id == event.id)).first()
        if after is None:
            abort(400, "Deze cursor hoort niet (meer) bij deze lijst; begin opnieuw zonder cursor.")
        query = query.where(_sort_key() > tuple_(*after))
    limit = args.get("limit", 50)
    found = list(db.session.scalars(query.limit(limit + 1)))
    page, more = found[:limit], len(found) > limit
    joined = joined_ids([registration.id for registration in page])
    return {"items": [registration_json(item, item.id in joined) for item in page],
            "next_cursor": encode_cursor(page[-1].id) if more else None}


def _registration(slug: str, registration_id: int):
    event = event_or_problem(slug)
    registration = db.session.scalar(
        select(Registration).where(Registration.id == registration_id, Registration.event_id == event.id))
    if registration is None:
        abort(404, "Deze aanmelding bestaat niet bij deze bijeenkomst.")
    return event, registration


@bp.get("/events/<slug>/registrations/<int:registration_id>")
@bp.response(200, RegistrationOut)
@documented()
@needs(EVENTS_VIEW)
def get_registration(slug: str, registration_id: int):
    """One registration."""
    _, registration = _registration(slug, registration_id)
    return registration_json(registration, bool(joined_ids([registration.id])))


@bp.post("/events/<slug>/registrations")
@bp.arguments(RegistrationCreate)
@bp.response(201, RegistrationOut)
@documented(409, 422)
@needs(REGISTRATIONS_EDIT)
def add(values: dict, slug: str):
    """Add a person as an organiser would by hand: also before opening and after closing; a full event
    puts them on the waiting list. They get the usual e-mail."""
    event = event_or_problem(slug)
    form, refused = checked(DetailsForm, form_data(DetailsForm(event, formdata=None, meta={"csrf": False}),
                                                   values), event)
    if refused:
        return refused
    try:
        registration = add_registration(event, form.details())
    except EmailTaken:
        db.session.rollback()
        return problem(409, _TAKEN, errors=[{"field": "email", "message": _TAKEN}])
    except RegistrationClosed:
        db.session.rollback()
        return problem(409, _FINISHED)
    audit_api("registration.add",
              f"aanmelding {registration.id} ({registration.email}) toegevoegd: {registration.status_label}", event)
    db.session.commit()
    return registration_json(registration, False)


@bp.post("/events/<slug>/registrations/<int:registration_id>/cancel")
@bp.response(200, CancelRegistrationResult)
@documented(409)
@needs(REGISTRATIONS_EDIT)
def cancel(slug: str, registration_id: int):
    """Cancel for the registrant (they get an e-mail); waiting people move up into the free place."""
    event, registration = _registration(slug, registration_id)
    if not changes_allowed(event):
        return problem(409, _FINISHED)
    if registration.status == RegistrationStatus.cancelled:
        return problem(409, "Deze aanmelding was al afgemeld.")
    promoted = cancel_registration(registration)
    audit_api("registration.cancel",
              f"aanmelding {registration.id} ({registration.email}) afgemeld; {len(promoted)} van de wachtlijst", event)
    db.session.commit()
    return {"registration": registration_json(registration, bool(joined_ids([registration.id]))),
            "promoted": [person.id for person in promoted]}


@bp.post("/events/<slug>/registrations/<int:registration_id>/promote")
@bp.response(200, PromoteResult)
@documented(409)
@needs(REGISTRATIONS_EDIT)
def promote_one(slug: str, registration_id: int):
    """Give a waiting person a place now, even past the limit (they get an e-mail)."""
    event, registration = _registration(slug, registration_id)
    if not changes_allowed(event):
        return problem(409, _FINISHED)
    if not promote(registration):
        return problem(409, "Deze aanmelding staat niet op de wachtlijst.")
    over = places_over(event)
    audit_api("registration.promote",
              f"aanmelding {registration.id} ({registration.email}) van de wachtlijst gehaald"
              + (f"; {over} boven het maximum" if over else ""), event)
    db.session.commit()
    return {"registration": registration_json(registration, False), "places_over": over}
