"""The engine's commands: generate and solve (sheets, batch and grade have their own modules)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from classic import CLASSIC
from click.testing import CliRunner

import handcalc
from handcalc.cli import cli

HANDCALC = [str(Path(sys.executable).parent / "handcalc")]  # the installed console script


def run(*args: str, seed: str = "0", stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run(
        [*HANDCALC, *args], capture_output=True, text=True, env=env, input=stdin, timeout=120
    )


@pytest.mark.parametrize("extra", [[], ["--transcendental", "exact", "--sizes", "2,2,2"]])
def test_generate_twice_is_byte_identical(extra: list[str]) -> None:
    first = run("generate", "--seed", "7", "--format", "json", *extra, seed="1")
    second = run("generate", "--seed", "7", "--format", "json", *extra, seed="2")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert (
        json.loads(first.stdout)
        == handcalc.generate(
            seed=7, **({"transcendental": "exact", "sizes": [2, 2, 2]} if extra else {})
        ).to_dict()
    )


def test_generate_passes_every_spec_option(tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    result = CliRunner().invoke(
        cli,
        [
            "generate",
            "--seed",
            "3",
            "--sizes",
            "3,2,2",
            "--activation",
            "leaky_relu",
            "--loss",
            "mse",
            "--batch",
            "3",
            "--reduction",
            "mean",
            "--lr",
            "1/4",
            "--frozen",
            "1",
            "--slope",
            "1/20",
            "--transcendental",
            "table",
            "--digits",
            "3",
            "--base",
            "2",
            "--weight-max",
            "2",
            "--input-max",
            "2",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    spec = json.loads(out.read_text())["spec"]
    assert spec == {
        "sizes": [3, 2, 2],
        "activation": "leaky_relu",
        "loss": "mse",
        "batch": 3,
        "reduction": "mean",
        "lr": "1/4",
        "transcendental": "table",
        "digits": 3,
        "base": 2,
        "frozen": [1],
        "slope": "1/20",
        "weight_max": 2,
        "input_max": 2,
    }


def test_whole_numbers_are_read_by_one_rule_for_digits() -> None:
    """Decimal digits of any script, as int() reads them; the same problem as ASCII digits."""
    typed = ["generate", "--seed", "٧", "--sizes", "٢,３,2", "--batch", "３", "--digits", "٣"]
    result = CliRunner().invoke(cli, typed)
    assert result.exit_code == 0, result.output
    ascii_digits = ["generate", "--seed", "7", "--sizes", "2,3,2", "--batch", "3", "--digits", "3"]
    assert result.output == CliRunner().invoke(cli, ascii_digits).output


def test_solve_reads_a_file_or_standard_input(tmp_path: Path) -> None:
    path = tmp_path / "classic.json"
    path.write_text(json.dumps(CLASSIC))
    from_file = run("solve", str(path))
    from_stdin = run("solve", "-", stdin=json.dumps(CLASSIC))
    assert from_file.returncode == 0, from_file.stderr
    assert from_file.stdout == from_stdin.stdout
    assert json.loads(from_file.stdout) == handcalc.solve(CLASSIC).to_dict()


@pytest.mark.parametrize(
    ("args", "stdin", "code", "message"),
    [
        (
            ["generate", "--seed", "1", "--sizes", "4,x"],
            None,
            1,
            "Error: sizes: 'x' is not accepted",
        ),
        (["generate", "--seed", "1", "--lr", "-1"], None, 1, "Error: lr: '-1' is out of range"),
        (
            ["generate", "--seed", "1", "--sizes", "²,2"],
            None,
            1,
            "Error: sizes: '²' is not accepted; accepted: a whole number from 1 to 8",
        ),
        (["generate", "--seed", "1", "--batch", "²"], None, 1, "Error: batch: '²' is not accepted"),
        (
            ["generate", "--seed", "²"],
            None,
            2,
            "Invalid value for '--seed': '²' is not accepted; accepted: a whole number from 0 to",
        ),
        (["generate", "--seed", "1", "--activation", "gelu"], None, 2, "Invalid value for"),
        (["generate"], None, 2, "Missing option '--seed'"),
        (["solve", "-"], "{oops", 1, "Error: document: not valid JSON"),
        (["solve", "-"], '{"spec": {}, "given": {"X": [["1"]]}}', 1, "Error: given."),
        (["solve", "/nonexistent.json"], None, 2, "No such file or directory"),
    ],
)
def test_errors_are_one_clear_line_and_a_nonzero_exit(args, stdin, code, message) -> None:
    result = run(*args, stdin=stdin)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_help_is_fast_because_sympy_is_not_imported() -> None:
    probe = (
        "import sys; from handcalc.cli import cli; "
        "assert 'sympy' not in sys.modules and 'numpy' not in sys.modules"
    )
    assert subprocess.run([sys.executable, "-c", probe], timeout=60).returncode == 0
    result = CliRunner().invoke(cli, ["generate", "--help"])
    assert result.exit_code == 0 and "handcalc generate --seed 7" in result.output
    assert "--transcendental [table|base|exact]" in result.output


@pytest.mark.parametrize("option", ["--key", "--solutions", "--paper=letter"])
def test_sheet_options_are_refused_with_json(option: str) -> None:
    result = CliRunner().invoke(cli, ["generate", "--seed", "7", option])
    assert result.exit_code == 2
    flag = option.split("=")[0]
    assert f"{flag} applies to --format html or pdf" in result.output


def test_a_ragged_matrix_is_described_by_its_rows(tmp_path: Path) -> None:
    doc = handcalc.generate(seed=7, sizes=[2, 2, 2]).to_dict()
    del doc["steps"]
    doc["given"]["W1"] = [["1", "2"], ["3"]]
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(doc))
    result = CliRunner().invoke(cli, ["solve", str(path)])
    assert result.exit_code == 1
    assert "expected a 2 × 2 matrix (a list of 2 rows of 2), got 2 rows of 2 and 1 entries" in (
        result.output
    )


def test_serve_fails_at_once_on_a_busy_port(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            cli, ["serve", "--port", str(port), "--instance", str(tmp_path)]
        )
    assert result.exit_code == 1
    assert f"port {port} is in use" in result.output
    assert "serving" not in result.output


def test_kinds_lists_every_registered_kind_with_its_description() -> None:
    from handcalc import kinds

    result = CliRunner().invoke(cli, ["kinds"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == len(kinds.KINDS)
    for line, (name, kind) in zip(lines, kinds.KINDS.items(), strict=True):
        assert line.split()[0] == name and line.endswith(f"  {kind.description}")


def test_every_spec_option_is_in_generate_help_with_its_help_text() -> None:
    """The options are generated from every kind's declared options: one row each, help text
    and default, and the kinds that have it where not all do."""
    from handcalc import kinds
    from handcalc.specs import SPECS

    result = CliRunner().invoke(
        cli, ["generate", "--help"], terminal_width=300, max_content_width=300
    )
    assert result.exit_code == 0, result.output
    rows: dict[str, str] = {}  # an option's row, with the lines its help text continues on
    for line in result.output.split("Options:")[1].splitlines():
        if line.startswith("  -"):
            flag = line.split()[0]
            rows[flag] = line.strip()
        elif line.strip():
            rows[flag] += " " + line.strip()
    for spec in SPECS:
        for name, meta, _ in spec.declared():
            flag = meta.flag or "--" + name.replace("_", "-")
            assert flag in rows, f"{flag} is missing from generate --help"
            assert f" {meta.help} [" in rows[flag] or spec.kind != "mlp"
            if meta.choices and spec.kind == "mlp":
                assert f"[{'|'.join(meta.choices)}]" in rows[flag]
    assert "(finetune only)." in rows["--lr2"] and "(zero_init only)." in rows["--steps"]
    assert "[4,3,4,3]." in rows["--sizes"] and "[none]." in rows["--frozen"]
    assert f"[{'|'.join(kinds.KINDS)}]" in rows["--kind"]


def test_an_unknown_kind_is_refused_by_its_choices() -> None:
    result = CliRunner().invoke(cli, ["generate", "--seed", "1", "--kind", "cnn"])
    assert result.exit_code == 2 and "Invalid value for '--kind'" in result.output
