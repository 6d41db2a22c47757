"""Registrations and support requests grouped by organisation: on BRIN where given, else on the name's key.

`organisation_groups` is what every report calls. The organiser's corrections
are `Organisation` rows with the keys that belong to them; a group nobody
corrected exists only here, named after its members.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..registration.models import SCHOOL, UNKNOWN_TYPE, Registration
from ..support.models import SupportRequest, SupportSchool
from .keys import brin_key, match_key, organisation_key
from .models import Organisation, OrganisationKey

#: where a member comes from; KEPT: anonymous counts kept after the privacy purge
REGISTRATION, SUPPORT, KEPT = "aanmelding", "ondersteuning", "bewaard"


@dataclass(frozen=True)
class Member:
    """A registration, or a school of a support request, as matching sees it."""

    #: REGISTRATION or SUPPORT
    source: str
    #: the registration's id, or the support request's
    id: int
    name: str
    brin: str = ""
    organisation_type: str = ""
    board_name: str = ""
    #: a registration's event
    event_id: int | None = None
    #: a registration's status ("confirmed", ...), a support request's ("new", ...)
    status: str = ""
    #: a key of SECTORS, or ""
    sector: str = ""
    #: how many registrations it stands for: more than one for counts kept after a purge
    count: int = 1

    @property
    def display_name(self) -> str:
        """The name with its spaces tidied."""
        return " ".join(self.name.split())


@dataclass
class OrganisationGroup:
    """One organisation with its registrations and support requests."""

    #: "o12" for a corrected organisation, else the key its members were matched by
    ref: str
    organisation: Organisation | None = None
    members: list[Member] = field(default_factory=list)
    #: the keys its members were matched by (kept with the organisation when it is corrected)
    match_keys: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        if self.organisation:
            return self.organisation.name
        return _most_common_of(self.members, "display_name")

    @property
    def key(self) -> str:
        """The normalised key of the name."""
        return organisation_key(self.name)

    @property
    def brin(self) -> str:
        return self.organisation.brin if self.organisation else _most_common_of(self.members, "brin")

    @property
    def organisation_type(self) -> str:
        """The type, or "" when unknown."""
        if self.organisation:
            return self.organisation.organisation_type
        return _most_common_of(self.members, "organisation_type")

    @property
    def type_label(self) -> str:
        return self.organisation_type or UNKNOWN_TYPE

    @property
    def board_name(self) -> str:
        if self.organisation:
            return self.organisation.board_name
        return _most_common_of(self.members, "board_name")

    @property
    def sector(self) -> str:
        """The corrected sector, else the one its registrations and requests give most, or ""."""
        if self.organisation and self.organisation.sector:
            return self.organisation.sector
        return _most_common_of(self.members, "sector")

    def sector_of(self, member: Member) -> str:
        """A member's sector: the corrected one wins, then its own, then the organisation's; or ""."""
        if self.organisation and self.organisation.sector:
            return self.organisation.sector
        return member.sector or self.sector

    def type_of(self, member: Member) -> str:
        """A member's organisation type: the corrected one wins, then its own; or ""."""
        return self.organisation.organisation_type if self.organisation else member.organisation_type

    @property
    def registration_ids(self) -> list[int]:
        return [m.id for m in self.members if m.source == REGISTRATION]

    @property
    def support_request_ids(self) -> list[int]:
        """Each request once, also when several of its schools are here."""
        return sorted({m.id for m in self.members if m.source == SUPPORT})


def _most_common_of(members: Iterable[Member], attribute: str) -> str:
    """The most frequent non-empty value of the attribute (the first seen on a tie), or "".

    Each member weighs as many registrations as it stands for.
    """
    counts: Counter = Counter()
    for member in members:
        if value := getattr(member, attribute):
            counts[value] += member.count
    return counts.most_common(1)[0][0] if counts else ""


def group_members(members: Iterable[Member], kept: dict[str, Organisation]) -> list[OrganisationGroup]:
    """Group by BRIN where given; without one by the name's key, which joins the one BRIN seen with that name.

    `kept` maps keys to the organiser's organisations: a key listed there goes
    to that organisation, whatever the rule would say. Sorted by key.
    """
    members = list(members)
    brins_by_name: dict[str, set[str]] = defaultdict(set)
    for member in members:
        if member.brin:
            brins_by_name[organisation_key(member.name)].add(member.brin)
    groups: dict[str, OrganisationGroup] = {}
    for member in members:
        matched_by, group_key = _match(member, brins_by_name, kept)
        organisation = kept.get(group_key)
        ref = f"o{organisation.id}" if organisation else group_key
        group = groups.setdefault(ref, OrganisationGroup(ref, organisation))
        group.members.append(member)
        group.match_keys.add(matched_by)
    return sorted(groups.values(), key=lambda group: (group.key, group.ref))


def _match(member: Member, brins_by_name: dict[str, set[str]], kept: dict) -> tuple[str, str]:
    """(the key the member is matched by, the key of its group)."""
    key = match_key(member.name, member.brin)
    if member.brin or key in kept:
        return key, key
    brins = brins_by_name.get(organisation_key(member.name), set())
    if len(brins) == 1:  # a name used by one BRIN only: that school
        return key, brin_key(next(iter(brins)))
    return key, key


def kept_keys() -> dict[str, Organisation]:
    """Every key the organiser's organisations hold -> the organisation."""
    rows = db.session.execute(select(OrganisationKey.key, Organisation).join(Organisation)).all()
    return {key: organisation for key, organisation in rows}


def registration_members(event_ids: Collection[int] | None = None) -> list[Member]:
    """Every registration (of these events), any status."""
    query = select(Registration.id, Registration.organisation, Registration.brin, Registration.organisation_type,
                   Registration.board_name, Registration.event_id, Registration.status, Registration.sector
                   ).order_by(Registration.id)
    if event_ids is not None:
        query = query.where(Registration.event_id.in_(list(event_ids)))
    return [Member(REGISTRATION, id_, name, brin, kind, board, event_id, status.value, sector)
            for id_, name, brin, kind, board, event_id, status, sector in db.session.execute(query)]


def support_members(received_from: datetime | None = None, received_until: datetime | None = None) -> list[Member]:
    """Every school of every support request (received in [from, until)); a school is of type "School"."""
    query = (select(SupportRequest.id, SupportSchool.name, SupportSchool.brin, SupportRequest.board_name,
                    SupportRequest.status, SupportSchool.sector)
             .join(SupportSchool.request).order_by(SupportRequest.id, SupportSchool.position))
    if received_from is not None:
        query = query.where(SupportRequest.created_at >= received_from)
    if received_until is not None:
        query = query.where(SupportRequest.created_at < received_until)
    return [Member(SUPPORT, id_, name, brin, SCHOOL, board, None, status.value, sector)
            for id_, name, brin, board, status, sector in db.session.execute(query)]


def organisation_groups(
    event_ids: Collection[int] | None = None,
    received_from: datetime | None = None,
    received_until: datetime | None = None,
    *,
    with_support: bool = True,
) -> list[OrganisationGroup]:
    """Registrations (of these events, or all) and support requests (received in the period, or all), by organisation."""
    members = registration_members(event_ids)
    if with_support:
        members += support_members(received_from, received_until)
    return group_members(members, kept_keys())
