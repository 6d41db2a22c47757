"""The API's JSON shapes (marshmallow): they document and type the data; the rules stay in the forms.

Input schemas only say what type each field has: whether a value is acceptable
(lengths, choices, an end after the start) is decided by the same WTForms form
and service the organiser's pages use, so that no rule exists twice.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate



class Strict(Schema):
    class Meta:
        unknown = RAISE


class QueryArgs(Schema):
    class Meta:
        unknown = EXCLUDE  # unknown query arguments are ignored, as on the organiser's pages


class Problem(Schema):
    """RFC 9457 problem details."""

    type = fields.String(metadata={"example": "about:blank"})
    title = fields.String(required=True, metadata={"description": "kort, in het Nederlands"})
    status = fields.Integer(required=True)
    detail = fields.String(metadata={"description": "uitleg, in het Nederlands"})
    instance = fields.String()
    errors = fields.List(fields.Nested(Schema.from_dict({
        "field": fields.String(allow_none=True), "message": fields.String()}, name="FieldError")),
        metadata={"description": "per veld wat er niet klopt"})


# --- events ---------------------------------------------------------------

class EventOut(Schema):
    slug = fields.String(required=True, metadata={"description": "de naam in de link /events/<slug>"})
    title = fields.String(required=True)
    summary = fields.String()
    body = fields.String()
    audience = fields.String()
    practical = fields.String()
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    registration_opens_at = fields.DateTime(allow_none=True)
    registration_closes_at = fields.DateTime(allow_none=True)
    capacity = fields.Integer(allow_none=True, metadata={"description": "null: geen grens"})
    roles = fields.List(fields.String())
    contact_name = fields.String()
    contact_email = fields.String()
    contact_phone = fields.String()
    status = fields.String(required=True, metadata={
        "description": "concept, open, vol, gesloten, afgelopen, geannuleerd of nog niet open"})
    registered = fields.Integer(required=True)
    waiting = fields.Integer(required=True)
    places_left = fields.Integer(allow_none=True)
    draft = fields.Boolean(required=True)
    cancelled_at = fields.DateTime(allow_none=True)
    url = fields.String(required=True, metadata={"description": "de openbare pagina"})


class EventList(Schema):
    items = fields.List(fields.Nested(EventOut), required=True)


_EVENT_FIELDS = {
    "title": fields.String(),
    "slug": fields.String(allow_none=True),
    "starts_at": fields.DateTime(metadata={"description": "tot op de minuut"}),
    "ends_at": fields.DateTime(),
    "summary": fields.String(),
    "body": fields.String(),
    "audience": fields.String(),
    "practical": fields.String(),
    "registration_opens_at": fields.DateTime(allow_none=True),
    "registration_closes_at": fields.DateTime(allow_none=True),
    "capacity": fields.Integer(allow_none=True, metadata={"description": "null: geen grens"}),
    "roles": fields.List(fields.String()),
    "meeting_url": fields.String(allow_none=True, metadata={"description": "geheim: wordt nooit teruggegeven"}),
    "recording_url": fields.String(allow_none=True),
    "contact_name": fields.String(),
    "contact_email": fields.String(),
    "contact_phone": fields.String(),
    "reminder_days_before": fields.Integer(allow_none=True),
    "reminder_local_time": fields.String(metadata={"example": "10:00"}),
    "join_link_minutes_before": fields.Integer(),
    "followup_minutes_after": fields.Integer(),
    "followup_joined_text": fields.String(),
    "followup_missed_text": fields.String(),
    "certificate_enabled": fields.Boolean(),
    "certificate_min_percent": fields.Integer(allow_none=True),
}

EventChange = Strict.from_dict(_EVENT_FIELDS, name="EventChange")


class EventCreate(EventChange):
    """A new event: a draft until it is published. Missing fields get the defaults of the form."""

    title = fields.String(required=True)
    starts_at = fields.DateTime(required=True, metadata={"description": "tot op de minuut"})
    ends_at = fields.DateTime(required=True)


class CancelResult(Schema):
    event = fields.Nested(EventOut, required=True)
    told = fields.Integer(required=True, metadata={"description": "hoeveel aangemelden bericht krijgen"})


# --- registrations --------------------------------------------------------

class RegistrationOut(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": ["confirmed", "waitlisted", "cancelled"]})
    first_name = fields.String(required=True)
    tussenvoegsel = fields.String(required=True)
    last_name = fields.String(required=True)
    email = fields.String(required=True)
    organisation = fields.String(required=True)
    organisation_type = fields.String(required=True)
    brin = fields.String(required=True)
    board_name = fields.String(required=True)
    sector = fields.String(required=True)
    role = fields.String(required=True)
    role_other = fields.String(required=True)
    question = fields.String(required=True)
    joined = fields.Boolean(required=True, metadata={"description": "heeft deelgenomen aan de bijeenkomst"})
    created_at = fields.DateTime(required=True)
    registered_at = fields.DateTime(required=True)
    cancelled_at = fields.DateTime(allow_none=True)


class RegistrationPage(Schema):
    items = fields.List(fields.Nested(RegistrationOut), required=True)
    next_cursor = fields.String(allow_none=True, required=True,
                                metadata={"description": "geef mee als cursor voor de volgende pagina; null: klaar"})


class RegistrationArgs(QueryArgs):
    q = fields.String(metadata={"description": "zoekt in naam, e-mailadres en organisatie"})
    rol = fields.String()
    status = fields.String(metadata={"enum": ["aangemeld", "wachtlijst", "afgemeld"]})
    deelgenomen = fields.String(metadata={"enum": ["ja", "nee"]})
    cursor = fields.String()
    limit = fields.Integer(validate=validate.Range(1, 200), metadata={"default": 50})


class RegistrationCreate(Strict):
    """The details an organiser fills in by hand; the registration form's rules apply."""

    first_name = fields.String(required=True)
    tussenvoegsel = fields.String()
    last_name = fields.String(required=True)
    email = fields.String(required=True)
    organisation = fields.String(required=True)
    organisation_type = fields.String(required=True)
    brin = fields.String()
    board_name = fields.String()
    sector = fields.String()
    role = fields.String(required=True)
    role_other = fields.String()
    question = fields.String()


class PromoteResult(Schema):
    registration = fields.Nested(RegistrationOut, required=True)
    places_over = fields.Integer(required=True, metadata={"description": "aanmeldingen boven het maximum"})


class CancelRegistrationResult(Schema):
    registration = fields.Nested(RegistrationOut, required=True)
    promoted = fields.List(fields.Integer(), required=True,
                           metadata={"description": "de aanmeldingen die van de wachtlijst een plaats kregen"})


# --- attendance -----------------------------------------------------------

class AttendanceOut(Schema):
    registration_id = fields.Integer(required=True)
    first_joined_at = fields.DateTime(required=True)
    last_joined_at = fields.DateTime(required=True)
    join_count = fields.Integer(required=True)
    minutes_present = fields.Integer(allow_none=True)
    source = fields.String(required=True, metadata={"enum": ["link", "report", "manual"]})


class AttendanceList(Schema):
    items = fields.List(fields.Nested(AttendanceOut), required=True)
    walk_ins = fields.Integer(required=True, metadata={"description": "aanwezig zonder aanmelding"})


class ReportUpload(Strict):
    report = fields.String(required=True, metadata={
        "description": "het CSV-rapport van Teams of Zoom, in base64", "format": "byte"})
    other_day_ok = fields.Boolean(metadata={
        "description": "ook inlezen als de datum van het rapport niet die van de bijeenkomst is"})


class ReportResult(Schema):
    matched = fields.Integer(required=True)
    not_confirmed = fields.Integer(required=True)
    walk_ins = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    other_day = fields.Date(allow_none=True, required=True)


# --- support requests -----------------------------------------------------

class SupportOut(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={
        "enum": ["new", "in_progress", "adviser_assigned", "planned", "done", "declined"]})
    status_label = fields.String(required=True)
    organisation = fields.String(required=True)
    requester_name = fields.String(required=True)
    requester_position = fields.String(required=True)
    requester_email = fields.String(required=True)
    requester_phone = fields.String(required=True)
    help_types = fields.List(fields.String(), required=True)
    help_text = fields.String(required=True)
    schools = fields.Integer(required=True, metadata={"description": "aantal scholen"})
    needs_review = fields.Boolean(required=True)
    adviser = fields.String(required=True)
    notes = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    status_changed_at = fields.DateTime(required=True)


class SupportPage(Schema):
    items = fields.List(fields.Nested(SupportOut), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class SupportArgs(QueryArgs):
    status = fields.String()
    sector = fields.String()
    reden = fields.String()
    cursor = fields.String()
    limit = fields.Integer(validate=validate.Range(1, 200), metadata={"default": 50})


class SupportChange(Strict):
    status = fields.String(metadata={
        "enum": ["new", "in_progress", "adviser_assigned", "planned", "done", "declined"]})
    adviser = fields.String()
    notes = fields.String()
    inform = fields.Boolean(metadata={"description": "de aanvrager krijgt een e-mail over de nieuwe status"})
    status_note = fields.String()
