"""Certificates of attendance ("bewijs van deelname"): the PDF, its download, its verification page.

Who qualifies is decided in services.py from the attendance records
(attendance/presence.py counts the minutes); the PDF goes with the follow-up
to those who joined (notifications.py registers it with the registration
mail) and can be downloaded from the manage link; the verification link
carries a signed statement (statement.py) that outlives the privacy purge.
"""

from flask import Blueprint

bp = Blueprint("certificates", __name__)

# Last, as the other packages do: the modules add their routes and hooks when imported.
from . import notifications, views  # noqa: E402, F401
