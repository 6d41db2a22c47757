"""The organiser's changes to organisations: keep a corrected one, merge several. They flush, never commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from ..audit import Actor, audit
from ..extensions import db
from .grouping import OrganisationGroup
from .keys import brin_key, name_key
from .models import Organisation, OrganisationKey


class KeyTaken(Exception):
    """The BRIN code or name already belongs to another organisation: merge them instead."""

    def __init__(self, key: str, other: Organisation):
        super().__init__(key)
        self.key, self.other = key, other


@dataclass(frozen=True)
class Correction:
    """What the organiser sets of an organisation."""

    name: str
    organisation_type: str
    brin: str = ""
    board_name: str = ""
    #: a key of SECTORS, or "" (then the sector its registrations and requests give)
    sector: str = ""


def keep_group(group: OrganisationGroup) -> Organisation:
    """The group's organisation, stored with the keys its members were matched by when it was not yet."""
    if group.organisation is not None:
        return group.organisation
    organisation = Organisation(name=group.name, organisation_type=group.organisation_type, brin=group.brin,
                                board_name=group.board_name, sector=group.sector)
    organisation.keys = [OrganisationKey(key=key) for key in sorted(group.match_keys)]
    db.session.add(organisation)
    db.session.flush()
    return organisation


def _claim(organisation: Organisation, key: str) -> None:
    """Give the key to the organisation; KeyTaken when another holds it."""
    found = db.session.scalar(select(OrganisationKey).where(OrganisationKey.key == key))
    if found is None:
        organisation.keys.append(OrganisationKey(key=key))
    elif found.organisation_id != organisation.id:
        raise KeyTaken(key, found.organisation)


def correct_organisation(group: OrganisationGroup, correction: Correction, organiser: Actor) -> Organisation:
    """Set name, type, BRIN and board. The new BRIN and name become keys of the organisation, so later
    registrations with them land here; KeyTaken when another organisation has one of them."""
    organisation = keep_group(group)
    before = (organisation.name, organisation.organisation_type, organisation.brin, organisation.board_name,
              organisation.sector)
    for key in ([brin_key(correction.brin)] if correction.brin else []) + [name_key(correction.name)]:
        _claim(organisation, key)
    organisation.name, organisation.organisation_type = correction.name, correction.organisation_type
    organisation.brin, organisation.board_name = correction.brin, correction.board_name
    organisation.sector = correction.sector
    db.session.flush()
    after = (organisation.name, organisation.organisation_type, organisation.brin, organisation.board_name,
             organisation.sector)
    changed = ", ".join(f"{label}: ‘{old}’ → ‘{new}’" for label, old, new
                        in zip(("naam", "soort", "BRIN", "bestuur", "sector"), before, after) if old != new)
    audit(organiser, "organisation.edit", f"organisatie {organisation.id} gecorrigeerd: {changed or 'niets gewijzigd'}")
    return organisation


def merge_groups(groups: Sequence[OrganisationGroup], organiser: Actor) -> Organisation:
    """Merge the groups into one: every key of the others moves to it. Needs two or more.

    The one kept is a corrected organisation if there is one (its corrections stay),
    else one with a BRIN code, else the one with the most registrations and requests.
    """
    if len(groups) < 2:
        raise ValueError("merging needs two or more organisations")
    groups = sorted(groups, key=lambda group: (group.organisation is None, not group.brin, -len(group.members)))
    target = keep_group(groups[0])
    names = []
    for group in groups[1:]:
        names.append(group.name)
        if group.organisation is None:
            target.keys.extend(OrganisationKey(key=key) for key in sorted(group.match_keys))
            continue
        for key in list(group.organisation.keys):
            key.organisation = target
        db.session.flush()
        db.session.delete(group.organisation)
    db.session.flush()
    audit(organiser, "organisation.merge",
          f"samengevoegd in organisatie {target.id} ‘{target.name}’: " + ", ".join(f"‘{name}’" for name in names))
    return target
