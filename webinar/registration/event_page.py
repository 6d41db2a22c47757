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
from operator import itemgetter

from flask import current_app
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import inspect

from ..dutch import number
from ..events.models import Event

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


#: the event's columns (each attribute is named after its column)
_COLUMNS = tuple(Event.__table__.columns.keys())
_ALL_COLUMNS = frozenset(_COLUMNS)
_column_values = itemgetter(*_COLUMNS)


def event_state(event: Event) -> tuple:
    """Every stored value of the event (lists copied), to tell whether a kept page still shows it."""
    loaded = inspect(event).dict  # the loaded values, read in one go rather than attribute by attribute
    values = _column_values(loaded) if loaded.keys() >= _ALL_COLUMNS else (getattr(event, n) for n in _COLUMNS)
    return tuple(tuple(value) if type(value) is list else value for value in values)


def fresh_event_page(key: tuple, event: Event, free: int | None, render: Callable[..., str]) -> str:
    """The page of `event` for this visitor: `render(places_text=...)` once, then kept under `key`.

    `key` names everything besides the event's values that the page shows
    (such as the phase); `render` renders it with the places text given.
    """
    token = generate_csrf()

    def render_with_stand_ins() -> str:
        return render(places_text=PLACES_STAND_IN).replace(token, TOKEN_STAND_IN)

    page = current_app.extensions[EXTENSION].get(key, event_state(event), render_with_stand_ins)
    return page.replace(TOKEN_STAND_IN, token).replace(PLACES_STAND_IN, places_left_text(free or 0))
