"""Organisations that can be counted: matching registrations and support requests to one organisation,
and the organiser's page to correct and merge them."""

from flask import Blueprint

#: under /organiser: the organiser's login guard covers it, since it goes by path
bp = Blueprint("organisations", __name__, url_prefix="/organiser")

from . import views  # noqa: E402, F401
