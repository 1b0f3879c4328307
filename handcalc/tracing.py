"""Many epochs of the same network in float64: every parameter's trajectory and the loss curve.

``trace()`` takes the network of an exact problem (generated, or a document of your own numbers)
and trains it with plain SGD on the problem's own X and Y (``data="problem"``: full batch, the
problem's lr and reduction, so epoch 1 is the answer key's ``W{l}_new`` and ``b{l}_new``) or on a
seeded data set (moons, xor, blobs). The transcendental functions are computed the way the
problem's treatment computes them (``table``: sigmoid, tanh and softmax read to ``digits``
decimals, as from the sheet's table; ``base``: b**z for e**z; ``exact``: e**z), so the float run
continues the sheet's own arithmetic. Arithmetic comes from ``portable``: a seed gives the same
numbers on every machine.

The float network is :mod:`handcalc.float_mlp`'s and the run it makes :mod:`handcalc.trace_run`'s;
``FloatMLP``, ``Trace`` and ``FORMAT`` are importable from here too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import datasets, portable
from .errors import HandcalcError, SpecError
from .float_mlp import Array as Array
from .float_mlp import FloatMLP as FloatMLP
from .problem import Problem
from .trace_run import FORMAT as FORMAT
from .trace_run import Trace as Trace

DATA = ("problem", *datasets.NAMES)
MAX_EPOCHS = 100_000
#: what a data set's network looks like where the options do not say: two hidden layers of 8
DATA_HIDDEN = (8, 8)
DATA_OPTIONS = {"reduction": "mean"}
#: the seed's stream that shuffles mini-batches (the data set has its own)
SHUFFLE_STREAM = 2


class TrainingError(HandcalcError):
    """A run cannot be made or did not stay finite (the message says what to change)."""


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
