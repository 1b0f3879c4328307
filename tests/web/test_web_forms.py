"""Worksheet form fields back into answers; practice options into a spec; the page model."""

from __future__ import annotations

from handcalc.web import forms

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
    assert "A2" not in cells  # a lookup table: printed, not filled in
    assert set(cells) == {s.name for s in PROBLEM.steps if s.name not in PROBLEM.tables}


def test_spec_from_form_keeps_defaults_for_blanks() -> None:
    assert forms.spec_from_form(
        {"sizes": " 2,3,2 ", "lr": "", "activation": "tanh", "seed": "3"}
    ) == {"sizes": "2,3,2", "activation": "tanh"}


def test_sheet_model() -> None:
    sheet = forms.sheet(
        PROBLEM,
        "T",
        {"cells": {"Z1": [["1", 2], ["x"]], "loss": "0.5"}},
        {
            "cells": {
                "Z1": {
                    "status": "wrong",
                    "entries": [["wrong", "correct"], ["missing", "missing"]],
                    "feedback": "f",
                    "diagnosis": ["bias_forgotten"],
                }
            }
        },
    )
    blanks = {b.name: b for _, bs in sheet.phases for b in bs}
    assert blanks["Z1"].rows == [["1", "2"], ["x", ""]]
    assert blanks["Z1"].status == "wrong" and blanks["Z1"].feedback == "f"
    assert blanks["loss"].rows == [["0.5"]]
    assert [title for title, _ in sheet.phases] == [
        "Forward pass",
        "Loss",
        "Backward pass",
        "Update",
    ]
    assert "A2" not in blanks and [n for n, _ in sheet.tables] == ["A2"]
    assert [n for n, _ in sheet.given][:3] == ["X", "W1", "b1"]
