"""The templates ship in the wheel: installed into a fresh venv, it renders from elsewhere."""

from __future__ import annotations

from pathlib import Path

import pypdf
from built_wheel import InstalledWheel, run


def test_wheel_installs_and_renders_a_pdf_from_another_directory(
    installed_wheel: InstalledWheel, tmp_path: Path
) -> None:
    names, venv, python = installed_wheel.names, installed_wheel.venv, installed_wheel.python
    for template in (
        "_grid.html",
        "grid.css",
        "sheet.css",
        "sheet.html",
        "worksheet.html",
        "solutions.html",
    ):
        assert f"handcalc/templates/{template}" in names
    assert not any(n.startswith(("templates/", "web/")) for n in names)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import handcalc, pathlib\n"
        f"assert pathlib.Path(handcalc.__file__).is_relative_to(pathlib.Path(r'{venv}')), "
        "handcalc.__file__\n"
        "p = handcalc.generate(seed=7)\n"
        "pathlib.Path('key.pdf').write_bytes(handcalc.render_pdf(p, 'key'))\n"
        "print(handcalc.verification_code(p))\n"
    )
    code = run(python, "-c", script, cwd=elsewhere).strip()
    pdf = (elsewhere / "key.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(elsewhere / "key.pdf").pages)
    # a value only the key prints: W1_new[0][1] = 2069/1000, an exact decimal
    assert code in text and "answer key" in text and ("2.069" in text or "2069/1000" in text)
    # the console script works from there too
    run(
        venv / "bin" / "handcalc",
        "generate",
        "--seed",
        "7",
        "--format",
        "pdf",
        "-o",
        "w.pdf",
        cwd=elsewhere,
    )
    assert (elsewhere / "w.pdf").read_bytes().startswith(b"%PDF")
