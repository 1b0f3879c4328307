"""How wide a line of the sheet's text is: the layout knows what fits before WeasyPrint runs.

The sheet prints in DejaVu Sans and DejaVu Sans Mono (fontconfig finds them for WeasyPrint; Debian's
``fonts-dejavu-core``). Widths come from the fonts' own advance widths, read once per process with
fontTools (a WeasyPrint dependency); where the files are not found, a wide estimate stands in, so
that the layout errs towards more room, never less. Lines wrap at spaces only, which Pango also
does (it may find more break opportunities, never fewer): a paragraph never takes more lines than
:func:`lines` says.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

#: DejaVu Sans Mono advances every glyph 1233/2048 em
MONO_EM = 1233 / 2048
MM_PER_PT = 25.4 / 72
#: the estimate where a font file is missing: wider than any DejaVu Sans glyph we print but W
_FALLBACK_EM = 0.75
_FAMILIES = {
    "sans": ("DejaVuSans.ttf", "DejaVu Sans"),
    "bold": ("DejaVuSans-Bold.ttf", "DejaVu Sans:bold"),
}
_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF")


def mono_width(chars: int, pt: float) -> float:
    """Millimetres taken by ``chars`` characters of DejaVu Sans Mono at ``pt``."""
    return chars * MONO_EM * pt * MM_PER_PT


@functools.lru_cache(maxsize=4096)
def width(text: str, pt: float, face: str = "sans") -> float:
    """Millimetres taken by ``text`` on one line in DejaVu Sans (``face`` "bold": Sans Bold)."""
    advances, missing = _advances(face)
    return sum(advances.get(c, missing) for c in text) * pt * MM_PER_PT


def lines(text: str, measure: float, pt: float, face: str = "sans") -> int:
    """Lines ``text`` takes in a box ``measure`` mm wide, broken at spaces (greedily, as Pango)."""
    space = width(" ", pt, face)
    count, line = 1, 0.0
    for word in text.split(" "):
        w = width(word, pt, face)
        if line and line + space + w > measure:
            count, line = count + 1, w
        else:
            line += (space if line else 0.0) + w
    return count


@functools.lru_cache(maxsize=4)
def _advances(face: str) -> tuple[dict[str, float], float]:
    """Advance widths in em by character, and the width assumed for characters not listed."""
    path = _font_file(*_FAMILIES[face])
    if path is None:
        return {}, _FALLBACK_EM
    try:
        from fontTools.ttLib import TTFont

        font = TTFont(str(path), lazy=True)
        em = font["head"].unitsPerEm
        metrics = font["hmtx"]
        advances = {chr(code): metrics[glyph][0] / em for code, glyph in font.getBestCmap().items()}
    except Exception:  # an unreadable font file: estimate instead of failing to print
        return {}, _FALLBACK_EM
    return advances, 1.0  # a character the font lacks: a fallback font's, at most an em


def _font_file(name: str, pattern: str) -> Path | None:
    for folder in _DIRS:
        path = Path(folder) / name
        if path.is_file():
            return path
    fc_match = shutil.which("fc-match")
    if fc_match:
        try:
            found = subprocess.run(
                [fc_match, "-f", "%{file}", pattern], capture_output=True, text=True, timeout=5
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
        if found.endswith(name) and Path(found).is_file():
            return Path(found)
    return None
