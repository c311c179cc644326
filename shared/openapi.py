"""Build the OpenAPI 3 document from the declared endpoints (shared.api.ENDPOINTS) and schemas."""

from __future__ import annotations

from collections.abc import Iterable

import shared
from shared.schemas import SCHEMAS, ref

STATUS_TEXT = {
    400: "Invalid parameter; the detail gives the allowed range",
    404: "Unknown series or version",
    409: "The champion changed concurrently; retry",
    503: "The series has no model yet, or storage is unreachable or not set up (the body says what is missing)",
}
TYPES = {int: "integer", float: "number", str: "string"}
SECURITY = {
    "function": [{"functionKey": []}, {"functionKeyQuery": []}],
    "admin": [{"functionKey": []}, {"functionKeyQuery": []}],
    "anonymous": [],
}


def _parameter(param) -> dict:
    schema: dict = {"type": TYPES[param.kind]}
    for key in ("minimum", "maximum", "pattern", "default"):
        value = getattr(param, key)
        if value is not None:
            schema[key] = value
    if param.choices is not None:
        schema["enum"] = list(param.choices)
    return {
        "name": param.name,
        "in": param.location,
        "required": param.required or param.location == "path",
        "description": param.description,
        "schema": schema,
    }


def _operation(endpoint) -> dict:
    responses = {
        "200": {
            "description": "OK",
            "content": {endpoint.content_type: {"schema": ref(endpoint.response)} if endpoint.response else {}},
        }
    }
    for status in endpoint.errors:
        responses[str(status)] = {
            "description": STATUS_TEXT[status],
            "content": {"application/json": {"schema": ref(endpoint.error_response)}},
        }
    operation = {
        "operationId": endpoint.name,
        "summary": endpoint.summary,
        "parameters": [_parameter(p) for p in endpoint.params],
        "responses": responses,
        "security": SECURITY[endpoint.auth],
    }
    if endpoint.auth == "admin":
        operation["description"] = "Admin operation: needs the function app's master (admin) key."
    return operation


def document(endpoints: Iterable) -> dict:
    """The OpenAPI 3.0 document of the given endpoints."""
    paths: dict[str, dict] = {}
    for endpoint in endpoints:
        item = paths.setdefault(f"/api/{endpoint.route}", {})
        for method in endpoint.methods:
            item[method.lower()] = _operation(endpoint)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "ForecastOps API",
            "version": shared.__version__,
            "description": "Sales forecasts with prediction intervals, model versions and service health.",
        },
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "functionKey": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
                "functionKeyQuery": {"type": "apiKey", "in": "query", "name": "code"},
            },
        },
    }
