"""The OpenAPI document, made to say what the server really answers.

FastAPI's own document is right about successes and wrong about failures: it describes a 422
whose `detail` is a list (the server sends one sentence), leaves out every error raised by a
service or a middleware (401, 403, 404, 409, 413, 429, 503 ...), and a schema written by hand
into an operation (the sync push body, read by the route itself) keeps its nested `#/$defs/...`
references, which point nowhere at the document's root. A client generated from it would be
wrong, so the document is finished here, once, for every route:

- every error is the one body the handlers send, `ErrorBody` (`{"error": code, "detail": text}`);
- each operation lists the errors it can meet, by rule rather than route by route: anything may
  be rate limited (429) or find the database or its feature unavailable (503, with
  `Retry-After` when a kill switch is off); every route but the health check may say 401 (an
  absent or stale token, or wrong credentials at sign-in); a route behind a permission may say
  403; a route with a path parameter names something that may not exist (404); a write may
  conflict with recorded data (409); a body may be unreadable (400), too large (413) or
  invalid (422), and so may a query or path parameter (422); the sync routes may ask an old
  client to upgrade (426);
- nested `$defs` are hoisted into `components/schemas` and their references rewritten.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from loancore.contract import ErrorBody

_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds after which the same request may be sent again",
        "schema": {"type": "string"},
    }
}
_MEANING = {
    "400": "The request body could not be read",
    "401": "Not signed in: no access token, a stale one, or wrong credentials",
    "403": "Signed in, but this role or this portfolio may not do it",
    "404": "There is no such record, or it is not in your portfolio",
    "409": "The change conflicts with recorded data (a decided record, maker-checker, a duplicate)",
    "413": "The request body is too large",
    "422": "A field, parameter or the body is invalid; the detail names which and why",
    "426": "This client speaks an older sync protocol than the server needs",
    "429": "Too many requests; slow down",
    "503": "Not now: the feature is switched off by an administrator, or the database is busy",
}
_WRITES = frozenset({"post", "put", "patch", "delete"})


def install(app: FastAPI) -> None:
    """Replace the app's OpenAPI builder with one that finishes the document (cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                routes=app.routes,
            )
            app.openapi_schema = finish(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def finish(document: dict[str, Any]) -> dict[str, Any]:
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    _hoist_defs(document, schemas)
    schemas["ErrorBody"] = ErrorBody.model_json_schema()
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if method in _WRITES or method == "get":
                _document_errors(path, method, operation)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document


def _hoist_defs(node: Any, schemas: dict[str, Any]) -> None:
    """Move every nested `$defs` into components/schemas, and point its references there."""
    if isinstance(node, dict):
        nested = node.pop("$defs", None)
        if isinstance(nested, dict):
            for name, schema in nested.items():
                _hoist_defs(schema, schemas)
                schemas.setdefault(name, schema)
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            node["$ref"] = "#/components/schemas/" + ref.removeprefix("#/$defs/")
        for value in node.values():
            _hoist_defs(value, schemas)
    elif isinstance(node, list):
        for item in node:
            _hoist_defs(item, schemas)


def _document_errors(path: str, method: str, operation: dict[str, Any]) -> None:
    codes = {"429", "503"}
    parameters = operation.get("parameters", [])
    if path != "/api/v1/health":
        codes.add("401")
    if operation.get("security"):
        codes.add("403")
    if any(p.get("in") == "path" for p in parameters):
        codes |= {"404", "422"}
    if any(p.get("in") in ("query", "header") for p in parameters):
        codes.add("422")
    if "requestBody" in operation:
        codes |= {"400", "413", "422"}
    if method in _WRITES:
        codes.add("409")
    if path.startswith("/api/v1/sync/"):
        codes.add("426")
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for code in sorted(codes):
        if code in responses and code != "422":
            continue  # the route documented it itself; FastAPI's 422 is never the right one
        answer: dict[str, Any] = {
            "description": _MEANING[code],
            "content": {"application/json": {"schema": _ERROR_REF}},
        }
        if code == "503":
            answer["headers"] = _RETRY_AFTER
        responses[code] = answer
