"""The deep network's health: its own backward pass against PyTorch's autograd (float64, every
configuration, BatchNorm included), a few training steps against PyTorch's, the saturation and
ratio figures against a computation by hand, and the findings in words."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

import handcalc
from handcalc.diagnostics import (
    CONFIGURATIONS,
    EPS,
    Health,
    Settings,
    diagnose,
    gradients,
    health,
    initial,
    measure,
)
from handcalc.errors import SpecError

TINY = Settings(layers=3, units=7, features=4, classes=3, steps=6, batch_size=5, samples=40)


def _batch(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(TINY.features, TINY.batch_size))
    y = np.eye(TINY.classes)[:, rng.integers(0, TINY.classes, TINY.batch_size)]
    return x, y


def _torch_pass(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray):
    """The same network written plainly with autograd (samples are columns, as in handcalc)."""
    p = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    last = sum(1 for k in p if k.startswith("W"))
    a = torch.tensor(x)
    outs = []
    for layer in range(1, last):
        z = p[f"W{layer}"] @ a
        if f"gamma{layer}" in p:
            mu = z.mean(dim=1, keepdim=True)
            var = z.var(dim=1, keepdim=True, unbiased=False)
            z = p[f"gamma{layer}"] * (z - mu) / torch.sqrt(var + EPS) + p[f"beta{layer}"]
        else:
            z = z + p[f"b{layer}"]
        a = torch.tanh(z)
        a.retain_grad()
        outs.append(a)
    logits = p[f"W{last}"] @ a + p[f"b{last}"]
    loss = torch.nn.functional.cross_entropy(logits.T, torch.tensor(y.argmax(axis=0)))
    loss.backward()
    return loss, p, outs


@pytest.mark.parametrize("configuration", list(CONFIGURATIONS))
def test_the_backward_pass_matches_pytorch(configuration: str) -> None:
    params = initial(TINY, configuration)
    if configuration == "batchnorm":  # not the trivial gamma 1, beta 0
        rng = np.random.default_rng(1)
        for k in params:
            if k.startswith(("gamma", "beta")):
                params[k] = params[k] + rng.normal(scale=0.3, size=params[k].shape)
    x, y = _batch()
    mine = gradients(params, x, y)
    loss, theirs, outs = _torch_pass(params, x, y)
    assert mine.loss == pytest.approx(loss.item(), rel=1e-12)
    assert set(mine.grads) == set(params)
    for name, g in mine.grads.items():
        assert theirs[name].grad is not None
        np.testing.assert_allclose(g, theirs[name].grad.numpy(), rtol=1e-9, atol=1e-13)
    for a, g, t in zip(mine.out, mine.out_grads, outs, strict=True):
        np.testing.assert_allclose(a, t.detach().numpy(), rtol=1e-12)
        assert t.grad is not None
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-9, atol=1e-13)


def test_training_matches_pytorch_step_by_step() -> None:
    """A few SGD steps of health() and of the same loop in PyTorch: the same losses."""
    run = health(
        layers=TINY.layers,
        units=TINY.units,
        features=TINY.features,
        classes=TINY.classes,
        steps=4,
        batch_size=TINY.batch_size,
        samples=TINY.samples,
        configurations=("batchnorm",),
    )
    from handcalc import datasets, portable
    from handcalc.diagnostics import BATCH_STREAM

    found = datasets.load("blobs", 0, TINY.samples, features=4, classes=3, noise=3.0)
    x = (found.X - found.X.mean(axis=1, keepdims=True)) / found.X.std(axis=1, keepdims=True)
    y = found.one_hot()
    rng = portable.generator(0, BATCH_STREAM)
    picks = np.floor(portable.uniform(rng, 4 * TINY.batch_size) * TINY.samples).astype(int)
    params = initial(run.settings, "batchnorm")
    losses = []
    for chosen in picks.reshape(4, TINY.batch_size):
        loss, p, _ = _torch_pass(params, x[:, chosen], y[:, chosen])
        losses.append(loss.item())
        params = {k: (t - 0.1 * t.grad).detach().numpy() for k, t in p.items()}
    np.testing.assert_allclose(run.runs["batchnorm"].loss, losses, rtol=1e-10)
    last = run.runs["batchnorm"].layers[-1]
    assert len(last.update_data) == 4


def test_saturation_and_ratios_match_a_computation_by_hand() -> None:
    """One tanh layer of 2 units on 2 samples, worked with scalars."""
    params = {
        "W1": np.array([[3.0], [0.5]]),
        "b1": np.zeros((2, 1)),
        "W2": np.array([[1.0, 0.0], [0.0, 2.0]]),
        "b2": np.zeros((2, 1)),
    }
    x = np.array([[1.0, -1.0]])
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    result = gradients(params, x, y)
    layers = measure(params, result)
    t3, th = math.tanh(3), math.tanh(0.5)
    # |tanh(±3)| = 0.995 > 0.97 and |tanh(±0.5)| = 0.46: 2 of 4 outputs saturated
    assert layers[0].saturation == pytest.approx(50.0)
    assert layers[0].act_mean == pytest.approx(0.0, abs=1e-15)
    assert layers[0].act_std == pytest.approx(math.sqrt((t3**2 + th**2) / 2))
    assert layers[1].saturation is None and layers[1].hidden is False
    # the output layer by hand: logits (t3, 2·th) and (−t3, −2·th); dlogits = (p − y) / 2
    h = [[t3, -t3], [th, -th]]
    dw2 = [[0.0, 0.0], [0.0, 0.0]]
    for col, target in ((0, 0), (1, 1)):
        logits = [h[0][col], 2 * h[1][col]]
        total = math.exp(logits[0]) + math.exp(logits[1])
        p = [math.exp(v) / total for v in logits]
        for i in range(2):
            d = (p[i] - (1.0 if i == target else 0.0)) / 2
            for j in range(2):
                dw2[i][j] += d * h[j][col]
    flat = [v for row in dw2 for v in row]
    mean = sum(flat) / 4
    std = math.sqrt(sum((v - mean) ** 2 for v in flat) / 4)
    w_std = math.sqrt(sum((v - 0.75) ** 2 for v in (1.0, 0.0, 0.0, 2.0)) / 4)
    assert layers[1].grad_std == pytest.approx(std, rel=1e-12)
    assert layers[1].grad_data_ratio == pytest.approx(std / w_std, rel=1e-12)
    assert layers[1].grad_mean == pytest.approx(mean, rel=1e-12)


def test_the_update_ratio_is_log10_of_lr_grad_over_data() -> None:
    run = health(layers=2, units=6, steps=1, samples=20, features=3, classes=2, batch_size=4)
    for r in run.runs.values():
        params = initial(run.settings, r.configuration)
        for layer, g in zip(r.layers, r.weight_grads, strict=True):
            after = params[layer.name] - 0.1 * g
            assert layer.update_data[0] == pytest.approx(
                math.log10(0.1 * g.std() / after.std()), rel=1e-9
            )
            assert layer.data_std == pytest.approx(params[layer.name].std())


@pytest.fixture(scope="module")
def small() -> Health:
    return handcalc.health(layers=4, units=30, steps=40, samples=300)


def test_the_bad_start_saturates_and_the_others_less(small) -> None:
    bad, kaiming, bn = (small.runs[n] for n in ("bad", "kaiming", "batchnorm"))
    assert min(h.saturation or 0 for h in bad.hidden) > 50
    assert max(h.saturation or 0 for h in bn.hidden) < max(h.saturation or 0 for h in bad.hidden)
    assert "saturate" in bad.findings[0] and "std" in bad.findings[0]
    assert all(h.act_std is not None and 0.3 < h.act_std < 0.9 for h in bn.hidden)
    assert kaiming.layers[-1].grad_data_ratio > kaiming.layers[0].grad_data_ratio


def test_health_json_keeps_its_contract(small, tmp_path) -> None:
    small.write(tmp_path, plots=False)
    doc = json.loads((tmp_path / "health.json").read_text())
    assert doc["format"] == "handcalc/health@1"
    assert list(doc["configurations"]) == ["bad", "kaiming", "batchnorm"]
    for run in doc["configurations"].values():
        assert len(run["layers"]) == 5 and run["findings"]
        for layer in run["layers"]:
            for key in ("saturation", "act_mean", "act_std", "grad_mean", "grad_std"):
                assert key in layer
            assert layer["grad_data_ratio"] > 0 and len(layer["update_data"]) == 40
        assert run["layers"][-1]["saturation"] is None  # the output layer has no tanh
    assert [row["configuration"] for row in doc["summary"]] == list(doc["configurations"])


def test_the_same_seed_gives_the_same_run() -> None:
    a = health(layers=2, units=5, steps=3, samples=20, configurations=("kaiming",))
    b = health(layers=2, units=5, steps=3, samples=20, configurations=("kaiming",))
    assert a.to_json() == b.to_json()
    c = health(layers=2, units=5, steps=3, samples=20, configurations=("kaiming",), seed=1)
    assert c.to_json() != a.to_json()


def test_findings_name_what_is_off() -> None:
    params = initial(Settings(layers=2, units=4, features=2, classes=2), "kaiming")
    x, y = np.array([[0.1, -0.2], [0.3, 0.1]]), np.array([[1.0, 0.0], [0.0, 1.0]])
    layers = measure(params, gradients(params, x, y), np.array([[-5.0], [-3.0], [-1.2]]))
    found = diagnose("kaiming", layers, 0.1)
    assert any(f.startswith("W1 barely moves") and "10^-5.0" in f for f in found)
    assert any(f.startswith("W3 changes too fast") for f in found)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layers": 0}, "layers: 0 is not accepted"),
        ({"units": 10_000}, "units"),
        ({"lr": 0}, "lr: 0 is out of range"),
        ({"data": "spiral"}, "data: 'spiral'"),
        ({"configurations": ("bad", "good")}, "configurations: bad, good"),
        ({"configurations": ()}, "configurations: none"),
        ({"steps": 1.5}, "steps: 1.5"),
    ],
)
def test_bad_settings_are_clear_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        health(**kwargs)
