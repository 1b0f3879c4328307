"""Problems by kind, options and seed, made once and kept in memory (bounded by their size):
every check of the same worksheet reuses its problem. Options are validated by their kind."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Flask

import handcalc
from handcalc import Problem, kinds
from handcalc.options import Options

from .errors import InputError
from .limits import BoundedCache

#: the kind of a request that names none
DEFAULT_KIND = "mlp"


def canonical(spec: Mapping[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


#: problems kept in memory (per process), bounded by their estimated size, not their number: an
#: lru_cache of 1024 problems could hold a gigabyte of maximum-size ones, made anonymously
PROBLEM_CACHE_MB = 128  # unless the configuration's PROBLEM_CACHE_MB says otherwise
PROBLEMS: BoundedCache[tuple[str, str, int], Problem] = BoundedCache(PROBLEM_CACHE_MB * 2**20)
#: a problem's estimated bytes: a base, and so much per number it holds (measured with
#: tracemalloc: the problem, its sheet's layout and the grader's caches after checks, 0.5-1.1
#: KiB a number; exact expressions 1.5 KiB since the grader's answer key became a package of
#: cached properties; test_web_hardening keeps the estimate above it)
PROBLEM_BASE_BYTES = 64 * 1024
ENTRY_BYTES = 1200
EXACT_ENTRY_BYTES = 1800
#: anonymous practice makes sheets of at most so many numbers (given and asked): the default
#: 4-3-4-3 sheet with a batch of 2 has 228; an instructor's assignment may be larger
MAX_PRACTICE_NUMBERS = 400
#: exact mode costs far more per number (sympy): its default sheet takes 0.3-0.8 s to make, a
#: 4-4-4 sheet with a batch of 3 (230 numbers) 3 s
MAX_PRACTICE_EXACT_NUMBERS = 228


def init_app(app: Flask) -> None:
    """The cache's bound from the configuration (``PROBLEM_CACHE_MB``)."""
    megabytes = app.config.get("PROBLEM_CACHE_MB") or PROBLEM_CACHE_MB
    PROBLEMS.resize(int(megabytes) * 2**20)


def problem_bytes(problem: Problem) -> int:
    """What ``problem`` is estimated to take in memory (with its layout and grading caches)."""
    numbers = sum(rows * cols for rows, cols in (m.shape for m in problem.values.values()))
    # the lookup tables the sheet prints (their distractor rows are not cells): each entry is
    # kept as a number, its text and its place in a row, about three numbers' worth
    numbers += 3 * sum(
        len(row.argument) + len(row.value) for t in problem.tables.values() for row in t.rows
    )
    exact = getattr(problem.spec, "transcendental", None) == "exact"
    per = EXACT_ENTRY_BYTES if exact else ENTRY_BYTES
    return PROBLEM_BASE_BYTES + per * numbers


def _problem(kind: str, spec_json: str, seed: int) -> Problem:
    key = (kind, spec_json, seed)
    found = PROBLEMS.get(key)
    if found is None:
        found = handcalc.generate(kind=kind, seed=seed, **json.loads(spec_json))
        PROBLEMS.put(key, found, problem_bytes(found))
    return found


def problem_of(kind: str, spec_json: str, seed: int) -> Problem:
    """``problem_for`` of a spec already in its ``canonical`` form."""
    return _problem(kind, spec_json, seed)


def problem_for(kind: str, spec: Mapping[str, Any], seed: int) -> Problem:
    """The problem of ``spec`` and ``seed`` (the same as ``handcalc.generate``), kept in memory:
    every check of the same worksheet reuses it."""
    return _problem(kind, canonical(spec), seed)


def read_spec(raw: Any, kind: str = DEFAULT_KIND) -> dict[str, Any]:
    """Options of ``kind`` as sent, validated by the kind (a ``HandcalcError`` says what is
    wrong)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError(f"spec: expected an object of options, got {type(raw).__name__}")
    kinds.get(kind).Options.from_options(raw)
    return raw


def read_options(kind: str, raw: Mapping[str, Any]) -> Options:
    """``raw`` as the options of ``kind`` (the kind named in the message if there is none)."""
    options: Options = kinds.get(kind).Options.from_options(raw)
    return options


def sheet_numbers(kind: str, options: Options) -> int:
    """How many numbers a sheet of ``options`` holds, given and asked: every cell of the kind's
    step graph (fewer with frozen layers)."""
    graph = kinds.get(kind).build(options)
    shapes = [*graph.given_shapes.values(), *(step.shape for step in graph.steps if step.shape)]
    return sum(rows * cols for rows, cols in shapes)


def check_practice_size(kind: str, options: Options) -> None:
    """Anonymous practice makes small sheets only: a big one costs up to seconds of CPU to make
    (or to fail to make) and a megabyte of memory to keep."""
    exact = getattr(options, "transcendental", None) == "exact"
    most = MAX_PRACTICE_EXACT_NUMBERS if exact else MAX_PRACTICE_NUMBERS
    numbers = sheet_numbers(kind, options)
    if numbers > most:
        raise InputError(
            f"spec: this sheet would hold {numbers} numbers; practice sheets hold at most "
            f"{most}{' in exact mode' if exact else ''} (fewer or narrower layers, or a smaller "
            "batch); an instructor's assignment may be larger"
        )


def student_copy(problem: Problem) -> dict[str, Any]:
    """The problem as a student sees it: no values of steps, no seed."""
    doc = problem.to_dict(answers=False)
    doc.pop("seed", None)
    return doc


def blanks(problem: Problem) -> list[str]:
    """The cells a student fills in: every step (a value read from a lookup table too: the
    tables are keyed by Z, and the student copy holds no A)."""
    return [s.name for s in problem.steps]
