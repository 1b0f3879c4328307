"""The extras of pyproject.toml (issue 15, item 7): ``all`` is everything a deployment needs —
every extra but the test bench's — and none of the test tools; the password hashing instructors
need is a core dependency (one machine has courses and instructors too)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PROJECT = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text("utf-8"))
EXTRAS: dict[str, list[str]] = PROJECT["project"]["optional-dependencies"]
#: what only the test bench needs
TEST_TOOLS = {
    "pytest",
    "hypothesis",
    "torch",
    "ruff",
    "mypy",
    "build",
    "playwright",
    "schemathesis",
}


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower()


def resolved(extra: str) -> set[str]:
    """The distributions an extra brings, following ``handcalc[...]`` to the extras it names."""
    found: set[str] = set()
    for requirement in EXTRAS[extra]:
        inner = re.fullmatch(r"handcalc\[([^\]]+)\]", requirement.replace(" ", ""))
        if inner:
            for name in inner[1].split(","):
                found |= resolved(name)
        else:
            found.add(_name(requirement))
    return found


def test_all_is_every_extra_a_deployment_needs_and_no_test_tool() -> None:
    everything = resolved("all")
    for extra in EXTRAS:
        if extra not in ("all", "dev"):
            assert resolved(extra) <= everything, extra
    assert not everything & TEST_TOOLS
    assert {"gmpy2", "matplotlib"} <= everything


def test_password_hashing_is_a_core_dependency() -> None:
    assert "argon2-cffi" in {_name(r) for r in PROJECT["project"]["dependencies"]}
