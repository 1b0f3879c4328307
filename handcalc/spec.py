"""What kind of MLP problem to make: the ``spec`` object of the exchange format, validated."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

from .errors import SpecError
from .options import Options, option
from .values import format_rational

ACTIVATIONS = ("relu", "leaky_relu", "identity", "sigmoid", "tanh")
LOSSES = ("softmax_ce", "sigmoid_bce", "mse")
#: the output activations; ``auto`` is the loss's own (``OWN_OUTPUT``)
OUTPUTS = ("auto", "softmax", "sigmoid", "identity")
#: each loss's own output: the pair whose output gradient is the shortcut ``A − Y``
OWN_OUTPUT = {"softmax_ce": "softmax", "sigmoid_bce": "sigmoid", "mse": "identity"}
#: the output/loss pairs a problem may have: each loss with its own output, and squared error
#: of a sigmoid (the classic backprop walkthrough's, whose output gradient has no shortcut)
PAIRS = (*((out, loss) for loss, out in OWN_OUTPUT.items()), ("sigmoid", "mse"))
REDUCTIONS = ("sum", "mean")
TRANSCENDENTALS = ("table", "base", "exact")
MAX_LAYERS = 6
MAX_WIDTH = 8
MAX_BATCH = 8
MAX_CHARS = 10  # the default per-entry budget, as printed


@dataclass(frozen=True)
class Spec(Options):
    """The options of an MLP problem; every field has the default of the classic by-hand sheet."""

    title = "MLP"
    #: the kind these are the options of (``handcalc.kinds`` maps it back to this class)
    kind: ClassVar[str] = "mlp"

    sizes: tuple[int, ...] = option(
        (4, 3, 4, 3), "Inputs, then units per layer", low=1, high=MAX_WIDTH, metavar="N,N,…"
    )
    activation: str = option("relu", "Hidden activation", choices=ACTIVATIONS)
    loss: str = option("softmax_ce", "Output and loss", choices=LOSSES)
    output: str = option(
        "auto",
        "Output activation (auto: the loss's own; sigmoid with mse)",
        choices=OUTPUTS,
        flag="--output-activation",
    )
    batch: int = option(2, "Samples (columns of X)", low=1, high=MAX_BATCH, metavar="N")
    reduction: str = option("sum", "Loss over the batch", choices=REDUCTIONS)
    lr: Fraction = option(
        Fraction(1, 10),
        "Learning rate, exact: 1/10, 0.05",
        low=Fraction(0),
        high=Fraction(10),
        accepted="0 < lr ≤ 10",
        metavar="Q",
    )
    transcendental: str = option(
        "table", "How exp/log/sigmoid/tanh are handled", choices=TRANSCENDENTALS
    )
    digits: int = option(2, "Decimals of table values", low=1, high=9, metavar="N")
    base: int = option(
        3, "Base b written for e in base mode", low=2, high=9, practice=False, metavar="N"
    )
    frozen: tuple[int, ...] = option(
        (),
        "Layers not trained, e.g. 1,2",
        low=1,
        high=MAX_LAYERS,
        allow_empty=True,
        practice=False,
        metavar="L,…",
    )
    slope: Fraction = option(
        Fraction(1, 10),
        "Leaky ReLU slope",
        low=Fraction(0),
        high=Fraction(1),
        accepted="0 < slope < 1",
        metavar="Q",
    )
    weight_max: int = option(
        3, "Largest |weight| drawn", low=1, high=9, practice=False, metavar="N"
    )
    input_max: int = option(3, "Largest |input| drawn", low=1, high=9, practice=False, metavar="N")
    max_chars: int = option(
        MAX_CHARS,
        "Characters an entry may print as",
        low=4,
        high=40,
        practice=False,
        omit_default=True,
        metavar="N",
    )

    def __post_init__(self) -> None:
        # ``auto`` (or an output left out) is the loss's own, however the options were made:
        # from a document, the CLI, a form, or in Python (``Spec(loss="mse")``)
        if self.output == "auto":
            object.__setattr__(self, "output", OWN_OUTPUT[self.loss])

    def check(self) -> None:
        """Checks that involve more than one field."""
        if (self.output, self.loss) not in PAIRS:
            raise SpecError(
                f"output: {self.output} with loss {self.loss} is not accepted; accepted: "
                f"softmax with softmax_ce, sigmoid with sigmoid_bce or mse, identity with mse "
                f"(or output auto: the loss's own)"
            )
        if self.output == "sigmoid" and self.loss == "mse" and self.transcendental == "base":
            raise SpecError(
                f"output: a sigmoid output with mse in transcendental 'base' has a gradient "
                f"carrying ln {self.base} (no log-base-{self.base} loss cancels it); use "
                f"transcendental 'table' or 'exact'"
            )
        if self.slope == 1:
            raise SpecError("slope: 1 would make leaky_relu the identity; accepted: 0 < slope < 1")
        if not 2 <= len(self.sizes) <= MAX_LAYERS + 1:
            raise SpecError(
                f"sizes: {len(self.sizes)} numbers given; accepted: 2 to "
                f"{MAX_LAYERS + 1} (the inputs, then each layer's units)"
            )
        if self.loss == "softmax_ce" and self.sizes[-1] < 2:
            raise SpecError("sizes: softmax_ce needs at least 2 output units (the last size)")
        bad = [layer for layer in self.frozen if layer > self.layers]
        if bad:
            raise SpecError(
                f"frozen: layer {bad[0]} does not exist; the network has layers 1 to {self.layers}"
            )
        if len(self.frozen) == self.layers:
            raise SpecError(
                "frozen: every layer is frozen, so nothing would be trained; "
                "leave at least one layer out of frozen"
            )
        if self.layers > 1:
            self.treatment().check_hidden(self.activation)

    @property
    def layers(self) -> int:
        return len(self.sizes) - 1

    @property
    def trainable(self) -> tuple[int, ...]:
        return tuple(layer for layer in range(1, self.layers + 1) if layer not in self.frozen)

    @property
    def factor(self) -> Fraction:
        """What the loss and every gradient are multiplied by: 1 for sum, 1/B for mean."""
        return Fraction(1) if self.reduction == "sum" else Fraction(1, self.batch)

    @property
    def own_output(self) -> bool:
        """Whether the output is the loss's own, so that ``dZ_L = A_L − Y`` (times the factor)."""
        return OWN_OUTPUT[self.loss] == self.output

    def to_dict(self) -> dict[str, Any]:
        """As every kind's options, with ``output`` written only where it is not the loss's own
        (the documents of problems from before it existed stay byte-identical)."""
        out = super().to_dict()
        if self.own_output:
            del out["output"]
        return out

    def treatment(self) -> Any:
        from .transcendental import treatment

        return treatment(self.transcendental, self.digits, self.base)

    def describe(self) -> str:
        """One line: what the problem is."""
        sizes = "-".join(map(str, self.sizes))
        lr = format_rational(self.lr.numerator, self.lr.denominator)
        loss = self.loss if self.own_output else f"{self.output} output, {self.loss}"
        return (
            f"{self.title} {sizes}, {self.activation} hidden, {loss}, batch {self.batch}, "
            f"{self.reduction} reduction, lr {lr}"
        )
