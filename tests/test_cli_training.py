"""handcalc trace and handcalc health: the files other tools rely on, one-line errors, the
message when matplotlib is missing, and the end-to-end command as a person runs it."""

from __future__ import annotations

import builtins
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from handcalc.cli import cli

HANDCALC = str(Path(sys.executable).parent / "handcalc")
AUTHORED = {
    "spec": {"activation": "relu", "loss": "softmax_ce", "lr": "1/10"},
    "given": {
        "X": [["1", "-1"], ["2", "1"]],
        "W1": [["1", "-1"], ["2", "0"], ["-1", "1"]],
        "b1": [["0"], ["1"], ["1"]],
        "W2": [["1", "1", "-1"], ["-1", "2", "1"]],
        "b2": [["0"], ["0"]],
        "Y": [["1", "0"], ["0", "1"]],
    },
}


def _names(out: Path) -> set[str]:
    return {p.name for p in out.iterdir()}


def test_trace_writes_the_files_of_its_contract(tmp_path: Path) -> None:
    """As a person runs it: the console script, the default 200 epochs."""
    out = tmp_path / "trace7"
    done = subprocess.run(
        [HANDCALC, "trace", "--seed", "7", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert _names(out) == {
        "trace.csv",
        "loss.csv",
        "trace.json",
        "parameters.svg",
        "parameters.png",
        "animation.html",
    }
    assert "loss 0.8915 at epoch 0" in done.stderr
    lines = (out / "trace.csv").read_text().splitlines()
    assert lines[0] == "epoch,name,row,col,value" and lines[-1].startswith("200,b3,3,1,")


def test_trace_on_a_data_set_with_mini_batches_draws_the_boundary(tmp_path: Path) -> None:
    args = ["trace", "--seed", "3", "--data", "moons", "--epochs", "20", "--samples", "40"]
    result = CliRunner().invoke(cli, [*args, "--batch-size", "8", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert {"boundary.svg", "boundary.png"} <= _names(tmp_path)
    assert "accuracy" in (tmp_path / "loss.csv").read_text().splitlines()[0]


def test_trace_of_your_own_document_with_a_lab_sheet(tmp_path: Path) -> None:
    doc = tmp_path / "mine.json"
    doc.write_text(json.dumps(AUTHORED))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["trace", str(doc), "--epochs", "30", "--out", str(out), "--lab"]
    )
    assert result.exit_code == 0, result.output
    assert {"lab.pdf", "lab-answers.pdf", "trace.csv"} <= _names(out)


def test_no_plots_writes_the_data_alone(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["trace", "--seed", "7", "--no-plots", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert _names(tmp_path) == {"trace.csv", "loss.csv", "trace.json"}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["trace", "--out", "x"], 2, "give --seed N (a generated problem) or FILE"),
        (
            ["trace", "--seed", "7", "--data", "moons", "--sizes", "3,4,2", "--out", "x"],
            1,
            "Error: sizes: the data set 'moons' has 2 features",
        ),
        (["trace", "--seed", "7", "--epochs", "0", "--out", "x"], 2, "--epochs"),
        (
            ["trace", "--seed", "7", "--batch-size", "2", "--out", "x"],
            1,
            "mini-batches are for the data sets",
        ),
        (
            ["health", "--configurations", "bad,good", "--out", "x"],
            1,
            "Error: configurations: bad, good is not accepted",
        ),
        (["health", "--units", "1", "--out", "x"], 2, "--units"),
    ],
)
def test_mistakes_are_one_line(tmp_path: Path, args: list[str], code: int, message: str):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_file_and_spec_options_together_are_refused(tmp_path: Path) -> None:
    doc = tmp_path / "mine.json"
    doc.write_text(json.dumps(AUTHORED))
    result = CliRunner().invoke(cli, ["trace", str(doc), "--sizes", "2,2", "--out", "x"])
    assert result.exit_code == 2 and "FILE brings its own spec" in result.output


def test_missing_matplotlib_is_one_line_before_any_work(tmp_path, monkeypatch) -> None:
    real = builtins.__import__

    def no_matplotlib(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    for args in (["trace", "--seed", "7"], ["health", "--steps", "2"]):
        result = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "x")])
        assert result.exit_code == 1
        assert result.output.strip().splitlines() == [
            "Error: the figures need matplotlib, which is missing: install handcalc[plots] "
            "(pip install 'handcalc[plots]')"
        ]
    assert not (tmp_path / "x").exists()
    done = CliRunner().invoke(cli, ["trace", "--seed", "7", "--no-plots", "--out", str(tmp_path)])
    assert done.exit_code == 0, done.output


def test_health_writes_its_json_and_figures_and_prints_the_summary(tmp_path: Path) -> None:
    args = ["health", "--steps", "6", "--layers", "2", "--units", "12", "--samples", "80"]
    result = CliRunner().invoke(cli, [*args, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    stems = ("activations", "gradients", "weights", "updates")
    assert _names(tmp_path) == {"health.json"} | {f"{s}.{e}" for s in stems for e in ("svg", "png")}
    assert "      bad: loss" in result.output and "batchnorm: loss" in result.output
    doc = json.loads((tmp_path / "health.json").read_text())
    assert doc["settings"]["layers"] == 2 and len(doc["configurations"]["kaiming"]["layers"]) == 3


def test_help_shows_examples() -> None:
    for command in ("trace", "health"):
        result = CliRunner().invoke(cli, [command, "--help"])
        assert result.exit_code == 0 and "Examples:" in result.output
