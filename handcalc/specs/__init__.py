"""The options of every kind but the MLP's (``handcalc.spec.Spec``, which each of them extends:
some defaults changed, some options added), one module a kind. They are light — no sympy — so
that the CLI's ``--help`` can list the union of every kind's options (``SPECS``); a kind's engine
is in ``handcalc.kinds``, whose registry a test checks against ``SPECS``."""

from __future__ import annotations

from ..spec import Spec
from .batchnorm import BatchNormSpec
from .finetune import SCHEDULES, FinetuneSpec
from .init_scale import InitScaleSpec
from .neuron import NeuronSpec
from .zero_init import ZeroInitSpec

#: every kind's options, for the CLI (each kind's ``Options`` is one of them; a test checks it)
SPECS: tuple[type[Spec], ...] = (
    Spec,
    FinetuneSpec,
    ZeroInitSpec,
    InitScaleSpec,
    NeuronSpec,
    BatchNormSpec,
)

__all__ = [
    "SCHEDULES",
    "SPECS",
    "BatchNormSpec",
    "FinetuneSpec",
    "InitScaleSpec",
    "NeuronSpec",
    "ZeroInitSpec",
]
