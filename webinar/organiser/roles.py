"""Who may do what in the organiser area: four roles, each a set of permissions.

Every view and export names the permission it needs (`requires`), and templates
ask `may(...)` before they show a link or a button, so a role never sees an
action it cannot take. The table is the one place where a role's reach is set.

- beheerder: everything, including accounts and the audit log;
- organisator: sets up meetings, registrations, messages and attendance;
- contactpersoon: reads meetings, registrations and attendance, and exports them;
- adviseur: handles the support requests (Leren verbeteren), and exports them.

Every logged-in role may look after its own account (password, two-factor, sessions, API tokens and
webhooks) and log out (EVERY_ROLE).
"""

from __future__ import annotations

from functools import wraps
from typing import Protocol

from flask import abort, redirect, request, url_for
from flask_login import current_user

#: role → label shown to people
ROLES: dict[str, str] = {
    "beheerder": "Beheerder",
    "organisator": "Organisator",
    "contactpersoon": "Contactpersoon",
    "adviseur": "Adviseur",
}

#: what each role may do, in words, for the accounts page
ROLE_DESCRIPTIONS: dict[str, str] = {
    "beheerder": "Alles, ook accounts beheren en het logboek lezen.",
    "organisator": "Bijeenkomsten opzetten, aanmeldingen, berichten en aanwezigheid.",
    "contactpersoon": "Bijeenkomsten, aanmeldingen en aanwezigheid inzien en exporteren.",
    "adviseur": "Ondersteuningsaanvragen behandelen en exporteren.",
}

#: the role of an account made before roles existed, and of `flask organisers create`
DEFAULT_ROLE = "beheerder"

EVENTS_VIEW = "events.view"  # the events list, a meeting's dashboard, registrations and attendance
EVENTS_EDIT = "events.edit"  # create, edit, publish, close, duplicate, cancel a meeting
REGISTRATIONS_EDIT = "registrations.edit"  # add, change, import, cancel, promote registrations
ATTENDANCE_EDIT = "attendance.edit"  # import reports, mark present or absent, walk-ins
MESSAGES_SEND = "messages.send"  # compose, test and send messages to registrants
EXPORT = "export"  # CSV and XLSX of registrations, attendance and the programme
PROGRAMME_VIEW = "programme.view"  # the overview across meetings
ORGANISATIONS_EDIT = "organisations.edit"  # correct and merge organisations
SUPPORT_VIEW = "support.view"  # read support requests
SUPPORT_EDIT = "support.edit"  # change a support request's status, write to the requester
ACCOUNTS_MANAGE = "accounts.manage"  # invite organisers, change roles, deactivate accounts
AUDIT_VIEW = "audit.view"  # the audit log

PERMISSIONS: dict[str, frozenset[str]] = {
    "beheerder": frozenset({
        EVENTS_VIEW, EVENTS_EDIT, REGISTRATIONS_EDIT, ATTENDANCE_EDIT, MESSAGES_SEND, EXPORT,
        PROGRAMME_VIEW, ORGANISATIONS_EDIT, SUPPORT_VIEW, SUPPORT_EDIT, ACCOUNTS_MANAGE, AUDIT_VIEW,
    }),
    "organisator": frozenset({
        EVENTS_VIEW, EVENTS_EDIT, REGISTRATIONS_EDIT, ATTENDANCE_EDIT, MESSAGES_SEND, EXPORT,
        PROGRAMME_VIEW, ORGANISATIONS_EDIT,
    }),
    "contactpersoon": frozenset({EVENTS_VIEW, EXPORT, PROGRAMME_VIEW}),
    # Support requests only. EXPORT reaches only what a role may see: for an adviseur, the support requests.
    "adviseur": frozenset({SUPPORT_VIEW, SUPPORT_EDIT, EXPORT}),
}

ALL_PERMISSIONS: frozenset[str] = PERMISSIONS["beheerder"]

#: the organiser pages of one's own account, open to every logged-in role (the rest names a permission)
EVERY_ROLE: frozenset[str] = frozenset({
    "organiser.logout", "organiser.password", "organiser.account", "organiser.log_out_elsewhere",
    "organiser.two_factor_setup", "organiser.two_factor_disable", "organiser.new_recovery_codes_page",
    # one's own API tokens and webhooks: what they reach is bounded by the role (api/auth.py, api/webhooks.py)
    "api_tokens.tokens", "api_tokens.revoke", "api_webhooks.webhooks", "api_webhooks.webhook",
    "api_webhooks.rotate", "api_webhooks.stop", "api_webhooks.resend",
})

#: where a role lands after logging in: the first of these pages it may see
START_PAGES: tuple[tuple[str, str], ...] = (
    (EVENTS_VIEW, "organiser.events"),
    (SUPPORT_VIEW, "support_organiser.support_requests"),
    (PROGRAMME_VIEW, "organiser.programme_overview"),
)


class HasRole(Protocol):
    role: str


def may(organiser: HasRole | None, permission: str) -> bool:
    """Whether this organiser's role includes the permission (an unknown role includes nothing)."""
    if permission not in ALL_PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    role = getattr(organiser, "role", None)
    return permission in PERMISSIONS.get(role or "", frozenset())


def current_may(permission: str) -> bool:
    """`may` for the organiser who is logged in (False when nobody is): the templates' helper."""
    return bool(current_user and current_user.is_authenticated) and may(current_user, permission)


def requires(*permissions: str):
    """A view decorator: 403 unless the logged-in organiser's role has every permission named.

    Login itself is checked earlier, for every path under /organiser (access.require_login).
    The permission is kept on the view, so tests can read which one guards every URL.
    """
    for permission in permissions:
        if permission not in ALL_PERMISSIONS:
            raise KeyError(f"unknown permission {permission!r}")

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if not all(may(current_user, permission) for permission in permissions):
                abort(403)
            return view(*args, **kwargs)

        guarded.required_permissions = frozenset(permissions)
        return guarded

    return decorate


def start_endpoint(organiser: HasRole | None) -> str:
    """The endpoint of the first page in START_PAGES this organiser may see (else the password page)."""
    return next((endpoint for permission, endpoint in START_PAGES if may(organiser, permission)), "organiser.password")


def front_door(view):
    """For the area's first page: a role that may not see it is sent on to its own start page, not refused."""

    @wraps(view)
    def door(*args, **kwargs):
        endpoint = start_endpoint(current_user)
        if endpoint != request.endpoint:
            return redirect(url_for(endpoint))
        return view(*args, **kwargs)

    return door


def role_label(role: str) -> str:
    """The Dutch label of a role ("Onbekend" for one that no longer exists)."""
    return ROLES.get(role, "Onbekend")
