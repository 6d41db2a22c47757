"""Support requests: schools and boards ask Leren verbeteren for an adviser's help."""

from . import notifications  # noqa: F401 - registers the support mail kinds with mailing
