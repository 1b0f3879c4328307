"""What the service's tests share: the test secrets, the spec, answers from a key, CSRF tokens."""

from __future__ import annotations

import re
from typing import Any

from handcalc.web.tokens import variant_seed

import handcalc

SECRET = "s" * 20 + "-test-secret-0123456789"
TOKEN = "instructor-token-for-tests"
SPEC = {"sizes": [2, 2, 2], "activation": "relu", "loss": "softmax_ce"}


def student_problem(
    assignment: int, name: str, spec: dict[str, Any] | None = None
) -> handcalc.Problem:
    """The problem the service gives ``name`` (its seed is an HMAC only the server can make)."""
    return handcalc.generate(seed=variant_seed(SECRET, assignment, name), **(spec or SPEC))


def key_answers(problem: handcalc.Problem) -> dict[str, Any]:
    tables = problem.tables
    return {"cells": {s.name: problem.text(s.name) for s in problem.steps if s.name not in tables}}


def negate(rows: list[list[str]]) -> list[list[str]]:
    return [
        [v[1:] if v.startswith("-") else ("0" if v == "0" else "-" + v) for v in row]
        for row in rows
    ]


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match[1]
