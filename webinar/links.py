"""Absolute links for e-mails and calendars, built from BASE_URL."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from flask import current_app
from werkzeug.routing import Map, MapAdapter


def external_url(endpoint: str, **values) -> str:
    """An absolute URL under BASE_URL; works inside and outside requests."""
    adapter = _adapter(current_app.url_map, current_app.config["BASE_URL"])
    return adapter.build(endpoint, values, force_external=True)


@lru_cache(maxsize=8)
def _adapter(url_map: Map, base_url: str) -> MapAdapter:
    """The URL map bound to BASE_URL, made once (the worker builds thousands of links a pass)."""
    base = urlsplit(base_url)
    return url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https")
