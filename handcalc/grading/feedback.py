"""What a graded cell says to the student: its status in words, what was carried forward and
from where, what is accepted where it cannot be read, and each mistake diagnosed. It never shows
the key's values."""

from __future__ import annotations

from collections.abc import Iterable

from ..answers import CellAnswer
from ..mistakes import Mistake


def message(
    status: str,
    answer: CellAnswer,
    statuses: list[list[str]],
    carried_from: tuple[str, ...],
    start: str | None,
    diagnosis: Iterable[Mistake],
    refused: str | None,
) -> str:
    """The cell's feedback: ``start`` is where the chain of mistakes behind it starts;
    ``refused`` why no credit is carried forward."""
    parts: list[str] = []
    flat = [s for row in statuses for s in row]
    if status == "correct":
        parts.append("Correct.")
    elif status == "carried":
        parts.append(
            f"Not what the key says, but right given your own "
            f"{', '.join(carried_from)}: credit carried forward"
            + (f" (the first error in the chain is in {start})." if start else ".")
        )
    elif status == "invalid":
        parts += [m if m.endswith(".") else m + "." for m in answer.problems]
        parts.append(
            "This cell is not graded as wrong: write it in the accepted form and submit again."
        )
    else:
        n_wrong = flat.count("wrong")
        parts.append(
            f"{n_wrong} of {len(flat)} entr{'y is' if len(flat) == 1 else 'ies are'} wrong."
            if len(flat) > 1
            else "Wrong."
        )
        if "carried" in flat:
            parts.append(
                f"{flat.count('carried')} follow from your own "
                f"{', '.join(carried_from)} (carried forward)."
            )
    parts += [m.feedback for m in diagnosis]
    if refused:
        parts.append(refused)
    return " ".join(parts)
