"""Many epochs of the same network in float64: every parameter's trajectory and the loss curve.

``trace()`` takes the network of an exact problem (generated, or a document of your own numbers)
and trains it with plain SGD on the problem's own X and Y (``data="problem"``: full batch, the
problem's lr and reduction, so epoch 1 is the answer key's ``W{l}_new`` and ``b{l}_new``) or on a
seeded data set (moons, xor, blobs). The transcendental functions are computed the way the
problem's treatment computes them (``table``: sigmoid, tanh and softmax read to ``digits``
decimals, as from the sheet's table; ``base``: b**z for e**z; ``exact``: e**z), so the float run
continues the sheet's own arithmetic. Arithmetic comes from ``portable``: a seed gives the same
numbers on every machine.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from . import datasets, portable
from .errors import HandcalcError, SpecError
from .problem import Problem
from .spec import Spec

DATA = ("problem", *datasets.NAMES)
FORMAT = "handcalc/trace@1"
MAX_EPOCHS = 100_000
#: what a data set's network looks like where the options do not say: two hidden layers of 8
DATA_HIDDEN = (8, 8)
DATA_OPTIONS = {"reduction": "mean"}
#: the seed's stream that shuffles mini-batches (the data set has its own)
SHUFFLE_STREAM = 2
Array = np.ndarray


class TrainingError(HandcalcError):
    """A run cannot be made or did not stay finite (the message says what to change)."""


# --- the float network --------------------------------------------------------------------------


@dataclass(frozen=True)
class FloatMLP:
    """The spec's network in float64, its transcendental functions as its treatment has them."""

    spec: Spec

    @property
    def _scale(self) -> float:
        """ln b in base mode (b**z = e**(z ln b)), else 1."""
        if self.spec.transcendental == "base":
            return float(portable.log(np.array(float(self.spec.base))))
        return 1.0

    def _rounded(self, a: Array) -> Array:
        if self.spec.transcendental != "table":
            return a
        unit = 10.0**self.spec.digits
        return np.copysign(np.floor(np.abs(a) * unit + 0.5), a) / unit

    def hidden(self, z: Array) -> Array:
        match self.spec.activation:
            case "relu":
                return np.where(z > 0, z, 0.0)
            case "leaky_relu":
                return np.where(z > 0, z, float(self.spec.slope) * z)
            case "identity":
                return z
            case "sigmoid":
                return self._rounded(portable.sigmoid(z))
        return self._rounded(portable.tanh(z))

    def hidden_derivative(self, z: Array, a: Array) -> Array:
        """f′, from Z (ReLU′(0) = 0) or from the (rounded) A, as the sheet takes it."""
        match self.spec.activation:
            case "relu":
                return np.where(z > 0, 1.0, 0.0)
            case "leaky_relu":
                return np.where(z > 0, 1.0, float(self.spec.slope))
            case "identity":
                return np.ones_like(z)
            case "sigmoid":
                return a * (1.0 - a)
        return 1.0 - a * a

    def output(self, z: Array) -> Array:
        match self.spec.loss:
            case "softmax_ce":
                return self._softmax(z)
            case "sigmoid_bce":
                return self._rounded(portable.sigmoid(z * self._scale))
        return z

    def _softmax(self, z: Array) -> Array:
        s = z * self._scale
        e = portable.exp(s - s.max(axis=0, keepdims=True))
        p: Array = e / np.add.reduce(e, axis=0, keepdims=True)
        if self.spec.transcendental != "table":
            return p
        # largest remainder, as the sheet's table: each column sums to exactly 1
        unit = 10**self.spec.digits
        scaled = p * unit
        units = np.floor(scaled)
        up = unit - np.add.reduce(units, axis=0)
        order = np.argsort(-(scaled - units), axis=0, kind="stable")  # ties: the upper row
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(p.shape[0])[:, None], axis=0)
        return (units + (rank < up)) / unit

    def loss(self, z: Array, y: Array) -> float:
        """The loss summed over the columns (the reduction's factor is applied by the caller),
        from Z without rounding; in base mode in log base b."""
        s = self._scale if self.spec.transcendental == "base" else 1.0
        if self.spec.loss == "softmax_ce":
            u = z * s
            top = u.max(axis=0, keepdims=True)
            lse = top + portable.log(np.add.reduce(portable.exp(u - top), axis=0, keepdims=True))
            return float(np.sum(y * (lse - u)) / s)
        if self.spec.loss == "sigmoid_bce":
            u = z * s
            softplus = np.maximum(u, 0.0) + portable.log(1.0 + portable.exp(-np.abs(u)))
            return float(np.sum(softplus - y * u) / s)
        return float(0.5 * np.sum((z - y) ** 2))

    def forward(self, params: Mapping[str, Array], x: Array) -> list[tuple[Array, Array]]:
        """(Z, A) of each layer."""
        out = []
        a = x
        n = self.spec.layers
        for layer in range(1, n + 1):
            z = portable.matmul(params[f"W{layer}"], a) + params[f"b{layer}"]
            a = self.hidden(z) if layer < n else self.output(z)
            out.append((z, a))
        return out

    def gradients(
        self,
        params: Mapping[str, Array],
        x: Array,
        y: Array,
        factor: float,
        cache: list[tuple[Array, Array]] | None = None,
    ) -> dict[str, Array]:
        """dW and db of every trainable layer: the sheet's backward pass, in floats (from the
        forward pass ``cache`` of these parameters on ``x`` where it is at hand)."""
        cache = cache if cache is not None else self.forward(params, x)
        n = self.spec.layers
        lowest = min(self.spec.trainable)
        dz = (cache[-1][1] - y) * factor
        grads: dict[str, Array] = {}
        for layer in range(n, lowest - 1, -1):
            below = cache[layer - 2][1] if layer > 1 else x
            if layer in self.spec.trainable:
                grads[f"W{layer}"] = portable.matmul(dz, below.T)
                grads[f"b{layer}"] = np.add.reduce(dz, axis=1, keepdims=True)
            if layer > lowest:
                z, a = cache[layer - 2]
                da = portable.matmul(params[f"W{layer}"].T, dz)
                dz = da * self.hidden_derivative(z, a)
        return grads


# --- a run --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Trace:
    """A training run: ``values[name]`` is (epochs + 1) × rows × cols (epoch 0 = the initial
    values), ``loss`` the loss at each epoch's parameters on the whole data set."""

    problem: Problem
    seed: int
    data: str
    X: Array
    Y: Array
    labels: Array | None
    epochs: int
    batch_size: int | None
    values: Mapping[str, Array]
    loss: Array
    accuracy: Array | None = None
    generated: bool = True  # made by generate from the seed (else: a document's network)
    network: FloatMLP = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "network", FloatMLP(self.problem.spec))

    @property
    def spec(self) -> Spec:
        return self.problem.spec

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.values)

    @property
    def lr(self) -> Fraction:
        return self.spec.lr

    def describe(self) -> str:
        """One line: the network, the data, how it is trained."""
        spec = self.spec
        lr = spec.to_dict()["lr"]
        n = int(self.X.shape[1])
        data = "the problem's own X and Y" if self.data == "problem" else f"{self.data} data"
        batches = (
            f"mini-batches of {self.batch_size}"
            if self.batch_size and self.batch_size < n
            else "full batch"
        )
        frozen = f", layer{'s' * (len(spec.frozen) > 1)} " if spec.frozen else ""
        if frozen:
            frozen += ", ".join(map(str, spec.frozen)) + " frozen"
        return (
            f"MLP {'-'.join(map(str, spec.sizes))}, {spec.activation} hidden, {spec.loss}, "
            f"{spec.reduction} reduction, lr {lr}{frozen}; {data} ({n} samples, {batches}); "
            f"seed {self.seed}"
        )

    def command(self, out: str = "trace/") -> str:
        """The ``handcalc trace`` command that makes this run again."""
        parts = ["handcalc", "trace"]
        if not self.generated:
            parts.append("PROBLEM.json")
        parts += ["--seed", str(self.seed)]
        if self.generated:
            defaults = Spec().to_dict()
            for name, value in self.spec.to_dict().items():
                if value != defaults.get(name):
                    text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
                    parts += [f"--{name.replace('_', '-')}", text]
        if self.data != "problem":
            parts += ["--data", self.data, "--samples", str(self.X.shape[1])]
        if self.batch_size:
            parts += ["--batch-size", str(self.batch_size)]
        if self.epochs != 200:
            parts += ["--epochs", str(self.epochs)]
        return " ".join([*parts, "--out", out])

    def at(self, epoch: int) -> dict[str, Array]:
        """Every parameter after ``epoch`` epochs."""
        return {name: v[epoch] for name, v in self.values.items()}

    def predict(self, x: Array, epoch: int) -> Array:
        """The output layer's A for inputs ``x`` (features × samples) at ``epoch``."""
        return self.network.forward(self.at(epoch), x)[-1][1]

    def moved_after(self, epoch: int) -> dict[tuple[str, int, int], float]:
        """How far each entry (name, row, col — from 1) got from its value at ``epoch`` later on."""
        out = {}
        for name, v in self.values.items():
            far = np.max(np.abs(v[epoch:] - v[epoch]), axis=0)
            for (r, c), d in np.ndenumerate(far):
                out[(name, r + 1, c + 1)] = float(d)
        return out

    # --- files ---------------------------------------------------------------------------------

    def to_csv(self) -> str:
        """``epoch,name,row,col,value``: epoch 0 = the initial values, rows and columns from 1,
        one line per parameter entry per epoch (values as Python prints floats: exact)."""
        lines = ["epoch,name,row,col,value"]
        for epoch in range(self.epochs + 1):
            for name, v in self.values.items():
                rows, cols = v.shape[1:]
                lines += [
                    f"{epoch},{name},{r + 1},{c + 1},{float(v[epoch, r, c])!r}"
                    for r in range(rows)
                    for c in range(cols)
                ]
        return "\n".join(lines) + "\n"

    def loss_csv(self) -> str:
        """``epoch,loss`` (and ``accuracy`` on a data set with classes)."""
        if self.accuracy is None:
            rows = [f"{e},{float(v)!r}" for e, v in enumerate(self.loss)]
            return "epoch,loss\n" + "\n".join(rows) + "\n"
        rows = [
            f"{e},{float(v)!r},{float(a)!r}"
            for e, (v, a) in enumerate(zip(self.loss, self.accuracy, strict=True))
        ]
        return "epoch,loss,accuracy\n" + "\n".join(rows) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "seed": self.seed,
            "spec": self.spec.to_dict(),
            "data": {
                "name": self.data,
                "samples": int(self.X.shape[1]),
                "features": int(self.X.shape[0]),
            },
            "epochs": self.epochs,
            "batch_size": self.batch_size or int(self.X.shape[1]),
            "parameters": {name: v.tolist() for name, v in self.values.items()},
            "loss": self.loss.tolist(),
            **({} if self.accuracy is None else {"accuracy": self.accuracy.tolist()}),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    def write(self, out: Path, plots: bool = True) -> list[Path]:
        """``out/trace.csv``, ``loss.csv``, ``trace.json`` and, with ``plots``, the figures:
        ``parameters.svg``/``.png``, ``animation.html`` and for 2-D data ``boundary.svg``/``.png``.
        """
        if plots:
            from .plots import require_matplotlib

            require_matplotlib()
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in (
            ("trace.csv", self.to_csv()),
            ("loss.csv", self.loss_csv()),
            ("trace.json", self.to_json()),
        ):
            (out / name).write_text(text, encoding="utf-8")
            written.append(out / name)
        if plots:
            from .plots import trace_figures

            written += trace_figures(self, out)
        return written


def trace(
    problem: Problem | Mapping[str, Any] | str | bytes | Path | None = None,
    *,
    seed: int | None = None,
    data: str = "problem",
    epochs: int = 200,
    batch_size: int | None = None,
    samples: int = 200,
    progress: Callable[[int], None] | None = None,
    **options: Any,
) -> Trace:
    """Train a problem's network for ``epochs`` epochs of plain SGD; every parameter's trajectory.

    ``problem`` is a ``Problem`` or a document (``handcalc.solve`` reads it); without one a
    problem is generated from ``seed`` and ``options`` (the options of ``generate``). ``data``
    is ``problem`` (its own X and Y, full batch: epoch 1 is the key's update) or a data set:
    ``moons``, ``xor`` or ``blobs`` with ``samples`` samples drawn from the seed, where the
    network defaults to ``2,8,8,classes`` with mean reduction. ``batch_size`` makes
    mini-batches (shuffled from the seed each epoch); ``progress`` is called with each epoch done.

    >>> t = trace(seed=7, epochs=3)
    >>> t.values["W3"].shape, len(t.loss)
    ((4, 3, 4), 4)
    """
    _whole("epochs", epochs, 1, MAX_EPOCHS)
    if data not in DATA:
        raise SpecError(f"data: {data!r} is not accepted; accepted: {', '.join(DATA)}")
    if problem is not None:
        if options:
            raise SpecError(
                f"options {', '.join(sorted(options))}: a given problem brings its own spec; "
                "give either a problem or options"
            )
        from .api import solve

        problem = problem if isinstance(problem, Problem) else solve(problem)
        generated = False
        if seed is None:
            seed = problem.seed or 0
    else:
        from .api import generate

        if data != "problem":
            options = _data_options(data, options)
        problem = generate(seed=seed, **options)
        seed = problem.seed
        generated = True
    assert seed is not None
    spec = problem.spec
    if data == "problem":
        if batch_size is not None:
            raise SpecError(
                "batch_size: --data problem trains on the problem's batch as the sheet does "
                "(full batch); mini-batches are for the data sets"
            )
        x = _floats(problem, "X")
        y = _floats(problem, "Y")
        labels = None
    else:
        classes = 2 if spec.loss == "sigmoid_bce" else spec.sizes[-1]
        found = datasets.load(data, seed, samples, classes=max(2, classes))
        if found.features != spec.sizes[0]:
            raise SpecError(
                f"sizes: the data set {data!r} has {found.features} features, so the first size "
                f"must be {found.features} (e.g. {found.features},8,8,{found.classes})"
            )
        x, y, labels = found.X, found.targets(spec.sizes[-1]), found.labels
    if batch_size is not None:
        _whole("batch_size", batch_size, 1, x.shape[1])
    params = {
        f"{p}{layer}": _floats(problem, f"{p}{layer}")
        for layer in range(1, spec.layers + 1)
        for p in ("W", "b")
    }
    run = _train(problem, seed, data, x, y, labels, epochs, batch_size, params, progress)
    return dataclasses.replace(run, generated=generated)


def _data_options(data: str, options: dict[str, Any]) -> dict[str, Any]:
    """A data set's network where the options leave it open: 2 inputs, two hidden layers of 8,
    one output per class (one for sigmoid_bce), mean reduction (a sum over hundreds of samples
    would need a tiny lr)."""
    out = {**DATA_OPTIONS, **options}
    if "sizes" not in out:
        outputs = 1 if out.get("loss") == "sigmoid_bce" else 3 if data == "blobs" else 2
        out["sizes"] = [2, *DATA_HIDDEN, outputs]
    return out


def _train(
    problem: Problem,
    seed: int,
    data: str,
    x: Array,
    y: Array,
    labels: Array | None,
    epochs: int,
    batch_size: int | None,
    params: dict[str, Array],
    progress: Callable[[int], None] | None,
) -> Trace:
    spec = problem.spec
    net = FloatMLP(spec)
    lr = float(spec.lr)
    n = x.shape[1]
    history = {name: np.empty((epochs + 1, *v.shape)) for name, v in params.items()}
    loss = np.empty(epochs + 1)
    accuracy = None if labels is None else np.empty(epochs + 1)
    rng = portable.generator(seed, SHUFFLE_STREAM)
    trained = [f"{p}{layer}" for layer in spec.trainable for p in ("W", "b")]

    def record(epoch: int) -> list[tuple[Array, Array]]:
        """Keep the parameters of ``epoch`` and their loss; the forward pass, for the step."""
        for name, v in params.items():
            history[name][epoch] = v
        cache = net.forward(params, x)
        z, a = cache[-1]
        total = net.loss(z, y) * (1.0 if spec.reduction == "sum" else 1.0 / n)
        if not (np.isfinite(total) and all(np.all(np.isfinite(v)) for v in params.values())):
            raise TrainingError(
                f"training diverged by epoch {epoch} (the loss or a parameter is no longer "
                f"finite); use a smaller lr than {spec.to_dict()['lr']}"
                + (" or --reduction mean" if spec.reduction == "sum" and n > 8 else "")
            )
        loss[epoch] = total
        if accuracy is not None and labels is not None:
            guess = a.argmax(axis=0) if a.shape[0] > 1 else (z[0] > 0).astype(np.int64)
            accuracy[epoch] = float(np.mean(guess == labels))
        return cache

    full = batch_size is None or batch_size >= n
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        cache = record(0)
        for epoch in range(1, epochs + 1):
            if full:  # one step on the whole set: its forward pass is the one just recorded
                factor = 1.0 if spec.reduction == "sum" else 1.0 / n
                grads = net.gradients(params, x, y, factor, cache)
                for name in trained:
                    params[name] = params[name] - lr * grads[name]
            else:
                assert batch_size is not None
                order = np.argsort(portable.uniform(rng, n), kind="stable")
                for i in range(0, n, batch_size):
                    chosen = order[i : i + batch_size]
                    factor = 1.0 if spec.reduction == "sum" else 1.0 / len(chosen)
                    grads = net.gradients(params, x[:, chosen], y[:, chosen], factor)
                    for name in trained:
                        params[name] = params[name] - lr * grads[name]
            cache = record(epoch)
            if progress is not None:
                progress(epoch)
    return Trace(problem, seed, data, x, y, labels, epochs, batch_size, history, loss, accuracy)


def _floats(problem: Problem, name: str) -> Array:
    return np.array([[float(v) for v in row] for row in problem[name].tolist()], dtype=np.float64)


def _whole(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SpecError(
            f"{name}: {value!r} is not accepted; accepted: a whole number {low} to {high}"
        )
