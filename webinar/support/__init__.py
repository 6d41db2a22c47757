"""Support requests: schools and boards ask Leren verbeteren for an adviser's help."""

from flask import Blueprint

#: the public request form
bp = Blueprint("support", __name__)
#: the organiser's pages on support requests, under /organiser: the organiser's
#: login guard covers them, since it goes by path
organiser_bp = Blueprint("support_organiser", __name__, url_prefix="/organiser")

# Last, as microblog's packages do: each module adds its routes to its blueprint when
# imported; notifications registers the support mail kinds with mailing.
from . import notifications, organiser, views  # noqa: E402, F401
