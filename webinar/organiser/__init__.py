"""The organiser area and organiser accounts."""

from . import notifications  # noqa: F401 - registers the invitation and broadcast mail kinds with mailing
