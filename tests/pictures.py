"""Reference pictures: a PDF's first page compared with a reviewed PNG in ``tests/reference``.

After a deliberate change of the look, regenerate with ``HANDCALC_UPDATE_REFERENCE=1`` set for the
test that compares, then look at the new PNG before committing it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pypdfium2
from PIL import Image

REFERENCE = Path(__file__).parent / "reference"


def page_image(pdf: bytes, page: int = 0) -> Image.Image:
    """A page of ``pdf`` in grey, at 0.75 of its size in points (about 54 dpi)."""
    document = pypdfium2.PdfDocument(pdf)
    image = document[page].render(scale=0.75, grayscale=True).to_pil().convert("L")
    document.close()
    return image


def assert_looks_like(pdf: bytes, name: str, page: int = 0) -> None:
    """Page ``page`` of ``pdf`` is the picture ``tests/reference/<name>``: anti-aliasing may
    differ by a few levels, but nothing may move or vanish."""
    image = page_image(pdf, page)
    path = REFERENCE / name
    if os.environ.get("HANDCALC_UPDATE_REFERENCE"):
        path.parent.mkdir(exist_ok=True)
        image.save(path, optimize=True)
    reference = Image.open(path).convert("L")
    assert image.size == reference.size
    diff = np.abs(np.asarray(image, dtype=np.int16) - np.asarray(reference, dtype=np.int16))
    assert diff.mean() < 1.5, diff.mean()
    assert (diff > 64).mean() < 0.002, (diff > 64).mean()
