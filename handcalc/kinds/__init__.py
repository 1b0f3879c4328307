"""Kinds of exercise, registered in one place: ``KINDS`` maps a kind's name to its object (a
:class:`~handcalc.kinds.base.Kind`); the CLI, the API, the documents and the web read it."""

from __future__ import annotations

from ..errors import SpecError
from .base import Kind
from .batchnorm import BatchNorm
from .finetune import Finetune
from .init_scale import InitScale
from .mlp import MLP
from .neuron import Neuron
from .zero_init import ZeroInit

KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Make ``kind`` known by its name (a second kind of the same name replaces the first)."""
    KINDS[kind.name] = kind
    return kind


def get(name: str) -> Kind:
    """The kind called ``name``; a SpecError naming the kinds there are for any other."""
    if not isinstance(name, str) or name not in KINDS:
        raise SpecError(f"kind: unknown {name!r}; accepted: {', '.join(KINDS)}")
    return KINDS[name]


register(MLP())
register(BatchNorm())
register(Finetune())
register(Neuron())
register(ZeroInit())
register(InitScale())

__all__ = ["KINDS", "Kind", "get", "register"]
