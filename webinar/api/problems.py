"""Errors as RFC 9457 problem details (application/problem+json), with Dutch titles and details."""

from __future__ import annotations

from flask import jsonify, request
from werkzeug.exceptions import HTTPException

PROBLEM_TYPE = "application/problem+json"

#: status → (title, detail) when the error itself says nothing more specific
TITLES: dict[int, tuple[str, str]] = {
    400: ("Onjuist verzoek", "Dit verzoek konden we niet verwerken."),
    401: ("Niet aangemeld", "Stuur een geldig API-token mee: Authorization: Bearer <token>."),
    403: ("Geen toegang", "Dit token of uw rol staat deze actie niet toe."),
    404: ("Niet gevonden", "Dit bestaat niet (meer)."),
    405: ("Niet toegestaan", "Deze methode kan hier niet worden gebruikt."),
    406: ("Niet aanvaardbaar", "De API antwoordt alleen in JSON."),
    409: ("Dat kan nu niet", "Deze actie is niet (meer) mogelijk."),
    413: ("Te veel gegevens", "Het verzoek bevatte te veel gegevens."),
    415: ("Verkeerd formaat", "Stuur de gegevens als JSON (Content-Type: application/json)."),
    422: ("Ongeldige gegevens", "Niet alle velden zijn goed ingevuld."),
    429: ("Even wachten", "Dit token heeft in korte tijd te veel verzoeken gedaan. Probeer het later opnieuw."),
    500: ("Er ging iets mis", "Er ging aan onze kant iets mis. Probeer het later opnieuw."),
    503: ("Even geduld", "Het is nu erg druk. Probeer het over een minuut opnieuw."),
}

#: marshmallow's messages (English), as the API says them
_MESSAGES = {
    "Missing data for required field.": "Dit veld is verplicht.",
    "Field may not be null.": "Dit veld mag niet leeg (null) zijn.",
    "Unknown field.": "Onbekend veld.",
    "Not a valid string.": "Geef hier tekst.",
    "Not a valid integer.": "Geef hier een heel getal.",
    "Not a valid boolean.": "Geef hier true of false.",
    "Not a valid datetime.": "Geef een datum en tijd volgens RFC 3339, bijvoorbeeld 2027-05-25T16:00:00+02:00.",
    "Not a valid list.": "Geef hier een lijst.",
    "Not a valid datetime value.": "Vul een datum en tijd in, bijvoorbeeld 2027-11-02T16:00:00+01:00.",
    "Invalid input type.": "Dit is niet het goede soort gegevens.",
    "Invalid value.": "Ongeldige waarde.",
    "Invalid cursor.": "Deze cursor is ongeldig of verlopen; begin opnieuw zonder cursor.",
}


def dutch(message: str) -> str:
    """A marshmallow message in Dutch (one the API does not know stays as it is)."""
    if message.startswith("Must be one of"):
        return "Kies een van de toegestane waarden."
    if message.startswith("Must be greater than or equal") or message.startswith("Must be less than or equal"):
        return "Deze waarde valt buiten het toegestane bereik."
    if message.startswith("Shorter than") or message.startswith("Longer than") or message.startswith("Length must"):
        return "Deze waarde heeft niet de toegestane lengte."
    return _MESSAGES.get(message, message)


def field_errors(messages, prefix: str = "") -> list[dict]:
    """Flatten marshmallow's or a form's {field: [messages]} into [{"field": ..., "message": ...}]."""
    found = []
    if isinstance(messages, dict):
        for name, inner in messages.items():
            found += field_errors(inner, f"{prefix}.{name}" if prefix else str(name))
    elif isinstance(messages, (list, tuple)):
        for inner in messages:
            found += field_errors(inner, prefix)
    else:
        found.append({"field": prefix or None, "message": dutch(str(messages))})
    return found


def problem(status: int, detail: str | None = None, *, title: str | None = None, errors=None, headers=None):
    """A problem details response."""
    default_title, default_detail = TITLES.get(status, TITLES[500 if status >= 500 else 400])
    body = {"type": "about:blank", "title": title or default_title, "status": status,
            "detail": detail or default_detail, "instance": request.path}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_TYPE
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def problem_for(error: HTTPException):
    """The problem details for an HTTP error raised anywhere in the API (flask-smorest's 422 included)."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = field_errors(_without_locations(data["messages"])) if "messages" in data else None
    detail = error.description if error.description != type(error).description else None
    headers = {"Retry-After": error.retry_after} if getattr(error, "retry_after", None) else None
    if status == 405 and getattr(error, "valid_methods", None):
        headers = {"Allow": ", ".join(error.valid_methods)}
    return problem(status, detail, errors=errors, headers=headers)


#: where webargs found the fields (flask-smorest keys its messages by it)
_LOCATIONS = {"json", "query", "path", "headers", "files", "form", "cookies", "view_args"}


def _without_locations(messages):
    if isinstance(messages, dict) and set(messages) <= _LOCATIONS:
        merged = {}
        for inner in messages.values():
            merged.update(inner if isinstance(inner, dict) else {"": inner})
        return merged
    return messages
