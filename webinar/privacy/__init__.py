"""Privacy: removing registrants' personal data, keeping anonymous counts."""

from flask import Blueprint

#: the registrant's own "remove my data" page, under their manage link
bp = Blueprint("privacy", __name__)

# Last, as the other packages do: the module adds its routes to bp when imported.
from . import views  # noqa: E402, F401
