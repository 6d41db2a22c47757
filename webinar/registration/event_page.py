"""The public event page, rendered once per event and phase and kept per process.

Every visitor who opens an event's page gets the same page but for two
things: the CSRF token of their session and the number of places left. The
page is rendered with stand-ins for those two, kept, and filled in per
request; rendering the form's fields was most of the cost of the page. A kept
page is used only while the event's stored values are the same as when it
was rendered, so an organiser's change shows at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from flask import current_app, request
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from ..database import utcnow
from ..dutch import number
from ..events.models import Event
from ..extensions import db
from .capacity import event_values_and_places_left_or_404, registration_phase

#: stand-ins for what differs per request; escaped text can never hold a "<", so no event text can mimic them
TOKEN_STAND_IN = Markup("<csrf-token>")
PLACES_STAND_IN = Markup("<places-left>")
#: pages kept per process: a few events are open at a time, each shown in one phase or two
PAGES_KEPT = 64
#: the key of the kept pages in app.extensions
EXTENSION = "event_pages"


def places_left_text(free: int) -> str:
    """'Nog 1.250 plaatsen vrij', or that new registrations go on the waiting list."""
    if not free:
        return "Vol: aanmelden voor de wachtlijst"
    return f"Nog {number(free)} {'plaats' if free == 1 else 'plaatsen'} vrij"


class KeptPages:
    """Rendered pages by key, each with the state it was rendered from; the least recently used go first."""

    def __init__(self, size: int = PAGES_KEPT):
        self.size = size
        self._pages: OrderedDict[tuple, tuple[tuple, str]] = OrderedDict()
        self._lock = threading.Lock()  # gunicorn may run threads

    def get(self, key: tuple, state: tuple, render: Callable[[], str]) -> str:
        """The page kept under `key` if it was rendered from `state`; else `render()`, kept from now on."""
        with self._lock:
            kept = self._pages.get(key)
            if kept is not None and kept[0] == state:
                self._pages.move_to_end(key)
                return kept[1]
        page = render()
        with self._lock:
            self._pages[key] = (state, page)
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)
        return page


def keep_pages(state) -> None:
    """Give the app (a blueprint's setup state) its own kept pages."""
    state.app.extensions[EXTENSION] = KeptPages()


def kept_event_page(slug: str, render: Callable[..., str]) -> str:
    """The page of the event with this slug for this visitor: the kept page with their token and places left.

    `render(event, phase, free, places_text=...)` renders the page when no
    kept page shows the event as it is stored now.
    """
    values, free = event_values_and_places_left_or_404(slug)
    phase = registration_phase(values, utcnow(), free)
    token = generate_csrf()

    def render_with_stand_ins() -> str:
        event = db.session.get(Event, values.id)
        return render(event, phase, free, places_text=PLACES_STAND_IN).replace(token, TOKEN_STAND_IN)

    if current_app.jinja_env.auto_reload:  # templates are being edited (debug mode): show each change
        page = render_with_stand_ins()
    else:
        key = (values.id, phase, request.script_root)
        state = values[:-1]  # every stored value of the event; not the confirmed count, which is filled in
        page = current_app.extensions[EXTENSION].get(key, state, render_with_stand_ins)
    return page.replace(TOKEN_STAND_IN, token).replace(PLACES_STAND_IN, places_left_text(free or 0))
