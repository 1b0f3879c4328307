"""Checks the kinds built on the MLP's options share."""

from __future__ import annotations

import dataclasses

from ..spec import (
    Spec,
)


def squashed_output(loss: str, output: str) -> bool:
    """Whether the output exponentiates its logits (softmax, σ): ``auto`` is the loss's own."""
    return output in ("softmax", "sigmoid") or (output == "auto" and loss != "mse")


def mlp_checks(spec: Spec) -> None:
    """The MLP's checks of ``spec`` without its treatment's refusal of hidden σ and tanh (a
    kind whose hidden values stay exact says why, and checks what it needs itself)."""
    Spec.check(dataclasses.replace(spec, transcendental="table"))
