"""The sheet commands of the CLI: generate/solve --format html|pdf, and batch (CliRunner)."""

from __future__ import annotations

import io
import json

import pypdf
from click.testing import CliRunner

import handcalc
from handcalc.cli import cli


def _run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env or {"HANDCALC_SECRET_KEY": "cli-test"})


def test_generate_pdf_worksheet_key_and_letter(tmp_path):
    for extra, title, size in (
        ([], "worksheet", 842),
        (["--key"], "answer key", 842),
        (["--key", "--paper", "letter"], "answer key", 792),
    ):
        out = tmp_path / "sheet.pdf"
        result = _run("generate", "--seed", "7", "--format", "pdf", *extra, "-o", str(out))
        assert result.exit_code == 0, result.output
        reader = pypdf.PdfReader(out)
        assert f"— {title} (" in reader.metadata.title
        assert round(float(reader.pages[0].mediabox.height)) == size
    code = handcalc.verification_code(handcalc.generate(seed=7), "cli-test")
    assert code in reader.metadata.title


def test_generate_html_solutions_with_spec_options(tmp_path):
    out = tmp_path / "s.html"
    result = _run(
        "generate",
        "--seed",
        "3",
        "--sizes",
        "2,2,2",
        "--reduction",
        "mean",
        "--format",
        "html",
        "--solutions",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "worked solutions" in html and "MLP 2-2-2" in html and "reduction “mean”" in html


def test_generate_pdf_to_standard_output():
    result = CliRunner().invoke(cli, ["generate", "--seed", "7", "--format", "pdf"])
    assert result.exit_code == 0
    assert result.stdout_bytes.startswith(b"%PDF")


def test_json_stays_the_default():
    result = _run("generate", "--seed", "7")
    assert json.loads(result.output)["format"] == "handcalc/problem@1"


def test_solve_an_authored_problem_to_a_key_pdf(tmp_path):
    doc = {
        "spec": {"activation": "relu", "loss": "softmax_ce", "lr": "1/10"},
        "given": {
            "X": [["1"], ["2"]],
            "W1": [["1", "-1"], ["2", "0"]],
            "b1": [["0"], ["1"]],
            "W2": [["1", "1"], ["-1", "2"]],
            "b2": [["0"], ["0"]],
            "Y": [["1"], ["0"]],
        },
    }
    src = tmp_path / "mine.json"
    src.write_text(json.dumps(doc))
    out = tmp_path / "key.pdf"
    result = _run("solve", str(src), "--format", "pdf", "--key", "-o", str(out))
    assert result.exit_code == 0, result.output
    text = pypdf.PdfReader(out).pages[0].extract_text()
    problem = handcalc.solve(json.dumps(doc))
    assert problem.text("Z1")[0][0] in text and "answer key" in text


def test_bad_options_are_one_line_errors(tmp_path):
    result = _run(
        "generate",
        "--seed",
        "7",
        "--format",
        "pdf",
        "--sizes",
        "4,x",
        "-o",
        str(tmp_path / "x.pdf"),
    )
    assert result.exit_code != 0
    assert "sizes" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_batch_writes_sheets_and_class_key(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\na1,Ada\nb2,Bo\n", encoding="utf-8")
    out = tmp_path / "out"
    result = _run("batch", str(roster), "--out", str(out), "--sizes", "2,2,2", "--workers", "1")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "a1-key.pdf",
        "a1-worksheet.pdf",
        "b2-key.pdf",
        "b2-worksheet.pdf",
        "class-key.pdf",
    ]
    merged = pypdf.PdfReader(io.BytesIO((out / "class-key.pdf").read_bytes()))
    # an index page (name, ID, code, page), then the keys
    assert len(merged.pages) == 1 + 2 * len(pypdf.PdfReader(out / "a1-key.pdf").pages)


def test_batch_solutions(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\na1,Ada\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ("batch", str(roster), "--out", str(out), "--sizes", "2,2", "--workers", "1")
    result = _run(*args, "--solutions")
    assert result.exit_code == 0, result.output
    assert "wrote 3 sheets for 1 student" in result.output
    text = pypdf.PdfReader(out / "a1-solutions.pdf").pages[0].extract_text()
    assert "worked solutions" in text and "Name Ada" in text and "ID a1" in text


def test_batch_roster_errors_are_one_line(tmp_path):
    cases = {
        "empty.csv": b"",
        "noid.csv": b"name\nAda\n",
        "dup.csv": b"id\na\na\n",
        "latin1.csv": "id\nJos\xe9\n".encode("latin-1"),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        result = _run("batch", str(tmp_path / name), "--out", str(tmp_path / "o"))
        assert result.exit_code == 1, (name, result.output)
        lines = [line for line in result.output.splitlines() if line.startswith("Error")]
        assert len(lines) == 1 and name in lines[0], (name, result.output)
        assert "Traceback" not in result.output


def test_batch_warns_without_a_secret(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("id\nx\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        ["batch", str(roster), "--out", str(tmp_path / "o"), "--sizes", "2,2,2", "--workers", "1"],
        env={"HANDCALC_SECRET_KEY": ""},
    )
    assert result.exit_code == 0 and "no secret" in result.output


def test_help_texts_have_examples():
    for command in ("generate", "solve", "batch"):
        result = _run(command, "--help")
        assert result.exit_code == 0 and "Examples:" in result.output
    assert "--key" in _run("generate", "--help").output


def test_batch_warns_about_a_weak_secret(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("id\nx\n", encoding="utf-8")
    args = [
        "batch",
        str(roster),
        "--out",
        str(tmp_path / "o"),
        "--sizes",
        "2,2,2",
        "--workers",
        "1",
    ]
    weak = CliRunner().invoke(cli, args, env={"HANDCALC_SECRET_KEY": "changeme" * 4})
    assert weak.exit_code == 0 and "the secret is weak" in weak.output
    strong = CliRunner().invoke(
        cli, args, env={"HANDCALC_SECRET_KEY": "GVuoZ3wzev9hLEDbDsVQTCGc4NRPeD9k8DnHOdOP6vg"}
    )
    assert strong.exit_code == 0 and "warning" not in strong.output


def test_paper_a3_orientation_and_mono(tmp_path):
    out = tmp_path / "a3.pdf"
    result = _run("generate", "--seed", "7", "--format", "pdf", "--paper", "a3", "-o", str(out))
    assert result.exit_code == 0, result.output
    box = pypdf.PdfReader(out).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 1191)
    args = ["generate", "--seed", "7", "--format", "pdf", "--orientation", "landscape"]
    result = _run(*args, "--mono", "-o", str(out))
    assert result.exit_code == 0, result.output
    box = pypdf.PdfReader(out).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)
    html = tmp_path / "grey.html"
    assert (
        _run("generate", "--seed", "7", "--format", "html", "--mono", "-o", str(html)).exit_code
        == 0
    )
    assert '<body class="worksheet mono">' in html.read_text(encoding="utf-8")
    for option in (["--mono"], ["--orientation", "portrait"], ["--paper", "a3"]):
        refused = _run("generate", "--seed", "7", *option)
        assert (
            refused.exit_code == 2
            and f"{option[0]} applies to --format html or pdf" in refused.output
        )


def test_a_sheet_that_cannot_be_printed_is_refused_with_the_options_that_work(tmp_path):
    big = ["--sizes", "8,8,8,8", "--batch", "8", "--weight-max", "1", "--input-max", "1"]
    out = tmp_path / "big.pdf"
    result = _run(
        "generate", "--seed", "1", *big, "--format", "pdf", "--paper", "letter", "-o", str(out)
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert "does not fit on letter" in line and "options that work: --paper a3" in line
    assert not out.exists()
    done = _run("generate", "--seed", "1", *big, "--format", "pdf", "--paper", "a3", "-o", str(out))
    assert done.exit_code == 0, done.output


def test_a_net_too_big_for_nice_numbers_is_refused_naming_options_that_work():
    """8-8-8-8 x 8 at the default ranges draws no problem within the budgets: the refusal names
    the smaller options that do give one with the same seed."""
    result = _run("generate", "--seed", "1", "--sizes", "8,8,8,8", "--batch", "8")
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert "options that work with seed 1: " in line
    assert "(--weight-max 1 --input-max 1)" in line and "(--batch 2)" in line
    works = _run(
        "generate",
        "--seed",
        "1",
        "--sizes",
        "8,8,8,8",
        "--batch",
        "8",
        "--weight-max",
        "1",
        "--input-max",
        "1",
    )
    assert works.exit_code == 0 and json.loads(works.output)["spec"]["weight_max"] == 1


def test_batch_orientation_and_mono(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\na1,Ada\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["batch", str(roster), "--out", str(out), "--sizes", "2,2,2", "--workers", "1"]
    result = _run(*args, "--orientation", "landscape", "--mono")
    assert result.exit_code == 0, result.output
    for name in ("a1-worksheet.pdf", "a1-key.pdf"):
        box = pypdf.PdfReader(out / name).pages[0].mediabox
        assert float(box.width) > float(box.height), name  # landscape, as asked
    colour = tmp_path / "colour"
    assert _run(*args[:3], str(colour), *args[4:], "--orientation", "landscape").exit_code == 0

    def coloured_pixels(path):
        import numpy as np
        import pypdfium2

        image = pypdfium2.PdfDocument(str(path))[0].render(scale=1).to_pil().convert("RGB")
        rgb = np.asarray(image, dtype=np.int16)
        return int((rgb.max(axis=2) - rgb.min(axis=2) > 24).sum())

    assert coloured_pixels(colour / "a1-key.pdf") > 100  # the colour roles
    assert coloured_pixels(out / "a1-key.pdf") == 0  # black and grey only
