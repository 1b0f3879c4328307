"""The OpenAPI document against the service, by schemathesis: whatever the document lets a client
send (and what it does not: schemathesis also breaks the schema on purpose), no answer is a 5xx.

Runs in process through the app's WSGI interface, with the instructor's token. Each operation is
tried twice: with the path parameters schemathesis draws (mostly refused at the credential), and
with a real practice session, student link and assignment, so that generated bodies reach the
code that reads and grades them."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from web_support import TOKEN


def real_parameters(path: str, practice: str, student: str, assignment: int) -> dict[str, Any]:
    token = practice if path.startswith("/api/v1/practice/") else student
    # ada is the roster's first student: id 1 in the fixture's fresh database
    # a job id of the right form that names no job (404): a real job is tests/web/test_web_jobs's
    return {
        "token": token,
        "id": assignment,
        "student": "ada",
        "student_id": 1,
        "job": "0" * 24,
    }


def checker(operation: Any, real: dict[str, Any] | None, statuses: Counter[int]) -> Any:
    """A hypothesis test of one operation (with ``real`` path parameters, if given)."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=25,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case: Any) -> None:
        if real is not None and case.path_parameters:
            case.path_parameters = {k: real[k] for k in case.path_parameters}
        response = case.call_and_validate(
            headers={"Authorization": f"Bearer {TOKEN}"}, checks=[not_a_server_error]
        )
        statuses[response.status_code] += 1

    return check


def test_no_request_gets_a_server_error(
    app: Flask, assignment: int, roster: dict[str, str], practice: tuple[str, Any]
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 10  # every endpoint of the document
    statuses: Counter[int] = Counter()
    student = roster["ada"].removeprefix("/s/")
    for operation in found:
        real = real_parameters(operation.path, practice[0], student, assignment)
        # a real assignment's /sheets would start a job making PDFs on every example
        chosen = (None,) if operation.path.endswith("/sheets") else (None, real)
        for parameters in chosen:
            try:
                checker(operation, parameters, statuses)()
            except Exception as e:
                pytest.fail(f"{operation.label}: {e}")
    # the real credentials got requests through to the views (else this test proves little)
    assert statuses[200] + statuses[201] > 20, statuses
    assert statuses[400] > 20, statuses
