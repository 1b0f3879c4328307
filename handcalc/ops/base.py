"""What every op is: a value, a formula, words, an explanation and its mistakes, in one class.

An op is a small frozen dataclass: ``op(*inputs) -> Mat`` computes, ``op.formula(out, *names)``
writes the rule in symbols, ``op.words`` says it in words, ``op.explain(step, cells, i, j)`` works
one entry by hand and ``op.variants(step, inputs, values)`` computes what a common mistake gives.
:class:`Op` declares the last two abstract, so an op that forgets its explanation or its mistakes
cannot even be built, rather than being explained as a bare "= value" and never diagnosed.

The matrix helpers below are the ops' arithmetic, and :class:`Cells` is what an explanation reads
the printed entries from (the worked solutions' driver implements it).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from ..matrix import Mat, ones, scalar, unify
from ..notation import formula
from ..transcendental import Exact

if TYPE_CHECKING:
    from ..graph import Step
    from ..problem import Problem

#: a mistake an op invites: its code (a key of ``mistakes.MISTAKES``, or of the op's own
#: ``mistakes``) and the mistaken matrix, or a function computing it (called only if the mistake
#: can be made on these values)
Variant = tuple[str, Mat | Callable[[], Mat]]


@dataclass(frozen=True)
class Mistake:
    """A named mistake: ``code`` for machines and statistics, ``feedback`` for the student."""

    code: str
    feedback: str


class Cells(Protocol):
    """The printed entries of a problem's cells, as an explanation reads them."""

    @property
    def problem(self) -> Problem: ...

    def __call__(self, name: str) -> list[list[str]]:
        """Every entry of cell ``name`` as the sheet prints it."""
        ...

    def raw(self, name: str, i: int, j: int) -> Any:
        """The exact value of an entry."""
        ...

    def at(self, name: str, i: int, j: int) -> str:
        """An entry as an operand: as printed, or its exact expression (``exact`` mode)."""
        ...

    def result(self, name: str, i: int, j: int) -> str:
        """An entry as a result: exact expressions in full, then their decimal."""
        ...


# --- matrix helpers ----------------------------------------------------------------------------


def matmul(a: Mat, b: Mat) -> Mat:
    a, b = unify(a, b)
    return a.matmul(b)


def add(a: Mat, b: Mat) -> Mat:
    a, b = unify(a, b)
    return a + b


def sub(a: Mat, b: Mat) -> Mat:
    a, b = unify(a, b)
    return a - b


def hadamard(a: Mat, b: Mat) -> Mat:
    a, b = unify(a, b)
    return a.mul_elementwise(b)


def scale(a: Mat, factor: Fraction) -> Mat:
    return a if factor == 1 else times_scalar(a, scalar(factor))


def add_bias(z: Mat, b: Mat) -> Mat:
    """b (n × 1) added to every column of z (n × B)."""
    return add(z, matmul(b, ones(1, z.shape[1], like=b)))


def row_sums(a: Mat) -> Mat:
    return matmul(a, ones(a.shape[1], 1, like=a))


def times_scalar(a: Mat, c: Mat) -> Mat:
    """a times the 1 × 1 matrix c."""
    a, c = unify(a, c)
    (value,) = c.to_list()[0]
    return a.applyfunc(lambda x: x * value, a.domain)


def other_factor(factor: Fraction, batch: int) -> Fraction | None:
    """The reduction a student may have used instead: the mean for the sum and back (none for a
    batch of one, where they agree)."""
    if batch == 1:
        return None
    return Fraction(1, batch) if factor == 1 else Fraction(1)


# --- the op --------------------------------------------------------------------------------------


class Op(ABC):
    """An exact operation. Subclasses define ``__call__(*inputs) -> Mat`` and
    ``formula(out, *input_names) -> str`` with one parameter per input, ``words``, and the two
    abstract methods: :meth:`explain` and :meth:`variants`."""

    words: ClassVar[str]
    #: mistakes of this op's own, beside the common ones of ``mistakes.MISTAKES``: an op brings
    #: what its variants are called and what the student is told, in the same class
    mistakes: ClassVar[tuple[Mistake, ...]] = ()
    __call__: Callable[..., Mat]
    formula: Callable[..., str]

    @property
    def tabulated(self) -> bool:
        """True where the sheet prints this cell as a lookup table (``table`` mode)."""
        return False

    @property
    def decimals(self) -> int | None:
        """Decimals a rounded (not exact) value is printed with; None for exact values."""
        return None

    @property
    def transcendental(self) -> bool:
        """True for an op that gives irrational values on most inputs (exp in ``exact`` mode),
        even where the key's happen to be rational (a softmax of equal logits is 1/2)."""
        treatment = getattr(self, "treatment", None) or getattr(
            getattr(self, "activation", None), "treatment", None
        )
        return isinstance(treatment, Exact)

    # --- the worked solution -----------------------------------------------------------------

    def heading(self, step: Step, problem: Problem) -> str:
        """The step's rule, as its heading: its formula with subscripts."""
        return formula(step.formula)

    def why(self, step: Step, problem: Problem) -> str:
        """Why the step is as simple as it is, where it takes a shortcut ("" elsewhere)."""
        return ""

    @abstractmethod
    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        """The substituted lines for entry ``i, j`` of ``step``."""

    def masked_entries(self, step: Step, cells: Cells) -> list[tuple[int, int]]:
        """Entries where the step masks (a ReLU's 0, a leaky ReLU's slope); none for most ops."""
        return []

    # --- the mistakes ----------------------------------------------------------------------------

    @abstractmethod
    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        """The mistakes particular to this op, made on ``inputs`` (``values`` holds every cell,
        for a mistake that reads another one); ``[]`` says the op invites none of its own (the
        driver adds the ones every op invites: transposed, negated)."""
