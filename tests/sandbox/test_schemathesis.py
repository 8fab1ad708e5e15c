"""Schemathesis against the running sandbox's own OpenAPI document (the generated contract at /openapi.json).

For every operation, generated requests (schema-valid and schema-violating, with a valid secret key) must
never get a 5xx, and every response must be documented (status code, content type) and conform to its
schema. 25 examples per operation and mode by default (CI-friendly); ``--run-slow`` adds 150.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")  # a dev dependency

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bnpl.sandbox import SandboxInfo, Settings, run_sandbox  # noqa: E402

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def sandbox_info(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxInfo]:
    path = tmp_path_factory.mktemp("schemathesis") / "sandbox.db"
    with run_sandbox(str(path), settings=Settings(expiry_sweep_seconds=0)) as info:
        yield info


def _failures(info: SandboxInfo, examples: int) -> list[str]:
    """Run every operation of the served document in both generation modes; describe each failure."""
    schema = schemathesis.openapi.from_url(f"{info.base_url}/openapi.json")
    headers = {"Authorization": f"Bearer {info.secret_key}"}
    failures: list[str] = []
    operations = [op.ok() for op in schema.get_all_operations()]
    assert operations, "the served document lists no operations"
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def run(case: Any) -> None:
                case.call_and_validate(base_url=info.base_url, headers=headers, checks=CHECKS)

            try:
                run()
            except Exception as exc:  # one failing operation must not hide the others
                failures.append(f"{operation.label} [{mode.value}]: {type(exc).__name__}: {str(exc)[:1500]}")
    return failures


def test_no_5xx_and_responses_match_the_contract(sandbox_info: SandboxInfo) -> None:
    failures = _failures(sandbox_info, 25)
    assert not failures, "\n\n".join(failures)


@pytest.mark.slow
def test_no_5xx_and_responses_match_the_contract_thoroughly(sandbox_info: SandboxInfo) -> None:
    failures = _failures(sandbox_info, 150)
    assert not failures, "\n\n".join(failures)
