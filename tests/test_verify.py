"""Verification codes and student seeds: HMACs that match paper and checker, unforgeable."""

from __future__ import annotations

import re

import handcalc
from handcalc.verify import check_code, student_seed, verification_code


def test_code_is_short_stable_and_checks():
    p = handcalc.generate(seed=7)
    code = verification_code(p, "s3cret")
    assert re.fullmatch(r"[A-Z2-7]{4}-[A-Z2-7]{4}", code)
    assert verification_code(handcalc.generate(seed=7), "s3cret") == code
    assert check_code(p, code, "s3cret")
    assert check_code(p, code.lower().replace("-", " "), "s3cret")


def test_code_depends_on_problem_and_secret():
    p, q = handcalc.generate(seed=7), handcalc.generate(seed=8)
    code = verification_code(p, "s3cret")
    assert verification_code(q, "s3cret") != code
    assert verification_code(p, "other") != code
    assert not check_code(q, code, "s3cret")
    assert not check_code(p, code, "other")
    assert not check_code(p, "AAAA-AAAA", "s3cret")


def test_code_survives_the_json_round_trip():
    p = handcalc.generate(seed=7)
    back = handcalc.Problem.from_json(p.to_json())
    assert verification_code(back, "k") == verification_code(p, "k")


def test_secret_comes_from_the_environment(monkeypatch):
    p = handcalc.generate(seed=7)
    monkeypatch.setenv("HANDCALC_SECRET_KEY", "from-env")
    assert verification_code(p) == verification_code(p, "from-env")
    monkeypatch.delenv("HANDCALC_SECRET_KEY")
    assert verification_code(p) != verification_code(p, "from-env")


def test_student_seed_is_an_hmac_of_the_id():
    seed = student_seed("s001", "k")
    assert 0 <= seed < 2**63
    assert seed == student_seed(" s001 ", "k")
    assert seed != student_seed("s002", "k")
    assert seed != student_seed("s001", "other")
    assert seed != student_seed("s001", "k", attempt=1)
