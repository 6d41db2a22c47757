"""The JSON API under /api/v1 (flask-smorest: marshmallow schemas, OpenAPI 3.1 from the code).

A request authenticates with a personal bearer token only (api/auth.py); cookies
play no part, so CSRF protection is off for this blueprint alone. Errors are
problem details (api/problems.py). The organiser's token pages live in
api/token_views.py, under /organiser like every organiser page.
"""

from __future__ import annotations

from flask import Blueprint as FlaskBlueprint
from flask import Flask, request
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from ..extensions import csrf
from .auth import authenticate
from .problems import PROBLEM_TYPE, problem, problem_for
from .schemas import Problem

PREFIX = "/api/v1"

bp = Blueprint("api", __name__, url_prefix=PREFIX, description="De API voor organisatoren")
#: the organiser's pages for tokens (under /organiser, guarded there like every organiser page)
tokens_bp = FlaskBlueprint("api_tokens", __name__, url_prefix="/organiser/api-tokens")
webhooks_bp = FlaskBlueprint("api_webhooks", __name__, url_prefix="/organiser/webhooks")
bp.before_request(authenticate)


class Api(SmorestApi):
    """flask-smorest for one blueprint, leaving the rest of the app's errors to the app."""

    ERROR_SCHEMA = Problem

    def _register_error_handlers(self):
        """None app-wide: the HTML pages keep their own; API paths get problem details (see register_api)."""

    def _register_responses(self):
        """Every error response is documented as application/problem+json."""
        import http

        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_TYPE if status >= 400 else self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Probleem", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


SPEC = {
    "title": "webinar API",
    "version": "1",
    "openapi_version": "3.1.0",
    "info": {"description": "Bijeenkomsten, aanmeldingen, aanwezigheid en ondersteuningsaanvragen. "
                            "Elk verzoek draagt een persoonlijk API-token: Authorization: Bearer <token>."},
    "servers": [{"url": "/"}],
    "security": [{"bearer": []}],
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
}


def register_api(app: Flask) -> None:
    """Wire the API: its routes, the spec at /api/v1/openapi.json, the reference page, problem details."""
    # delivery registers the webhook pass with the mail worker; webhooks listens to the domains' signals
    from . import attendance, delivery, events, reference, registrations, support, token_views, webhook_views  # noqa: F401

    app.config.setdefault("API_V1_OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("API_V1_OPENAPI_JSON_PATH", "openapi.json")
    api = Api(app, spec_kwargs=dict(SPEC), config_prefix="API_V1")
    api.register_blueprint(bp)
    csrf.exempt(bp)
    app.register_blueprint(reference.bp)
    app.register_blueprint(tokens_bp)
    app.register_blueprint(webhooks_bp)
    _problems_on_api_paths(app)
    app.extensions["webinar-api"] = api


def _problems_on_api_paths(app: Flask) -> None:
    """Under /api/, every error the app would show as a page (404, 405, 429, 500, ...) is a problem instead."""
    for code, handlers in list(app.error_handler_spec[None].items()):
        for exception, handler in list(handlers.items()):
            handlers[exception] = _api_aware(handler)

    @app.errorhandler(HTTPException)
    def _any_http_error(error):
        if request.path.startswith(PREFIX + "/"):
            return problem_for(error)
        return error


def _api_aware(handler):
    """The app's handler for the pages; for the API the same status (and side effects) as a problem."""

    def handle(error):
        if not request.path.startswith(PREFIX + "/"):
            return handler(error)
        if isinstance(error, HTTPException):
            return problem_for(error)
        answer = handler(error)  # e.g. a busy database: rolled back, 503
        return problem(answer[1] if isinstance(answer, tuple) else 500)

    return handle
