"""The API reference as a page of this site, rendered from the OpenAPI document (no script, nothing from a CDN)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("api_reference", __name__)

_METHODS = ("get", "post", "patch", "put", "delete")


def _schema(spec: dict, schema: dict | None) -> dict:
    """A schema with its $ref looked up (one level: the page lists the fields)."""
    schema = schema or {}
    if "$ref" in schema:
        return spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def operations(spec: dict) -> list[dict]:
    """Every operation of the spec, in path order, with its parameters, body fields and responses."""
    found = []
    for path, item in spec["paths"].items():
        for method in _METHODS:
            if method not in item:
                continue
            operation = item[method]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            schema = _schema(spec, body.get("schema"))
            found.append({
                "method": method.upper(), "path": path, "summary": operation.get("summary", ""),
                "description": operation.get("description", ""),
                "parameters": item.get("parameters", []) + operation.get("parameters", []),
                "body": [(name, field, name in schema.get("required", []))
                         for name, field in schema.get("properties", {}).items()],
                "responses": sorted(operation.get("responses", {})),
            })
    return found


@bp.get("/api/v1/docs")
def reference():
    """The API reference: every operation, its parameters and fields, and how to authenticate."""
    spec = current_app.extensions["webinar-api"].spec.to_dict()
    return render_template("api/reference.html", spec=spec, operations=operations(spec))
