"""The Python API: generate a problem from a seed, solve an authored one."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import kinds
from .errors import DocumentError
from .problem import Problem, load_document, read_header

MAX_SEED = 2**63 - 1


def generate(kind: str = "mlp", seed: int | None = None, **options: Any) -> Problem:
    """A new problem of ``kind`` from ``seed`` (a random one if None), options as in the spec.

    >>> p = generate(seed=7, sizes=[2, 2, 2], activation="relu")
    >>> p["dW2"].shape
    (2, 2)
    """
    module = kinds.get(kind)
    if seed is None:
        seed = secrets.randbelow(10**6)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise DocumentError(
            f"seed: {seed!r} is not accepted; accepted: a whole number from 0 to {MAX_SEED}"
        )
    spec = module.Options.from_options(options)
    return Problem(spec, module.build(spec), module.draw(spec, seed), seed, kind)


def solve(doc: Problem | Mapping[str, Any] | str | bytes | Path) -> Problem:
    """Solve a problem document (spec and given; steps, if any, are recomputed)."""
    if isinstance(doc, Problem):
        doc = doc.to_dict()
    elif isinstance(doc, Path):
        doc = doc.read_bytes()
    data = load_document(doc)
    spec, given, graph, seed, kind = read_header(data)
    return Problem(spec, graph, kinds.get(kind).solve(spec, given), seed, kind)
