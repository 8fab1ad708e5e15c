"""Generate the OpenAPI 3.1 document and the per-event JSON Schemas from the models and the route table.

Nothing here is hand-written twice: change a model or a route, run ``scripts/generate_contract.py``, and
the drift test keeps the committed files (docs/openapi.json, webhooks/schemas/*.json) honest.
"""

from __future__ import annotations

import json
from typing import Any, Final

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from bnpl.models.common import API_VERSION, API_VERSION_HEADER, ERROR_TYPES, ErrorBody
from bnpl.models.events import EVENT_CLASSES, EventList
from bnpl.models.routes import ROUTES, Route

__all__ = [
    "OPENAPI_PATH",
    "SCHEMAS_DIR",
    "build_event_schemas",
    "build_openapi",
    "dump_json",
    "render_contract",
]

OPENAPI_PATH: Final = "docs/openapi.json"
"""Where the OpenAPI document is committed, relative to the repository root."""

SCHEMAS_DIR: Final = "webhooks/schemas"
"""Where one JSON Schema per event type is committed, relative to the repository root."""

_REF: Final = "#/components/schemas/{model}"
_JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(model=name)}


def _collect_models() -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    # Requests in validation mode (what the lender accepts), responses in serialization mode (what it sends).
    seen: dict[tuple[type[BaseModel], str], None] = {}
    for route in ROUTES:
        for model in (route.body, route.query):
            if model is not None:
                seen[(model, "validation")] = None
        if isinstance(route.response, type) and issubclass(route.response, BaseModel):
            seen[(route.response, "serialization")] = None
    seen[(ErrorBody, "serialization")] = None
    for cls in EVENT_CLASSES.values():
        seen[(cls, "serialization")] = None
    return [(model, "validation" if mode == "validation" else "serialization") for model, mode in seen]


def _schema_name(model: type[BaseModel], mode: JsonSchemaMode, keys: dict[Any, Any]) -> str:
    ref: str = keys[(model, mode)]["$ref"]
    return ref.rsplit("/", 1)[1]


def _drop_null(prop: dict[str, Any]) -> dict[str, Any]:
    # An optional query parameter is simply absent, never "null": keep the non-null branch only.
    branches = prop.get("anyOf")
    if isinstance(branches, list) and {"type": "null"} in branches and len(branches) == 2:
        rest = {k: v for k, v in prop.items() if k != "anyOf" and not (k == "default" and v is None)}
        return {**next(b for b in branches if b != {"type": "null"}), **rest}
    return dict(prop)


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(mode="validation", ref_template=_REF)
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema["properties"].items():
        prop = _drop_null(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            param["description"] = description
        if "array" in json.dumps(prop):
            param["style"] = "form"
            param["explode"] = True  # lists repeat the name: ?types=a&types=b
        params.append(param)
    return params


def _operation(route: Route, names: dict[type[BaseModel], str], event_ref: dict[str, str]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": [route.resource],
    }
    params: list[dict[str, Any]] = [{"$ref": "#/components/parameters/BnplVersion"}]
    if route.idempotent:
        params.append({"$ref": "#/components/parameters/IdempotencyKey"})
    for name in route.path_params:
        schema: dict[str, Any] = {"type": "string"}
        if route.id_prefix:
            schema["pattern"] = f"^{route.id_prefix}[A-Za-z0-9]{{1,64}}$"
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    if route.query is not None:
        params.extend(_query_parameters(route.query))
    op["parameters"] = params
    if route.body is not None:
        op["requestBody"] = {
            "required": route.body_required,
            "content": {"application/json": {"schema": _ref(names[route.body])}},
        }
    response_schema = _ref(names[route.response]) if route.response in names else event_ref
    op["responses"] = {
        str(route.status_code): {
            "description": route.summary,
            "headers": {"Request-Id": {"$ref": "#/components/headers/RequestId"}},
            "content": {"application/json": {"schema": response_schema}},
        },
        "4XX": {"$ref": "#/components/responses/Error"},
        "5XX": {"$ref": "#/components/responses/Error"},
    }
    return op


def build_openapi() -> dict[str, Any]:
    """Build the OpenAPI 3.1 document of API v1 from :data:`bnpl.models.routes.ROUTES` and the models."""
    inputs = _collect_models()
    keys, defs = models_json_schema(inputs, ref_template=_REF, title="bnpl")
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    names = {model: _schema_name(model, mode, keys) for model, mode in inputs}
    # The Event union has no class of its own: lift it out of EventList into a named component.
    event_list = schemas[names[EventList]]
    schemas["Event"] = event_list["properties"]["data"]["items"]
    event_list["properties"]["data"]["items"] = _ref("Event")
    event_ref = _ref("Event")

    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, names, event_ref)

    webhooks = {
        event_type: {
            "post": {
                "operationId": f"webhook.{event_type}",
                "summary": (cls.__doc__ or event_type).strip().splitlines()[0],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref(names[cls])}},
                },
                "responses": {"2XX": {"description": "Acknowledge within 5 seconds; process asynchronously."}},
            }
        }
        for event_type, cls in EVENT_CLASSES.items()
    }

    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": _JSON_SCHEMA_DIALECT,
        "info": {
            "title": "bnpl lender API",
            "version": API_VERSION,
            "summary": "Pay-later (先享后付) lender API: prequalification, plan quotes, checkouts, orders, events.",
            "description": (
                "Amounts are integer minor units with an ISO 4217 `currency`; timestamps are ISO 8601 UTC; "
                "ids are prefixed. Generated from `bnpl.models`; do not edit by hand."
            ),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "security": [{"bearerAuth": []}],
        "tags": [{"name": name} for name in dict.fromkeys(route.resource for route in ROUTES)],
        "paths": paths,
        "webhooks": webhooks,
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "Your secret API key."}
            },
            "parameters": {
                "BnplVersion": {
                    "name": API_VERSION_HEADER,
                    "in": "header",
                    "required": False,
                    "description": "Pin the API version; the account default applies when absent.",
                    "schema": {"type": "string", "default": API_VERSION, "examples": [API_VERSION]},
                },
                "IdempotencyKey": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": (
                        "Retrying a POST with the same key returns the first result instead of acting twice; "
                        "reusing a key with different parameters is a 409 idempotency_error."
                    ),
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                },
            },
            "headers": {
                "RequestId": {
                    "description": "Identifies the request; quote it to support.",
                    "schema": {"type": "string"},
                }
            },
            "responses": {
                "Error": {
                    "description": "An error. HTTP status by error type: "
                    + ", ".join(f"{kind} {status}" for kind, status in ERROR_TYPES.items()),
                    "headers": {"Request-Id": {"$ref": "#/components/headers/RequestId"}},
                    "content": {"application/json": {"schema": _ref(names[ErrorBody])}},
                }
            },
            "schemas": dict(sorted(schemas.items())),
        },
    }


def build_event_schemas() -> dict[str, dict[str, Any]]:
    """Return one standalone JSON Schema (draft 2020-12) per event type, keyed by type."""
    out: dict[str, dict[str, Any]] = {}
    for event_type, cls in EVENT_CLASSES.items():
        schema = TypeAdapter(cls).json_schema(mode="serialization")
        out[event_type] = {"$schema": _JSON_SCHEMA_DIALECT, "$id": f"{event_type}.json", **schema}
    return out


def dump_json(document: Any) -> str:
    """Serialise deterministically (2-space indent, UTF-8 text kept readable, trailing newline)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_contract() -> dict[str, str]:
    """Every generated contract file: repository-relative path → exact file text."""
    files = {OPENAPI_PATH: dump_json(build_openapi())}
    for event_type, schema in build_event_schemas().items():
        files[f"{SCHEMAS_DIR}/{event_type}.json"] = dump_json(schema)
    return files
