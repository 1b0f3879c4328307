"""The marking scheme a submission is graded on: the tolerance, the carried credit, the weights.

Checked before anything is graded, each with a message that says what is accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from ..errors import HandcalcError

DEFAULT_TOLERANCE = 1e-2


@dataclass(frozen=True)
class Scheme:
    """``tolerance`` is relative, for entries typed from a calculator; ``carried_credit`` (0 to
    1) is what an entry carried forward earns."""

    tolerance: float
    carried_credit: Fraction

    @classmethod
    def of(cls, tolerance: float, carried_credit: float) -> Scheme:
        """The scheme, once both numbers are checked (``HandcalcError`` otherwise)."""
        if (
            isinstance(tolerance, bool)
            or not isinstance(tolerance, int | float)
            or not (0 <= tolerance < 1)
        ):
            raise HandcalcError(
                f"tolerance: {tolerance!r} is not accepted; accepted: a relative "
                f"tolerance from 0 to below 1, such as 0.01"
            )
        if (
            isinstance(carried_credit, bool)
            or not isinstance(carried_credit, int | float | Fraction)
            or not 0 <= carried_credit <= 1
        ):
            raise HandcalcError(
                f"carried_credit: {carried_credit!r} is not accepted; accepted: a "
                f"number from 0 (no credit) to 1 (full credit)"
            )
        return cls(tolerance, Fraction(carried_credit))


def weights_of(given: Mapping[str, float] | None, names: Iterable[str]) -> dict[str, float]:
    """Each graded cell's weight: 1, unless ``given`` says otherwise (0 to 1000)."""
    out = dict.fromkeys(names, 1.0)
    for name, w in (given or {}).items():
        if name not in out:
            raise HandcalcError(f"weights: no graded cell {name!r}; graded cells: {', '.join(out)}")
        if isinstance(w, bool) or not isinstance(w, int | float) or not 0 <= w <= 1000:
            raise HandcalcError(
                f"weights.{name}: {w!r} is not accepted; accepted: a number from 0 to 1000"
            )
        out[name] = float(w)
    return out
