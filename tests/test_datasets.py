"""The seeded data sets and the portable float arithmetic they and the traces are made of: the
same numbers from the same seed (pinned by checksums, so a change of numpy or of a machine that
altered them would show), accurate elementary functions."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from handcalc import datasets, portable
from handcalc.errors import SpecError


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


@pytest.mark.parametrize("name", datasets.NAMES)
def test_a_data_set_has_its_shape_and_balanced_classes(name: str) -> None:
    found = datasets.load(name, 7, 101)
    assert found.X.shape == (2, 101) and found.labels.shape == (101,)
    counts = np.bincount(found.labels, minlength=found.classes)
    assert counts.max() - counts.min() <= 1
    assert np.all(np.isfinite(found.X))
    y = found.one_hot()
    assert y.shape == (found.classes, 101) and np.all(y.sum(axis=0) == 1)
    assert np.array_equal(y.argmax(axis=0), found.labels)


def test_the_same_seed_gives_the_same_numbers_and_another_seed_others() -> None:
    for name in datasets.NAMES:
        a, b = datasets.load(name, 3, 50), datasets.load(name, 3, 50)
        assert np.array_equal(a.X, b.X) and np.array_equal(a.labels, b.labels)
        assert not np.array_equal(a.X, datasets.load(name, 4, 50).X)


def test_the_numbers_are_pinned() -> None:
    """PCG64's raw words, SeedSequence and IEEE arithmetic only: these checksums hold on every
    machine (if one fails after an upgrade, the data sets changed: say so in the README)."""
    assert _digest(datasets.load("moons", 7).X) == "3e82cabd52e76a4a"
    assert _digest(datasets.load("xor", 7).X) == "5b631fbe1bb1a3cf"
    blobs = datasets.load("blobs", 0, 2000, features=16, classes=8, noise=3.0)
    assert _digest(blobs.X, blobs.labels) == "e553639c4bd5654f"


def test_moons_look_like_two_moons() -> None:
    found = datasets.load("moons", 1, 400, noise=0.0)
    upper, lower = found.X[:, found.labels == 0], found.X[:, found.labels == 1]
    assert np.allclose(upper[0] ** 2 + upper[1] ** 2, 1.0)  # on the unit circle, y ≥ 0
    assert np.all(upper[1] >= 0) and np.all(lower[1] <= 0.5)
    assert np.allclose((lower[0] - 1) ** 2 + (lower[1] - 0.5) ** 2, 1.0)


def test_blobs_take_features_and_classes() -> None:
    found = datasets.load("blobs", 2, 90, features=5, classes=6)
    assert found.X.shape == (5, 90) and found.classes == 6
    assert found.targets(6).shape == (6, 90)
    two = datasets.load("xor", 2, 10)
    assert np.array_equal(two.targets(1)[0], two.labels)  # one sigmoid output
    with pytest.raises(SpecError, match="the last size must be 6"):
        found.targets(3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "spiral"}, "data: 'spiral' is not accepted"),
        ({"samples": 3}, "samples: 3 is not accepted"),
        ({"samples": 10**9}, "samples"),
        ({"features": 0}, "features: 0"),
        ({"classes": 1}, "classes: 1"),
        ({"noise": -1.0}, "noise"),
        ({"samples": True}, "samples: True"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs: dict, message: str) -> None:
    arguments = {"name": "blobs", "seed": 1, **kwargs}
    with pytest.raises(SpecError, match=message):
        datasets.load(**arguments)


def test_elementary_functions_are_within_a_few_ulp() -> None:
    x = np.concatenate([np.linspace(-745, 709, 20001), np.linspace(-3, 3, 20001)])
    e, want = portable.exp(x), np.exp(x)
    normal = want > 1e-300
    assert np.max(np.abs(e[normal] - want[normal]) / want[normal]) < 4e-16
    assert portable.exp(np.array([800.0]))[0] == np.inf and portable.exp(np.array([-800.0]))[0] == 0
    y = np.concatenate([np.logspace(-300, 300, 2001), np.linspace(0.1, 3, 2001)])
    assert np.max(np.abs(portable.log(y) - np.log(y)) / np.maximum(1, np.abs(np.log(y)))) < 4e-16
    z = np.linspace(-40, 40, 8001)
    assert np.max(np.abs(portable.tanh(z) - np.tanh(z))) < 4e-16
    assert np.max(np.abs(portable.sigmoid(z) - 1 / (1 + np.exp(-z)))) < 4e-16
    a, b = np.arange(12.0).reshape(3, 4) / 7, np.arange(20.0).reshape(4, 5) / 3
    assert np.allclose(portable.matmul(a, b), a @ b, rtol=1e-15)


def test_normal_numbers_have_mean_0_and_variance_1() -> None:
    draws = portable.normal(portable.generator(5, 9), 40_000)
    assert abs(draws.mean()) < 0.02 and abs(draws.std() - 1) < 0.02
    assert np.all(np.abs(draws) <= 6)
