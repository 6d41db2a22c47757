"""Room for large files on the few pages that take them; every other request keeps MAX_CONTENT_LENGTH."""

from __future__ import annotations

from flask import Flask, request


def large_upload(view):
    """Mark a view that accepts files up to IMPORT_MAX_BYTES (lists and reports of 10,000 rows)."""
    view.large_upload = True
    return view


def register_upload_limits(app: Flask) -> None:
    """Raise the limit for marked views; must run before anything reads the form (CSRF does)."""

    @app.before_request
    def _upload_limit():
        view = app.view_functions.get(request.endpoint)
        if getattr(view, "large_upload", False):
            request.max_content_length = app.config["IMPORT_MAX_BYTES"]
            # A file can also come back as a form field (the attendance report after a date warning).
            request.max_form_memory_size = app.config["IMPORT_MAX_BYTES"] * 4 // 3 + 4
