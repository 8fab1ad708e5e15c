"""The committed contract files are exactly what the models generate, and they are valid documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi

from bnpl.models import API_VERSION, EVENT_TYPES
from bnpl.models.openapi import OPENAPI_PATH, SCHEMAS_DIR, build_openapi, render_contract
from bnpl.models.routes import ROUTES

ROOT = Path(__file__).resolve().parents[2]
REGENERATE = "run `.venv/bin/python scripts/generate_contract.py` and commit the result"


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return render_contract()


def test_every_generated_file_is_committed_unchanged(generated: dict[str, str]) -> None:
    for rel, text in generated.items():
        path = ROOT / rel
        assert path.exists(), f"{rel} is missing: {REGENERATE}"
        assert path.read_text(encoding="utf-8") == text, f"{rel} drifted from the models: {REGENERATE}"


def test_no_orphaned_event_schema(generated: dict[str, str]) -> None:
    committed = {str(p.relative_to(ROOT)) for p in (ROOT / SCHEMAS_DIR).glob("*.json")}
    assert committed == {rel for rel in generated if rel.startswith(SCHEMAS_DIR)}
    assert committed == {f"{SCHEMAS_DIR}/{t}.json" for t in EVENT_TYPES}


def test_generation_is_deterministic(generated: dict[str, str]) -> None:
    assert render_contract() == generated


def test_openapi_document_is_valid_openapi_3_1() -> None:
    document = json.loads((ROOT / OPENAPI_PATH).read_text(encoding="utf-8"))
    validate_openapi(document)  # raises on any violation of the OpenAPI 3.1 schema
    assert document["openapi"] == "3.1.0"
    assert document["info"]["version"] == API_VERSION


def test_openapi_covers_every_route_once() -> None:
    document = build_openapi()
    operations = {
        op["operationId"]: (method.upper(), path)
        for path, item in document["paths"].items()
        for method, op in item.items()
    }
    assert operations == {r.operation_id: (r.method, r.path) for r in ROUTES}


def test_posts_take_an_idempotency_key_and_every_operation_documents_errors() -> None:
    document = build_openapi()
    for item in document["paths"].values():
        for method, op in item.items():
            refs = [p.get("$ref") for p in op["parameters"]]
            assert ("#/components/parameters/IdempotencyKey" in refs) == (method == "post"), op["operationId"]
            assert op["responses"]["4XX"] == {"$ref": "#/components/responses/Error"}
            assert op["responses"]["5XX"] == {"$ref": "#/components/responses/Error"}
    assert document["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_every_ref_resolves() -> None:
    document = build_openapi()
    text = json.dumps(document)
    schemas = document["components"]["schemas"]
    for name in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert name in schemas, name


def test_event_schemas_are_valid_json_schemas() -> None:
    for event_type in EVENT_TYPES:
        schema = json.loads((ROOT / SCHEMAS_DIR / f"{event_type}.json").read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        assert schema["properties"]["type"]["const"] == event_type
