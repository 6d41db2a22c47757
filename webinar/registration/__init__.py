"""Registrations: signing up, changing details, cancelling, the waiting list."""

# Both register with lower rooms at import: the mail kinds with mailing, the waiting list with events.
from . import notifications, services  # noqa: F401
