"""The conventions printed at the top of a sheet, generated from what is in force.

One sentence per concern, each made from the spec (mode × hidden activation × output × loss ×
reduction) and nothing else, so a sheet says exactly what its key and its grader do: the loss
formula and the output gradient in force (``dZ₃ = A₃ − Y``, or ``(A₃ − Y)/B`` under ``mean``; for
squared error of a sigmoid ``(A₃ − Y)∘A₃∘(1 − A₃)``, no shortcut), the
logarithm the loss uses (``ln``, or ``log₃`` in ``base`` mode), the derivative of the hidden
activation there is (none for a one-layer net), how lookup tables are read, the precision the loss
is written to (``digits`` decimals in every mode; the grader accepts exactly that), the tolerance
of ``exact`` mode, and nothing that does not apply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .matrix import to_fraction
from .notation import printed, subscript
from .ops import MSE, Softmax
from .spec import Spec
from .transcendental import Table

if TYPE_CHECKING:  # a kind's module imports this one: nothing here imports the kinds back
    from .problem import Problem

#: the hidden activation, written as a function of z, and its derivative
_HIDDEN = {
    "relu": ("ReLU(Z) = max(0, Z)", "ReLU′(z) = 1 for z > 0, else 0; ReLU′(0) = 0"),
    "identity": ("Z (the identity)", "its derivative is 1"),
    "sigmoid": ("σ(Z), σ(z) = 1/(1 + e⁻ᶻ)", "σ′ = A∘(1 − A), from the values of A"),
    "tanh": ("tanh(Z)", "tanh′ = 1 − A², from the values of A"),
}


def instructions(problem: Problem) -> tuple[str, ...]:
    """The conventions in force, one sentence each, for the top of the sheet."""
    spec = problem.spec
    out = [_network(spec), _loss(spec), _output_gradient(spec), _backward(spec), _update(problem)]
    mode = _mode(problem)
    if mode:
        out.append(mode)
    if _rounding_ties(problem):
        out.append(
            "Rounding ties: a value half-way between two decimals rounds away from zero, and "
            "where a softmax column has equal remainders the upper row gets the extra unit first."
        )
    out.append(_precision(spec))
    return tuple(out)


def _z(layer: int) -> str:
    return subscript(f"Z{layer}")


def _a(layer: int) -> str:
    return subscript(f"A{layer}")


def _log(spec: Spec) -> str:
    return f"log{subscript(f'x{spec.base}')[1:]}" if spec.transcendental == "base" else "ln"


def _power(spec: Spec) -> str:
    """bᶻ as the output writes it: eᶻ, or 3ᶻ in ``base`` mode."""
    return f"{spec.base}ᶻ" if spec.transcendental == "base" else "eᶻ"


def _network(spec: Spec) -> str:
    n = spec.layers
    text = (
        f"Samples are columns: X is {spec.sizes[0]} × {spec.batch}; Z = W·A + b (b added to "
        f"every column); A₀ = X"
    )
    if n > 1:
        hidden = "layer 1" if n == 2 else f"layers 1 to {n - 1}"
        text += f"; hidden {hidden}: A = {_hidden_value(spec)}"
    return text + f"; output: {_OUTPUT[spec.output](spec, n)}."


def _hidden_value(spec: Spec) -> str:
    if spec.activation == "leaky_relu":
        return f"leaky ReLU(Z): z for z > 0, else {printed(spec.slope)}·z"
    return _HIDDEN[spec.activation][0]


_NAMES = {"sigmoid": "σ", "tanh": "tanh", "softmax": "softmax"}

#: the output activation (``spec.output``), written as a function of its Z
_OUTPUT = {
    "softmax": lambda spec, n: (
        f"{_a(n)} = softmax({_z(n)}) column by column ({_power(spec)} over the column's sum "
        f"of {_power(spec)})"
    ),
    "sigmoid": lambda spec, n: f"{_a(n)} = σ({_z(n)}), σ(z) = {_power(spec)}/(1 + {_power(spec)})",
    "identity": lambda spec, n: f"{_a(n)} = {_z(n)} (the identity)",
}


def _loss(spec: Spec) -> str:
    n, log = spec.layers, _log(spec)
    mean = f"(1/{spec.batch})·" if spec.reduction == "mean" else ""
    a = _a(n)
    formula = {
        "softmax_ce": f"L = −{mean}Σ Y∘{log} {a}",
        "sigmoid_bce": f"L = −{mean}Σ [Y∘{log} {a} + (1 − Y)∘{log}(1 − {a})]",
        "mse": f"L = ½·{mean}Σ ({a} − Y)²",
    }[spec.loss]
    name = {
        "softmax_ce": "cross-entropy",
        "sigmoid_bce": "binary cross-entropy",
        "mse": "squared error",
    }[spec.loss]
    reduction = (
        "summed over the batch (reduction “sum”)"
        if spec.reduction == "sum"
        else f"averaged over the batch (reduction “mean”: the loss and every gradient are "
        f"divided by B = {spec.batch})"
    )
    where = f"; {log} is the logarithm to base {spec.base}" if spec.transcendental == "base" else ""
    return f"Loss: {formula}, {name} over every entry, {reduction}{where}."


def _output_gradient(spec: Spec) -> str:
    n = spec.layers
    dz, a = subscript(f"dZ{n}"), _a(n)
    if not spec.own_output:  # squared error of a sigmoid: no shortcut
        product = f"({a} − Y)∘{a}∘(1 − {a})"
        rule = f"{dz} = {product}" if spec.reduction == "sum" else f"{dz} = {product}/{spec.batch}"
        return (
            f"Output gradient: {rule} (½ squared error differentiates to {a} − Y, and the "
            f"sigmoid's σ′ = {a}∘(1 − {a}) does not cancel: there is no shortcut {dz} = {a} − Y "
            f"here)."
        )
    rule = f"{dz} = {a} − Y" if spec.reduction == "sum" else f"{dz} = ({a} − Y)/{spec.batch}"
    why = {
        "softmax_ce": "softmax and cross-entropy",
        "sigmoid_bce": "σ and binary cross-entropy",
        "mse": "the identity and ½ squared error",
    }[spec.loss]
    base = (
        f"; {_power(spec)} with {_log(spec)} keeps it exact"
        if spec.transcendental == "base" and spec.loss != "mse"
        else ""
    )
    return f"Output gradient: {rule} ({why} differentiated together{base})."


def _backward(spec: Spec) -> str:
    text = "Backward: dZ = ∂L/∂Z, dW = dZ·Aᵀ (A the layer's input), db = dZ summed over columns"
    if spec.layers == 1:
        return text + "."
    if spec.activation == "leaky_relu":
        slope = printed(spec.slope)
        rule = f"leaky ReLU′(z) = 1 for z > 0, else {slope}; leaky ReLU′(0) = {slope}"
    else:
        rule = _HIDDEN[spec.activation][1]
    return text + f", dA = Wᵀ·dZ, dZ = dA ∘ f′(Z) with {rule}."


def _update(problem: Problem) -> str:
    spec = problem.spec
    lr = printed(to_fraction(problem.value("lr").to_list()[0][0]))
    text = f"Update with learning rate lr = {lr}: W new = W − lr·dW, b new = b − lr·db."
    if spec.frozen:
        frozen = ", ".join(map(str, spec.frozen))
        several = len(spec.frozen) > 1
        text += f" Frozen layer{'s' if several else ''} {frozen}: not updated, no dW or db there"
        lowest = min(spec.trainable)
        if lowest > 1:
            text += (
                f"; backprop stops at {subscript(f'dZ{lowest}')}: nothing below layer {lowest} "
                f"is trained, so no gradient goes further down"
            )
        text += "."
    return text


def _mode(problem: Problem) -> str | None:
    spec = problem.spec
    match spec.transcendental:
        case "table":
            tables = list(problem.tables.values())
            if not tables:
                return None
            functions = " and ".join(dict.fromkeys(_NAMES[t.function] for t in tables))
            decimals = f"{spec.digits} decimal{'s' if spec.digits > 1 else ''}"
            several = len(tables) > 1
            read = "; ".join(
                f"find each {'column' if t.columns else 'entry'} of {subscript(t.argument)} "
                f"among its z and copy the value under it into {subscript(t.cell)}"
                for t in tables
            )
            return (
                f"Lookup table{'s' if several else ''} of {functions}, rounded to {decimals}, "
                f"under {'their layers' if several else 'its layer'}: {read}. "
                f"{'They list' if several else 'It lists'} arguments you do not need: compute "
                f"Z first."
            )
        case "base":
            if spec.output == "identity":
                return None
            return (
                f"{spec.base}ᶻ in place of eᶻ (written {spec.base}^z in place of e^z by hand): "
                f"every value on the gradient path is an exact fraction."
            )
        case "exact":
            from .grading import DEFAULT_TOLERANCE

            return (
                "Values are exact expressions in e (the key gives each with its decimal): write "
                "the output A and the cells computed from it as decimals with at least 4 "
                f"significant digits, accepted within a relative tolerance of "
                f"{DEFAULT_TOLERANCE * 100:g} %."
            )
    return None


def _precision(spec: Spec) -> str:
    """The loss line: the one value (besides a table's) written rounded, in every mode. That every
    other value is exact is the sheet's rule of numbers, printed above the conventions."""
    d = spec.digits
    example = "0." + "36"[:d].ljust(d, "0")
    return (
        f"The loss line: write L to {d} decimal{'s' if d > 1 else ''} ({example}), rounding "
        f"halves away from zero."
    )


def _rounding_ties(problem: Problem) -> bool:
    """Whether a table-mode rounding had to break a tie (generated problems never do; an
    authored one may, and then the sheet says how)."""
    for step in problem.steps:
        op = step.op
        treatment = getattr(op, "treatment", None)
        if not isinstance(treatment, Table):
            continue
        inputs = [problem.value(name) for name in step.inputs]
        if isinstance(op, Softmax) and treatment.softmax_ties(inputs[0]):
            return True
        if isinstance(op, MSE):
            (exact,) = op.squared_error(*inputs).to_list()[0]
            if treatment.is_half(to_fraction(exact)):
                return True
    return False
