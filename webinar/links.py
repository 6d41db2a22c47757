"""Absolute links for e-mails and calendars, built from BASE_URL."""

from __future__ import annotations

import re
from collections.abc import Callable
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


#: what `new_token` makes: the route writes such a token as it is
_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")


def token_url(endpoint: str, token: str) -> str:
    """`external_url(endpoint, token=token)`, for the thousands of personal links of a worker pass."""
    return token_url_maker(endpoint)(token)


def token_url_maker(endpoint: str) -> Callable[[str], str]:
    """`token_url` for one endpoint with the app's URL map and BASE_URL looked up now, once for many links."""
    prefix, suffix = _around_token(current_app.url_map, current_app.config["BASE_URL"], endpoint)

    def url(token: str) -> str:
        if not _URL_SAFE.fullmatch(token):
            return external_url(endpoint, token=token)
        return prefix + token + suffix

    return url


@lru_cache(maxsize=32)
def _around_token(url_map: Map, base_url: str, endpoint: str) -> tuple[str, str]:
    """The endpoint's absolute URL before and after its token, from one URL built with a sample token."""
    sample = "Sample_token-0"
    url = _adapter(url_map, base_url).build(endpoint, {"token": sample}, force_external=True)
    if url.count(sample) != 1:
        raise ValueError(f"{endpoint}: the token is not once in {url}")
    prefix, _, suffix = url.partition(sample)
    return prefix, suffix
