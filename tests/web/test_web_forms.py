"""Worksheet form fields back into answers; practice options into a spec; the page model."""

from __future__ import annotations

from handcalc.web import forms, problems

import handcalc

PROBLEM = handcalc.generate(seed=3, sizes=[2, 2, 2])


def test_answers_from_form() -> None:
    answers = forms.answers_from_form(
        {
            "Z1[0][1]": " 3/4",
            "dW2[1][0]": "-2",
            "Z1[5][0]": "9",
            "nope[0][0]": "1",
            "csrf_token": "x",
            "Z1[0]": "7",
            "A2[0][0]": "0.5",
        },
        PROBLEM,
    )
    cells = answers["cells"]
    assert cells["Z1"] == [["", " 3/4"], ["", ""]]
    assert cells["dW2"] == [["", ""], ["-2", ""]]
    assert "nope" not in cells
    assert cells["A2"] == [["0.5", ""], ["", ""]]  # read from the lookup table, and graded
    assert set(cells) == set(forms.inputs(PROBLEM)) >= set(problems.blanks(PROBLEM))


def test_spec_from_form_keeps_defaults_for_blanks() -> None:
    assert forms.spec_from_form(
        {"sizes": " 2,3,2 ", "lr": "", "activation": "tanh", "seed": "3"}
    ) == {"sizes": "2,3,2", "activation": "tanh"}


def test_page_model() -> None:
    report = {
        "cells": {
            "Z1": {
                "status": "wrong",
                "entries": [["wrong", "correct"], ["missing", "missing"]],
                "feedback": "f",
                "diagnosis": ["bias_forgotten"],
            }
        }
    }
    page = forms.sheet(PROBLEM, "T", {"cells": {"Z1": [["1", 2], ["x"]], "loss": "0.5"}}, report)
    assert page.answers["Z1"] == [["1", "2"], ["x", ""]]
    assert page.answers["loss"] == [["0.5"]]
    assert page.answers["dW1"] == [["", ""], ["", ""]]
    assert page.marks == {"Z1": report["cells"]["Z1"]["entries"]}
    assert page.feedback == {"Z1": "Z1: wrong. f"}
    assert page.cells == [forms.Mark("Z1", "wrong", "f", ("bias_forgotten",))]
    # the printed sheet's layout, with a box for every graded cell
    assert set(problems.blanks(PROBLEM)) <= set(page.layout.inputs)
    assert page.layout is forms.layout(PROBLEM)


def test_exact_mode_states_the_tolerance() -> None:
    problem = handcalc.generate(seed=3, sizes=[2, 2], loss="sigmoid_bce", transcendental="exact")
    assert any("tolerance of 1 %" in n for n in forms.sheet(problem, "T").notes)
