"""The options of the ``neuron`` kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import SpecError
from ..options import option
from ..spec import (
    MAX_WIDTH,
    Spec,
)
from ..values import format_rational


@dataclass(frozen=True)
class NeuronSpec(Spec):
    """One neuron as a computation graph: a linear regressor (identity, squared error) or a
    logistic classifier (sigmoid, binary cross-entropy), ``n`` inputs and one output. Its
    activation is its output's; the one of the pair left out follows from the other."""

    title = "Single neuron"
    kind = "neuron"
    #: its losses, each with its own activation; its largest batch (an edge carries a value a
    #: sample, and the drawing must fit the paper)
    OWN: ClassVar[dict[str, str]] = {"mse": "identity", "sigmoid_bce": "sigmoid"}
    LOSSES: ClassVar[tuple[str, ...]] = ("mse", "sigmoid_bce")
    ACTIVATIONS: ClassVar[tuple[str, ...]] = ("identity", "sigmoid")
    MAX_BATCH: ClassVar[int] = 3

    sizes: tuple[int, ...] = option(
        (3, 1), "Inputs, then 1 (one neuron)", low=1, high=MAX_WIDTH, metavar="N,1"
    )
    activation: str = option(
        "identity",
        "The neuron's activation: identity (regressor, with mse) or sigmoid (classifier)",
        choices=ACTIVATIONS,
    )
    loss: str = option(
        "mse",
        "Loss: mse (linear regressor) or sigmoid_bce (logistic classifier)",
        choices=LOSSES,
    )
    batch: int = option(
        1,
        "Samples (columns of X); every edge of the drawing carries one value a sample",
        low=1,
        high=MAX_BATCH,
        metavar="N",
    )

    @classmethod
    def implied(cls, chosen: dict[str, Any]) -> dict[str, Any]:
        """The activation from the loss (identity for mse, sigmoid for sigmoid_bce) or the loss
        from the activation, where only one is chosen; the output is the activation."""
        out = dict(chosen)
        if "activation" not in out and out.get("loss") in cls.OWN:
            out["activation"] = cls.OWN[out["loss"]]
        if "loss" not in out and out.get("activation") in cls.OWN.values():
            out["loss"] = {a: loss for loss, a in cls.OWN.items()}[out["activation"]]
        if "output" in cls.known() and "output" not in out and "activation" in out:
            out["output"] = out["activation"]
        return out

    def check(self) -> None:
        """One neuron (sizes ``n,1``) with one of its two losses, and its activation the output
        in force; then the MLP's checks."""
        if len(self.sizes) != 2 or self.sizes[1] != 1:
            sizes = ",".join(map(str, self.sizes))
            raise SpecError(
                f"sizes: {sizes} is not one neuron; accepted: the inputs, then 1 (e.g. 3,1)"
            )
        if self.loss not in self.LOSSES:
            raise SpecError(
                f"loss: {self.loss!r} is not accepted for a neuron; accepted: mse (a linear "
                f"regressor) or sigmoid_bce (a logistic classifier)"
            )
        if self.activation not in self.ACTIVATIONS:
            raise SpecError(
                f"activation: {self.activation!r} is not accepted for a neuron; accepted: "
                f"identity or sigmoid"
            )
        if self.OWN[self.loss] != self.activation:
            raise SpecError(
                f"activation: {self.activation} with loss {self.loss} is not accepted; accepted: "
                f"identity with mse (a linear regressor), sigmoid with sigmoid_bce (a logistic "
                f"classifier)"
            )
        if self.activation != self.neuron_output:
            raise SpecError(
                f"output: {self.neuron_output} is not accepted for a neuron with activation "
                f"{self.activation}; a neuron's output is its activation"
            )
        super().check()

    @property
    def neuron_output(self) -> str:
        """The output activation in force: the ``output`` option where the MLP has one (its
        default the loss's own), else the loss's own."""
        return str(getattr(self, "output", None) or self.OWN.get(self.loss, ""))

    def describe(self) -> str:
        """One line: what the problem is."""
        n = self.sizes[0]
        lr = format_rational(self.lr.numerator, self.lr.denominator)
        model = {
            ("identity", "mse"): "linear regressor (identity, squared error)",
            ("sigmoid", "sigmoid_bce"): "logistic classifier (sigmoid, binary cross-entropy)",
        }.get((self.neuron_output, self.loss), f"{self.neuron_output} output, {self.loss}")
        return (
            f"{self.title}, {n} input{'s' * (n != 1)}, {model}, batch {self.batch}, "
            f"{self.reduction} reduction, lr {lr}"
        )
