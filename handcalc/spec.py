"""What kind of MLP problem to make: the ``spec`` object of the exchange format, validated."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
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


# --- the options of the kinds built on the MLP's steps: the MLP's, some defaults changed, some
# --- options added (a kind's engine is in handcalc.kinds; its options are here, light enough for
# --- the CLI's --help, which lists the union of every kind's options: SPECS)

SCHEDULES = ("compare", "warmup")


@dataclass(frozen=True)
class FinetuneSpec(Spec):
    """Fine-tuning a pretrained network: every layer trained versus the lower layers frozen
    (``compare``), or a new head warmed up on a frozen body before everything is unfrozen
    (``warmup``)."""

    title = "Fine-tuning"
    kind = "finetune"

    sizes: tuple[int, ...] = option(
        (2, 2, 2, 2), "Inputs, then units per layer", low=1, high=MAX_WIDTH, metavar="N,N,…"
    )
    batch: int = option(1, "Samples (columns of X)", low=1, high=MAX_BATCH, metavar="N")
    frozen: tuple[int, ...] = option(
        (1, 2),
        "Layers kept frozen (default: all but the last)",
        low=1,
        high=MAX_LAYERS,
        allow_empty=True,  # kept sorted, each layer once; check() refuses an empty one
        practice=False,
        metavar="L,…",
    )
    schedule: str = option(
        "compare",
        "compare: full fine-tuning beside frozen layers; warmup: a new head, then unfreeze",
        choices=SCHEDULES,
    )
    lr2: Fraction = option(
        Fraction(1, 100),
        "Learning rate after unfreezing (warmup; default lr/10)",
        low=Fraction(0),
        high=Fraction(10),
        accepted="0 < lr2 ≤ 10",
        metavar="Q",
    )

    @classmethod
    def implied(cls, chosen: dict[str, Any]) -> dict[str, Any]:
        out = dict(chosen)
        if "lr2" not in out and "lr" in out:
            out["lr2"] = out["lr"] / 10
        if "frozen" not in out and "sizes" in out:
            out["frozen"] = tuple(range(1, len(out["sizes"]) - 1))
        return out

    def check(self) -> None:
        """The MLP's checks, then the fine-tuning's own: 2 to 6 layers, at least one of them
        frozen, and never the last (the head every schedule trains)."""
        super().check()
        n = self.layers
        if n < 2:
            raise SpecError(
                "sizes: fine-tuning needs at least 2 layers (a body to freeze and a head to "
                "train): give at least 3 numbers, e.g. 2,2,2,2"
            )
        if not self.frozen:
            raise SpecError(
                f"frozen: no layer frozen; accepted: some of the layers 1 to {n - 1} "
                f"(the frozen scheme has to freeze something)"
            )
        if n in self.frozen:
            raise SpecError(
                f"frozen: layer {n} is the last layer (the head), which every schedule trains; "
                f"accepted: layers 1 to {n - 1}"
            )
        if self.schedule == "warmup" and self.transcendental == "base":
            raise SpecError(
                f"transcendental: 'base' writes {self.base}^z exactly for whole z only, and the "
                f"head's update in the warm-up makes the next output pre-activations fractions; "
                f"use transcendental 'table' or 'exact'"
            )

    def describe(self) -> str:
        """The MLP's line, then the schedule: what is frozen, and the second rate."""
        frozen = ", ".join(map(str, self.frozen))
        layers = f"layer{'s' if len(self.frozen) > 1 else ''} {frozen}"
        if self.schedule == "compare":
            return f"{super().describe()}; full fine-tuning vs {layers} frozen"
        lr2 = format_rational(self.lr2.numerator, self.lr2.denominator)
        return (
            f"{super().describe()}; a new head on {layers} frozen, then every layer with lr2 {lr2}"
        )


@dataclass(frozen=True)
class ZeroInitSpec(Spec):
    """Every weight and bias starts at 0: a few SGD steps show which parameters move.

    Every cell stays exact, so that no rounding can break the symmetry the lesson is about (a
    tabulated uniform softmax 0.33/0.33/0.34 would): ``table`` mode only where nothing is looked
    up but σ(0), tanh(0) and a softmax of equal logits that the decimals hold, ``exact`` mode
    where a later step exponentiates the moved output bias, and nothing whose exact values grow
    too long to print (``check`` says which options do)."""

    title = "Zero initialisation"
    kind = "zero_init"
    #: the hidden activations the lesson compares; the transcendental modes that stay exact
    ACTIVATIONS: ClassVar[tuple[str, ...]] = ("relu", "tanh", "sigmoid")
    TRANSCENDENTALS: ClassVar[tuple[str, ...]] = ("table", "exact")

    sizes: tuple[int, ...] = option(
        (2, 2, 2), "Inputs, then units per layer", low=1, high=MAX_WIDTH, metavar="N,N,…"
    )
    activation: str = option(
        "relu", "Hidden activation (zero_init: relu, tanh or sigmoid)", choices=ACTIVATIONS
    )
    loss: str = option("mse", "Output and loss", choices=LOSSES)
    batch: int = option(1, "Samples (columns of X)", low=1, high=MAX_BATCH, metavar="N")
    lr: Fraction = option(
        Fraction(1, 2),
        "Learning rate, exact: 1/10, 0.05",
        low=Fraction(0),
        high=Fraction(10),
        accepted="0 < lr ≤ 10",
        metavar="Q",
    )
    transcendental: str = option(
        "table",
        "How exp/log/sigmoid/tanh are handled (zero_init: table where nothing is rounded, "
        "else exact)",
        choices=TRANSCENDENTALS,
    )
    steps: int = option(2, "SGD steps, each a section s1, s2, …", low=1, high=3, metavar="N")

    @classmethod
    def implied(cls, chosen: dict[str, Any]) -> dict[str, Any]:
        """``exact`` mode where ``table`` would have to round (unless a mode is chosen)."""
        out = dict(chosen)
        if "transcendental" not in out:
            options = {name: default for name, _, default in cls.declared()} | out
            if _zero_init_rounds(options):
                out["transcendental"] = "exact"
        return out

    def check(self) -> None:
        """The MLP's checks (but for the exact treatment's refusal of hidden σ and tanh: their
        inputs stay 0 in every step allowed here), then what keeps every cell exact and short."""
        if self.activation not in self.ACTIVATIONS:
            raise SpecError(
                f"activation: {self.activation!r} is not accepted for zero_init; accepted: "
                f"{', '.join(self.ACTIVATIONS)}"
            )
        if self.transcendental not in self.TRANSCENDENTALS:
            raise SpecError(
                f"transcendental: {self.transcendental!r} is not accepted for zero_init; "
                f"accepted: table (where nothing is rounded) or exact"
            )
        if len(self.sizes) < 3:
            raise SpecError(
                "sizes: zero_init needs a hidden layer (at least 3 numbers, e.g. 2,2,2): the "
                "symmetry it shows is between hidden units"
            )
        if self.frozen:
            raise SpecError("frozen: zero_init trains every layer; leave frozen empty")
        _mlp_checks(self)
        squashed = _squashed_output(self.loss, getattr(self, "output", "auto"))
        if self.steps == 3 and (squashed or self.activation == "sigmoid"):
            what = f"a {self.loss} output" if squashed else "hidden sigmoids"
            raise SpecError(
                f"steps: 3 steps with {what} nest exponentials too long to print exactly (the "
                f"third step exponentiates values the second one moved); use steps 2, or "
                f"steps 3 with loss mse and activation relu or tanh"
            )
        if self.steps > 1 and self.loss == "mse" and squashed:
            raise SpecError(
                "output: a σ output with mse has the output gradient (A − Y)∘A(1 − A), whose "
                "exact values after the first step are too long to print; use steps 1, or loss "
                "sigmoid_bce (its own σ output) or mse with the identity output"
            )
        reason = _zero_init_rounds(self.to_dict() | {"output": getattr(self, "output", "auto")})
        if reason and self.transcendental == "table":
            raise SpecError(
                f"transcendental: table would round {reason}, and a rounded value breaks the "
                f"exact symmetry this exercise shows; use transcendental exact"
            )

    def describe(self) -> str:
        """The MLP's line, then the start and the steps."""
        steps = f"{self.steps} SGD step{'s' * (self.steps != 1)}"
        return f"{super().describe()}; every weight and bias 0, {steps}"


@dataclass(frozen=True)
class InitScaleSpec(Spec):
    """Kaiming initialisation's scale per layer, and the loss a network starts from: the gain
    of the activation, each layer's ``std = gain/√fan_in``, the loss of a uniform K-class
    prediction (``log K``) and the loss of a badly scaled output layer's given logits. Every
    layer, the last one too, is scaled with the hidden activation's gain (as
    ``torch.nn.init.kaiming_normal_`` with that nonlinearity does)."""

    title = "Initialisation scale"
    kind = "init_scale"
    #: the modes the logarithms are taken in (the standard deviations are exact roots in every
    #: mode; no table is looked up)
    TRANSCENDENTALS: ClassVar[tuple[str, ...]] = ("exact", "base")

    sizes: tuple[int, ...] = option(
        (2, 4, 8, 3),
        "Inputs, then units per layer; the last is the number of classes K",
        low=1,
        high=MAX_WIDTH,
        metavar="N,N,…",
    )
    loss: str = option("softmax_ce", "Output and loss (init_scale: softmax_ce)", choices=LOSSES)
    batch: int = option(2, "Samples (columns of X)", low=1, high=MAX_BATCH, metavar="N")
    reduction: str = option("mean", "Loss over the batch", choices=REDUCTIONS)
    transcendental: str = option(
        "exact",
        "How the logarithms of the loss are taken (init_scale: exact, or base)",
        choices=TRANSCENDENTALS,
    )

    def check(self) -> None:
        """The MLP's checks (no hidden value is computed, so every activation is accepted in
        every mode), then a softmax output of at least 2 classes."""
        if self.loss != "softmax_ce":
            raise SpecError(
                f"loss: {self.loss!r} is not accepted for init_scale; accepted: softmax_ce "
                f"(the initial loss of a K-class softmax)"
            )
        if self.transcendental not in self.TRANSCENDENTALS:
            raise SpecError(
                f"transcendental: {self.transcendental!r} is not accepted for init_scale; "
                f"accepted: exact or base (the standard deviations are exact roots in both)"
            )
        _mlp_checks(self)

    @property
    def classes(self) -> int:
        """K, the number of classes: the last size."""
        return self.sizes[-1]

    def describe(self) -> str:
        """Sizes, activation, classes and the batch of the given logits."""
        sizes = "-".join(map(str, self.sizes))
        activation = self.activation
        if activation == "leaky_relu":
            activation += (
                f" (slope {format_rational(self.slope.numerator, self.slope.denominator)})"
            )
        return (
            f"{self.title} {sizes}, {activation}, {self.classes} classes, given logits of "
            f"batch {self.batch}, {self.reduction} reduction"
        )


def _squashed_output(loss: str, output: str) -> bool:
    """Whether the output exponentiates its logits (softmax, σ): ``auto`` is the loss's own."""
    return output in ("softmax", "sigmoid") or (output == "auto" and loss != "mse")


def _zero_init_rounds(options: Mapping[str, Any]) -> str:
    """What ``table`` mode would round in a zero-initialised problem ("" for nothing): the
    softmax of equal logits, 1/K, where the decimals cannot hold it; the output of a later step,
    whose logits are the moved output bias."""
    sizes, loss = tuple(options["sizes"]), options["loss"]
    classes, digits = sizes[-1], int(options["digits"])
    if loss == "softmax_ce" and (10**digits) % classes:
        return (
            f"the uniform softmax 1/{classes} to {digits} decimal{'s' * (digits != 1)} "
            f"(0.33/0.33/0.34 for 3 classes)"
        )
    if int(options["steps"]) > 1 and _squashed_output(loss, options.get("output", "auto")):
        return "the output of step 2, whose logits are the moved output bias"
    return ""


def _mlp_checks(spec: Spec) -> None:
    """The MLP's checks of ``spec`` without its treatment's refusal of hidden σ and tanh (a
    kind whose hidden values stay exact says why, and checks what it needs itself)."""
    Spec.check(dataclasses.replace(spec, transcendental="table"))


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


@dataclass(frozen=True)
class BatchNormSpec(Spec):
    """Batch normalisation by hand: ``X → Linear 1 → BatchNorm 1 → activation → Linear 2 →
    output and loss``, trained one step in training mode (biased batch variance), the running
    statistics updated (unbiased), and the layer folded for inference. ``eps`` is 0 by hand
    ("hand mode", every square root is of a perfect square); PyTorch's 1e-5 makes the roots
    irrational, so it is accepted in ``exact`` mode only."""

    title = "Batch normalisation"
    kind = "batchnorm"

    sizes: tuple[int, ...] = option(
        (3, 2, 2),
        "Inputs, batch-normalised hidden units, outputs",
        low=1,
        high=MAX_WIDTH,
        metavar="N,N,N",
    )
    batch: int = option(4, "Samples (columns of X), at least 2", low=1, high=MAX_BATCH, metavar="N")
    momentum: Fraction = option(
        Fraction(1, 10),
        "Momentum of the running statistics (PyTorch's convention)",
        low=Fraction(0),
        high=Fraction(1),
        accepted="0 < momentum ≤ 1",
        metavar="Q",
    )
    eps: Fraction = option(
        Fraction(0),
        "ε added to the variance: 0 by hand; e.g. 1/100000 (PyTorch's) in exact mode only",
        low=Fraction(-1),
        high=Fraction(1, 10),
        accepted="0 ≤ eps ≤ 1/10",
        practice=False,
        metavar="Q",
    )

    def check(self) -> None:
        """Three sizes, a batch of two or more, no frozen layer, and eps 0 outside exact mode."""
        if len(self.sizes) != 3:
            raise SpecError(
                f"sizes: {len(self.sizes)} numbers given; accepted: exactly 3 for batchnorm "
                f"(the inputs, the batch-normalised hidden units, the outputs), e.g. 3,2,2"
            )
        if self.batch < 2:
            raise SpecError(
                "batch: 1 sample has no variance to normalise by; accepted: 2 to "
                f"{MAX_BATCH} for batchnorm"
            )
        if self.frozen:
            raise SpecError("frozen: not offered for batchnorm; every layer is trained")
        if self.eps < 0:
            raise SpecError(f"eps: {self.eps} is out of range; accepted: 0 ≤ eps ≤ 1/10")
        if self.eps and self.transcendental != "exact":
            eps = format_rational(self.eps.numerator, self.eps.denominator)
            raise SpecError(
                f"eps: {eps} makes √(var + eps) irrational, which no one works by hand; "
                f"use eps 0 (hand mode, every root a perfect square), or transcendental "
                f"'exact' for PyTorch's eps (--transcendental exact --eps 1/100000)"
            )
        super().check()

    def describe(self) -> str:
        """The MLP's line, then the momentum and eps."""
        momentum = format_rational(self.momentum.numerator, self.momentum.denominator)
        eps = format_rational(self.eps.numerator, self.eps.denominator)
        mode = " (hand mode)" if not self.eps else ""
        return f"{super().describe()}, momentum {momentum}, eps {eps}{mode}"


#: every kind's options, for the CLI (each kind's ``Options`` is one of them; a test checks it)
SPECS: tuple[type[Spec], ...] = (
    Spec,
    FinetuneSpec,
    ZeroInitSpec,
    InitScaleSpec,
    NeuronSpec,
    BatchNormSpec,
)
