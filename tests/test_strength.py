"""How strong a secret is: random ones always pass, patterns, phrases and placeholders never."""

from __future__ import annotations

import secrets

import pytest

from handcalc.strength import (
    MIN_SECRET_BITS,
    MIN_TOKEN_BITS,
    estimated_bits,
    period,
    weakness,
)

README_PHRASE = "a long random phrase only you know"


def test_random_secrets_always_pass() -> None:
    """What the README tells people to run must never be refused (measured: the lowest score of a
    million token_urlsafe(18) draws is about 107 bits, of token_urlsafe(32) about 230)."""
    for _ in range(20_000):
        assert weakness(secrets.token_urlsafe(32), 32, MIN_SECRET_BITS) is None
        assert weakness(secrets.token_urlsafe(18), 16, MIN_TOKEN_BITS) is None
        assert weakness(secrets.token_hex(32), 32, MIN_SECRET_BITS) is None
    assert estimated_bits("a" * 32) < 8 < MIN_TOKEN_BITS
    assert estimated_bits(README_PHRASE) < MIN_TOKEN_BITS


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (None, "not set"),
        ("changeme" * 4, "placeholder"),
        (README_PHRASE, "placeholder"),
        ("my-password-is-long-enough-0123456789", "placeholder word"),
        ("short", "5 characters"),
        ("abcdefghijklmnopqrstuvwxyz0123456789", "too predictable"),
        ("Correct horse battery staple upon every morning", "too predictable"),
    ],
)
def test_weak_values_say_why(value: str | None, why: str) -> None:
    found = weakness(value, 32, MIN_SECRET_BITS)
    assert found is not None and why in found


def test_period_finds_the_repeated_piece() -> None:
    assert period("abcabcab") == "abc"
    assert period("abcd") == "abcd"
