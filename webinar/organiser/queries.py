"""Which registrations an organiser means: filters shared by the table, exports and messages."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from flask import request
from sqlalchemy import Select, case, exists, func, or_, select

from ..attendance.models import Attendance
from ..events.models import Event
from ..extensions import db
from ..forms import search_words
from ..registration.models import Registration, RegistrationStatus

#: tussenvoegsels people also type into the last-name field, longest first ("van den " before "van ")
TUSSENVOEGSELS = sorted(
    ["van ", "van de ", "van den ", "van der ", "van het ", "van 't ", "de ", "den ", "der ", "het ", "'t ",
     "in de ", "in 't ", "op de ", "op den ", "uit de ", "uit den ", "te ", "ten ", "ter ", "d'", "la ", "le ", "du "],
    key=len, reverse=True,
)

STATUS_FILTERS = {
    "aangemeld": RegistrationStatus.confirmed,
    "wachtlijst": RegistrationStatus.waitlisted,
    "afgemeld": RegistrationStatus.cancelled,
}


@dataclass(frozen=True)
class Filters:
    """Filters as they appear in query arguments (?q=&rol=&status=&deelgenomen=&adres=)."""

    q: str = ""
    rol: str = ""
    status: str = ""
    #: "ja", "nee" or ""
    deelgenomen: str = ""
    #: "onbereikbaar" (mail to the address came back) or ""
    adres: str = ""

    @classmethod
    def from_args(cls, args) -> Filters:
        """Read filters from request.args, ignoring unknown values."""
        status = args.get("status", "")
        joined = args.get("deelgenomen", "")
        return cls(
            q=search_words(args.get("q")),
            rol=search_words(args.get("rol"), 100),
            status=status if status in STATUS_FILTERS else "",
            deelgenomen=joined if joined in ("ja", "nee") else "",
            adres="onbereikbaar" if args.get("adres", "") == "onbereikbaar" else "",
        )

    def as_args(self) -> dict[str, str]:
        """The non-empty filters, for building links."""
        return {name: value for name, value in self.__dict__.items() if value}


def registrations_query(event: Event, filters: Filters = Filters()) -> Select:
    """The event's registrations matching the filters, by last name (tussenvoegsel ignored)."""
    query = select(Registration).where(Registration.event_id == event.id)
    for word in filters.q.lower().split()[:10]:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (
                        Registration.first_name,
                        Registration.tussenvoegsel,
                        Registration.last_name,
                        Registration.email_normalized,
                        Registration.organisation,
                    )
                )
            )
        )
    if filters.rol:
        query = query.where(Registration.role == filters.rol)
    if filters.status:
        query = query.where(Registration.status == STATUS_FILTERS[filters.status])
    if filters.deelgenomen == "ja":
        query = query.where(joined_clause())
    elif filters.deelgenomen == "nee":
        query = query.where(~joined_clause())
    if filters.adres:
        query = query.where(Registration.unreachable_at.is_not(None))
    return query.order_by(sort_name(), func.lower(Registration.first_name), Registration.id)


def joined_clause():
    """True for a registration with an attendance record (it joined the meeting)."""
    return exists().where(Attendance.registration_id == Registration.id)


@cache
def sort_name():
    """The last name in lower case without a tussenvoegsel typed in front: 'van den Berg' sorts as 'berg'.

    The tussenvoegsels are tried only for a name whose first letter starts one
    ('v' tries 'van den ', 'van ', ...; 'b' tries none), so sorting a long list
    costs the database one comparison per name for most names. Built once:
    the expression is the same for every query.
    """
    name = func.lower(Registration.last_name)
    by_letter: dict[str, list[str]] = {}
    for prefix in TUSSENVOEGSELS:
        by_letter.setdefault(prefix[0], []).append(prefix)
    return case(
        {
            letter: case(*((name.like(prefix + "%"), func.substr(name, len(prefix) + 1)) for prefix in prefixes),
                         else_=name)
            for letter, prefixes in by_letter.items()
        },
        value=func.substr(name, 1, 1),
        else_=name,
    )


def event_registration_or_404(event: Event, registration_id: int) -> Registration:
    """The event's registration with this id, or the 404 page (also when it belongs to another event)."""
    return db.first_or_404(
        select(Registration).where(Registration.id == registration_id, Registration.event_id == event.id)
    )


def page_number(args=None) -> int:
    """The list page asked for (?pagina=), 1 for anything that is not a positive number."""
    value = (request.args if args is None else args).get("pagina", "1")
    return max(int(value), 1) if value.isdigit() else 1
