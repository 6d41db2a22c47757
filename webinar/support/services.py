"""Support requests: storing one, the rate limit, organisers' changes, the purge."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from blinker import Namespace
from flask import current_app
from sqlalchemy import delete, exists, select

from ..extensions import db
from .costs import estimate
from .models import (
    CLOSED_STATUSES,
    HELP_TYPES,
    REASONS,
    SECTORS,
    STATUS_LABELS,
    SupportRequest,
    SupportSchool,
    SupportStatus,
)
from .notifications import notify_project_lead, notify_status_changed, notify_submitted



#: sent after a request was stored ("created") or got a new status ("status_changed"), with `request`
support_request_changed = Namespace().signal("support-request-changed")


@dataclass
class SchoolDetails:
    """One school as filled in."""

    name: str
    brin: str
    sector: str
    reason: str
    judgement_date: date | None
    risk_description: str
    half_days: int


@dataclass
class RequestDetails:
    """A whole request as filled in."""

    requester_name: str
    requester_position: str
    requester_email: str
    requester_phone: str
    board_name: str
    help_types: list[str]
    help_text: str
    schools: list[SchoolDetails] = field(default_factory=list)

    @property
    def help_labels(self) -> list[str]:
        return [HELP_TYPES[key] for key in self.help_types]

    @property
    def needs_review(self) -> bool:
        """A school gave no reason to be in the target group."""
        return any(school.reason == "none" for school in self.schools)


def find_submission(key: str) -> SupportRequest | None:
    return db.session.scalar(select(SupportRequest).where(SupportRequest.submission_key == key))


def submit_request(details: RequestDetails, key: str, now: datetime) -> SupportRequest:
    """Store the request and queue both e-mails; the same key twice stores it once."""
    existing = find_submission(key)
    if existing is not None:
        return existing
    estimate(school.half_days for school in details.schools)  # refuses more than 16 half-days
    request = SupportRequest(
        submission_key=key,
        requester_name=details.requester_name,
        requester_position=details.requester_position,
        requester_email=details.requester_email,
        requester_phone=details.requester_phone,
        board_name=details.board_name,
        help_types=",".join(details.help_types),
        help_text=details.help_text,
        needs_review=details.needs_review,
        privacy_accepted_at=now,
        created_at=now,
        status_changed_at=now,
        schools=[SupportSchool(position=number, **vars(school)) for number, school in enumerate(details.schools)],
    )
    db.session.add(request)
    db.session.flush()
    notify_submitted(request)
    notify_project_lead(request)
    support_request_changed.send("created", request=request)
    return request


def update_request(request: SupportRequest, status: SupportStatus, adviser: str, notes: str,
                   inform: bool, now: datetime, status_note: str = "") -> list[str]:
    """Apply an organiser's changes; what changed, in words (for the audit log). `status_note` goes to the
    requester with the status e-mail; ValueError (in Dutch) when there is no such e-mail to carry it."""
    if status_note and not (inform and status != request.status):
        raise ValueError("Een bericht aan de aanvrager gaat alleen mee met de e-mail over een nieuwe status.")
    changes = []
    status_changed = status != request.status
    if status_changed:
        changes.append(f"status {STATUS_LABELS[request.status]} → {STATUS_LABELS[status]}")
        request.status = status
        request.status_changed_at = now
        request.status_version += 1
        request.closed_at = now if status in CLOSED_STATUSES else None
    if adviser != request.adviser:
        changes.append(f"adviseur: {adviser or '(geen)'}")
        request.adviser = adviser
    if notes != request.notes:
        changes.append("notities gewijzigd")
        request.notes = notes
    if inform and status_changed:
        request.status_note = status_note  # the mail shows the note of its own status change, or none
    db.session.flush()
    if status_changed:
        support_request_changed.send("status_changed", request=request)
    if inform and status_changed and notify_status_changed(request):
        # The note's text stays out of the audit log: it is purged with the request.
        changes.append("aanvrager krijgt bericht" + (" met een toelichting" if status_note else ""))
    return changes


def purge_closed_requests(now: datetime) -> int:
    """Delete requests closed (done or declined) more than SUPPORT_PURGE_DAYS ago; how many."""
    cutoff = now - timedelta(days=current_app.config["SUPPORT_PURGE_DAYS"])
    closed = select(SupportRequest.id).where(
        SupportRequest.status.in_(CLOSED_STATUSES), SupportRequest.closed_at <= cutoff
    )
    ids = list(db.session.scalars(closed))
    if not ids:
        return 0
    # One statement; the foreign keys cascade to the schools and the outbox rows.
    db.session.execute(delete(SupportRequest).where(SupportRequest.id.in_(ids)))
    db.session.flush()
    return len(ids)


@dataclass
class SupportFilters:
    """The filters of the organisers' list and export, from query args."""

    status: str = ""
    sector: str = ""
    reden: str = ""

    @classmethod
    def from_args(cls, args) -> SupportFilters:
        status = args.get("status", "")
        return cls(
            status=status if status in {s.value for s in SupportStatus} else "",
            sector=args.get("sector", "") if args.get("sector") in SECTORS else "",
            reden=args.get("reden", "") if args.get("reden") in REASONS else "",
        )

    def as_args(self) -> dict[str, str]:
        return {name: value for name, value in vars(self).items() if value}


def requests_query(filters: SupportFilters):
    """Requests matching the filters, newest first; sector and reason match any of the schools."""
    query = select(SupportRequest).order_by(SupportRequest.created_at.desc(), SupportRequest.id.desc())
    if filters.status:
        query = query.where(SupportRequest.status == SupportStatus(filters.status))
    school = []
    if filters.sector:
        school.append(SupportSchool.sector == filters.sector)
    if filters.reden:
        school.append(SupportSchool.reason == filters.reden)
    if school:
        query = query.where(exists().where(SupportSchool.request_id == SupportRequest.id, *school))
    return query
