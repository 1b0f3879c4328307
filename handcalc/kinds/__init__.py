"""Kinds of exercise. Each kind module offers ``build(spec) -> Graph``, ``generate(spec, seed)``,
``read_given(spec, raw)``, ``infer_options(options, given)`` and ``given_names(spec)``;
``generate`` returns every cell's value, the given ones included."""

from __future__ import annotations

from types import ModuleType

from ..errors import SpecError
from . import mlp

KINDS: dict[str, ModuleType] = {mlp.NAME: mlp}


def kind_module(name: str) -> ModuleType:
    if name not in KINDS:
        raise SpecError(f"kind: unknown {name!r}; accepted: {', '.join(KINDS)}")
    return KINDS[name]
