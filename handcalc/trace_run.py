"""A training run of a problem's network: every parameter's trajectory over the epochs, the loss
(and accuracy) curve, and its files (``trace.csv``, ``loss.csv``, ``trace.json`` and the figures).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from .float_mlp import Array, FloatMLP
from .problem import Problem
from .spec import Spec

FORMAT = "handcalc/trace@1"


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
