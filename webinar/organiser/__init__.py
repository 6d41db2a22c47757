"""The organiser area and organiser accounts: its blueprint, and the modules that add its pages."""

from flask import Blueprint

bp = Blueprint("organiser", __name__, url_prefix="/organiser")

# Last, as microblog's packages do: each module adds its routes to bp when it is
# imported, so a page module that is not listed here has no URL
# (tests/test_organiser_wiring.py checks that none is left out).
# notifications registers the invitation and broadcast mail kinds with mailing.
from . import (  # noqa: E402, F401
    access,
    account_views,
    accounts,
    attendance,
    attendance_import,
    audit_log,
    broadcast_views,
    dashboard,
    event_setup,
    exports,
    notifications,
    oidc,
    previews,
    programme_views,
    registrations,
    signin,
    views,
)
