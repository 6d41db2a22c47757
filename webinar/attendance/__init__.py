"""Joining through personal links, attendance records, meeting reports; the planned-mail sweep."""

from . import schedules  # noqa: F401 - registers the planned-mail sweep with mailing
