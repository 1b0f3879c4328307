"""The questions of a lab sheet, with answers computed from the run itself (which parameters stop
moving and why, when the loss halves, which layer saturates and why, …), so every seed and option
gets its own key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .diagnostics import Health
    from .tracing import Trace

#: an entry that moves less than this after the question's epoch "stops moving"
STILL = 1e-3
#: entries named one by one before "and N more"
LISTED = 10


@dataclass(frozen=True)
class Question:
    text: str
    answer: str
    lines: int = 3  # ruled lines left for the answer on the worksheet


# --- traces --------------------------------------------------------------------------------------


def settle_epoch(epochs: int) -> int:
    """The epoch the "which parameters stop moving" question asks after: 50, or a quarter of a
    shorter run."""
    return min(50, max(1, epochs // 4))


def still_entries(trace: Trace, after: int) -> list[tuple[str, int, int]]:
    """Entries (name, row, col from 1) that move less than ``STILL`` after epoch ``after``."""
    return [key for key, far in trace.moved_after(after).items() if far < STILL]


def _entries_text(entries: list[tuple[str, int, int]], trace: Trace) -> str:
    """``all of W1 and b1; W2[2,1], W2[2,3]`` — whole matrices by name, others entry by entry."""
    by_name: dict[str, list[tuple[int, int]]] = {}
    for name, r, c in entries:
        by_name.setdefault(name, []).append((r, c))
    whole = [n for n, cells in by_name.items() if len(cells) == trace.values[n][0].size]
    single = [f"{n}[{r},{c}]" for n, cells in by_name.items() if n not in whole for r, c in cells]
    parts = []
    if whole:
        parts.append("all of " + _and(whole))
    if single:
        shown = ", ".join(single[:LISTED])
        more = len(single) - LISTED
        parts.append(shown + (f" and {more} more" if more > 0 else ""))
    return "; ".join(parts)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def why_still(trace: Trace, after: int, entries: list[tuple[str, int, int]]) -> list[str]:
    """The reasons entries stop moving: a frozen layer, a ReLU unit that is off for every
    sample, gradients that are exactly zero (table rounding), or a loss that has flattened."""
    spec = trace.spec
    reasons = []
    names = {name for name, _, _ in entries}
    frozen = [layer for layer in spec.frozen if f"W{layer}" in names]
    if frozen:
        reasons.append(
            f"layer{'s' if len(frozen) > 1 else ''} {_and([str(f) for f in frozen])} "
            f"{'are' if len(frozen) > 1 else 'is'} frozen: never updated"
        )
    if spec.activation == "relu":
        for layer in range(1, spec.layers):
            dead = [
                i + 1
                for i in range(spec.sizes[layer])
                if all(
                    np.all(trace.network.forward(trace.at(e), trace.X)[layer - 1][0][i] <= 0)
                    for e in (after, (after + trace.epochs) // 2, trace.epochs)
                )
            ]
            if dead:
                units = _and([str(u) for u in dead])
                reasons.append(
                    f"unit{'s' if len(dead) > 1 else ''} {units} of layer {layer} "
                    f"{'are' if len(dead) > 1 else 'is'} off (Z ≤ 0) for every sample: ReLU′ = 0 "
                    f"there, so no gradient reaches {'those rows' if len(dead) > 1 else 'that row'}"
                    f" of W{layer} and b{layer}, and A = 0 gives the matching column of "
                    f"W{layer + 1} no gradient either"
                )
    outputs = trace.network.forward(trace.at(after), trace.X)[-1][1]
    if spec.transcendental == "table" and spec.loss != "mse" and np.array_equal(outputs, trace.Y):
        reasons.append(
            f"the outputs, read to {spec.digits} decimals as from the table, equal Y exactly "
            f"by epoch {after}, so dZ{spec.layers} = A{spec.layers} − Y = 0 and no gradient "
            "flows at all (the unrounded probabilities are only close to 0 and 1)"
        )
    total = len(trace.moved_after(after))
    if not reasons and len(entries) == total:
        reasons.append("the samples are fitted: the loss is flat and its gradient close to 0")
    return reasons


def trace_questions(trace: Trace) -> list[Question]:
    spec = trace.spec
    questions = []
    last = spec.trainable[-1]
    if trace.data == "problem":
        key = trace.problem.text(f"W{last}_new")[0][0]
        value = float(trace.values[f"W{last}"][1, 0, 0])
        questions.append(
            Question(
                f"Epoch 1 is the step of the worksheet. Read W{last}[1,1] after it from the "
                f"figure or trace.csv, and compare it with your W{last}_new.",
                f"{value:.6g}: the key's W{last}_new[1,1] is {key} (the trace repeats the "
                "sheet's arithmetic in floating point).",
                2,
            )
        )
    after = settle_epoch(trace.epochs)
    still = still_entries(trace, after)
    total = len(trace.moved_after(after))
    if still:
        listed = "every parameter" if len(still) == total else _entries_text(still, trace)
        reasons = why_still(trace, after, still)
        answer = (
            f"{listed} ({len(still)} of {total} entries move less than {STILL:g} after epoch "
            f"{after}). Why: " + "; ".join(reasons or ["their gradients are close to 0"]) + "."
        )
    else:
        answer = f"none: all {total} entries still move by at least {STILL:g} after epoch {after}."
    questions.append(
        Question(
            f"Which parameters stop moving after epoch {after}, and why?",
            answer,
            4,
        )
    )
    start = float(trace.loss[0])
    below = np.nonzero(trace.loss <= start / 2)[0]
    questions.append(
        Question(
            "When does the loss first fall below half of its starting value?",
            (
                f"at epoch {int(below[0])}: {float(trace.loss[below[0]]):.4g} against "
                f"{start:.4g} at epoch 0."
                if below.size
                else f"never in {trace.epochs} epochs (it starts at {start:.4g} and ends at "
                f"{float(trace.loss[-1]):.4g})."
            ),
            2,
        )
    )
    travel = {}
    for layer in range(1, spec.layers + 1):
        steps = [
            np.abs(np.diff(trace.values[f"{p}{layer}"], axis=0)).sum(axis=0).ravel()
            for p in ("W", "b")
        ]
        travel[layer] = float(np.mean(np.concatenate(steps)))
    far = max(travel, key=lambda layer: travel[layer])
    questions.append(
        Question(
            "Which layer's parameters travel farthest over the run (the length of their paths, "
            "on average per entry)? Suggest a reason.",
            f"layer {far}: "
            + ", ".join(f"layer {k} {v:.3g}" for k, v in travel.items())
            + ". dW = dZ·Aᵀ of the layer's input: a layer moves far when its inputs are large "
            "(layer 1 sees X itself) or its dZ is (the output layer's is A − Y itself); on the "
            "way down each Wᵀ and f′ can shrink dZ.",
            3,
        )
    )
    from .plots import has_boundary, labels_of, snapshots

    labels = labels_of(trace)
    if has_boundary(trace) and labels is not None:
        accuracies = []
        for e in snapshots(trace.epochs):
            out = trace.predict(trace.X, e)
            guess = out.argmax(axis=0) if out.shape[0] > 1 else (out[0] > 0.5).astype(int)
            accuracies.append(float(np.mean(guess == labels)))
        shown = "; ".join(
            f"epoch {e}: {a:.0%}" for e, a in zip(snapshots(trace.epochs), accuracies, strict=True)
        )
        wrong = round((1 - accuracies[-1]) * len(labels))
        questions.append(
            Question(
                "Read the decision regions: how many samples are on the wrong side at each "
                "epoch shown? Where do the ones that stay wrong lie?",
                shown
                + (
                    ". By the end every sample is on its side."
                    if wrong == 0
                    else f". {wrong} stay wrong at the end: where the classes overlap, or where "
                    "the boundary would have to bend more sharply than its few ReLU pieces allow."
                ),
                3,
            )
        )
    return questions


# --- health --------------------------------------------------------------------------------------


def health_questions(health: Health) -> list[Question]:
    from .diagnostics import SATURATION_LIMIT, settled

    runs = health.runs
    questions = []
    saturating = []
    for name, run in runs.items():
        worst = max(run.hidden, key=lambda h: h.saturation or 0.0)
        found = [h for h in run.hidden if (h.saturation or 0.0) > SATURATION_LIMIT]
        saturating.append(
            f"{name}: "
            + (
                f"{len(found)} of {len(run.hidden)} layers saturate (over {SATURATION_LIMIT:g} %),"
                f" the worst is layer "
                f"{worst.layer} ({worst.saturation or 0:.1f} % beyond ±0.97, pre-activation std "
                f"{worst.preact_std or 0:.2f})"
                if found
                else f"none (at most {worst.saturation or 0:.1f} %, layer {worst.layer})"
            )
        )
    questions.append(
        Question(
            "Figure (1): which layer saturates, and why?",
            "; ".join(saturating)
            + ". A unit saturates where |z| is large: tanh′ = 1 − tanh² is then near 0, so the "
            "gradient through it vanishes. Weights from N(0, 1) give a 100-input unit a "
            "pre-activation with std about √100 = 10.",
            4,
        )
    )
    spreads = [
        f"{name}: " + ", ".join(f"{h.act_std or 0:.2f}" for h in run.hidden)
        for name, run in runs.items()
    ]
    questions.append(
        Question(
            "How does the spread (std) of the activations change from layer to layer in each "
            "configuration? Why does Kaiming's scale (5/3)/√fan_in keep it steady?",
            "std by layer — "
            + "; ".join(spreads)
            + ". Var(Σ w·x) = fan_in · Var(w) · Var(x): a weight variance of 1/fan_in keeps "
            "the pre-activation's variance that of the input; the gain 5/3 makes up for tanh "
            "squashing it.",
            4,
        )
    )
    outliers = []
    for name, run in runs.items():
        ratios = {layer.name: layer.grad_data_ratio for layer in run.layers}
        top = max(ratios, key=lambda k: ratios[k])
        median = float(np.median(list(ratios.values())))
        outliers.append(
            f"{name}: {top} at {ratios[top]:.1e}, {ratios[top] / median:.1f}× the median"
        )
    questions.append(
        Question(
            "Figure (3): which weight matrix's grad:data ratio stands out, and what does that "
            "mean for training with one learning rate for all layers?",
            "; ".join(outliers)
            + ". A ratio far above the others means that layer's weights change fastest for "
            "the same lr — usually the output layer, whose weights start small.",
            3,
        )
    )

    levels = [
        f"{name}: "
        + ", ".join(f"{layer.name} 10^{settled(layer.update_data):.1f}" for layer in run.layers)
        for name, run in runs.items()
    ]
    questions.append(
        Question(
            "Figure (4): is each layer's update:data ratio near the guide of 10⁻³ once training "
            "has settled? What would you change?",
            "settled ratios (the last fifth of the steps) — "
            + "; ".join(levels)
            + ". Far below 10⁻³ the layer learns too slowly (raise lr); far above, it is "
            "changed too much each step (lower lr).",
            4,
        )
    )
    if "kaiming" in runs and "batchnorm" in runs:
        k, b = runs["kaiming"], runs["batchnorm"]
        questions.append(
            Question(
                "Compare kaiming and batchnorm: what does BatchNorm change, in the figures and "
                "in the loss?",
                f"saturation at most {max(h.saturation or 0 for h in k.hidden):.1f} % against "
                f"{max(h.saturation or 0 for h in b.hidden):.1f} %, loss {k.final_loss():.3f} "
                f"against {b.final_loss():.3f}. BatchNorm re-centres and re-scales each "
                "layer's pre-activations over the batch, so their spread stays near 1 whatever "
                "the weights' scale, and tanh stays in its working range.",
                3,
            )
        )
    return questions
