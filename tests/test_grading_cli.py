"""``handcalc grade PROBLEM.json ANSWERS.json``: the report as JSON, errors as one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from students import key_answers, shifted, text

import handcalc
from handcalc.cli import cli


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    problem = handcalc.generate(seed=11)
    answers = key_answers(problem)
    answers["cells"]["dW2"] = text(shifted(problem.value("dW2")))
    (tmp_path / "p.json").write_text(problem.to_json(), encoding="utf-8")
    (tmp_path / "a.json").write_text(json.dumps(answers), encoding="utf-8")
    return tmp_path / "p.json", tmp_path / "a.json"


def test_grade_prints_the_report(files: tuple[Path, Path]) -> None:
    problem, answers = files
    result = CliRunner().invoke(cli, ["grade", str(problem), str(answers)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["first_error"] == "dW2"
    assert report["cells"]["dW2"]["status"] == "wrong"
    assert report["tolerance"] == 0.01
    assert report["score"] < report["max_score"]


def test_grade_options_and_stdin(files: tuple[Path, Path], tmp_path: Path) -> None:
    problem, answers = files
    result = CliRunner().invoke(
        cli,
        [
            "grade",
            str(problem),
            "-",
            "--tolerance",
            "0.001",
            "--carried-credit",
            "0.5",
            "-o",
            str(tmp_path / "r.json"),
        ],
        input=answers.read_text(encoding="utf-8"),
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["tolerance"] == 0.001 and report["carried_credit"] == 0.5


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ("{", "not valid JSON"),
        ('{"cells": {"Q1": []}}', "unknown cell 'Q1'"),
        ('{"cell": {}}', "unknown field"),
    ],
)
def test_grade_errors_are_one_line(
    files: tuple[Path, Path], tmp_path: Path, answers: str, message: str
) -> None:
    problem, _ = files
    bad = tmp_path / "bad.json"
    bad.write_text(answers, encoding="utf-8")
    result = CliRunner().invoke(cli, ["grade", str(problem), str(bad)])
    assert result.exit_code == 1
    assert message in result.output
    assert result.output.startswith("Error:") and result.output.count("\n") == 1
    assert "Traceback" not in result.output


def test_grade_refuses_a_bad_tolerance(files: tuple[Path, Path]) -> None:
    problem, answers = files
    result = CliRunner().invoke(cli, ["grade", str(problem), str(answers), "--tolerance", "2"])
    assert result.exit_code == 2 and "tolerance" in result.output


def test_grade_weights(files: tuple[Path, Path]) -> None:
    problem, answers = files
    args = ["grade", str(problem), str(answers), "--weight", "dW2=3", "--weight", "loss=0"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["cells"]["dW2"]["max_score"] == 3 and report["cells"]["loss"]["max_score"] == 0
    for bad, message in ((["--weight", "dW2"], "CELL=W"), (["--weight", "Q=1"], "no graded cell")):
        result = CliRunner().invoke(cli, ["grade", str(problem), str(answers), *bad])
        assert result.exit_code in (1, 2) and message in result.output
