"""Signed tokens and the secret variant seed."""

from __future__ import annotations

import pytest
from handcalc.web.tokens import (
    BadToken,
    StudentKey,
    practice_token,
    read_practice_token,
    read_student_token,
    student_token,
    variant_seed,
)

SECRET = "x" * 40


def test_round_trip() -> None:
    assert read_student_token(SECRET, student_token(SECRET, 3, 41)) == StudentKey(3, 41)
    assert read_practice_token(SECRET, practice_token(SECRET, 9)) == 9


def test_every_changed_character_is_refused() -> None:
    token = student_token(SECRET, 3, 41)
    for k in range(len(token)):
        for c in "A0_-.":
            changed = token[:k] + c + token[k + 1 :]
            if changed != token:
                with pytest.raises(BadToken):
                    read_student_token(SECRET, changed)


@pytest.mark.parametrize("token", ["", "x", "WzMsNDFd", "a" * 500, "WzMsNDFd.", "...."])
def test_garbage_is_refused(token: str) -> None:
    with pytest.raises(BadToken):
        read_student_token(SECRET, token)


def test_tokens_do_not_cross_kinds_or_secrets() -> None:
    with pytest.raises(BadToken):
        read_practice_token(SECRET, student_token(SECRET, 1, 1))
    with pytest.raises(BadToken):
        read_student_token(SECRET, practice_token(SECRET, 1))
    with pytest.raises(BadToken):
        read_student_token("y" * 40, student_token(SECRET, 1, 1))


def test_variant_seed() -> None:
    seed = variant_seed(SECRET, 1, "ada")
    assert seed == variant_seed(SECRET, 1, "ada")
    assert 0 <= seed < 2**62
    others = {
        variant_seed(SECRET, 1, "alan"),
        variant_seed(SECRET, 2, "ada"),
        variant_seed("y" * 40, 1, "ada"),
        variant_seed(SECRET, 11, "ada"),
        variant_seed(SECRET, 1, "1\x00ada"),
    }
    assert seed not in others and len(others) == 5
