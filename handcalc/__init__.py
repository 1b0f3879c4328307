"""handcalc: backpropagation by hand — exact exercises, worksheets, answer keys and grading.

The API is imported lazily so that ``handcalc --help`` does not pay for sympy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .api import generate as generate
    from .api import solve as solve
    from .diagnostics import health as health
    from .errors import BudgetError as BudgetError
    from .errors import DocumentError as DocumentError
    from .errors import HandcalcError as HandcalcError
    from .errors import SpecError as SpecError
    from .grading import CellGrade as CellGrade
    from .grading import Report as Report
    from .grading import grade as grade
    from .problem import Problem as Problem
    from .render import render_html as render_html
    from .render import render_pdf as render_pdf
    from .spec import Spec as Spec
    from .tracing import trace as trace
    from .verify import check_code as check_code
    from .verify import verification_code as verification_code

_EXPORTS = {
    "generate": "api",
    "solve": "api",
    "grade": "grading",
    "Report": "grading",
    "CellGrade": "grading",
    "Problem": "problem",
    "Spec": "spec",
    "HandcalcError": "errors",
    "SpecError": "errors",
    "DocumentError": "errors",
    "BudgetError": "errors",
    "render_html": "render",
    "render_pdf": "render",
    "verification_code": "verify",
    "check_code": "verify",
    "trace": "tracing",
    "health": "diagnostics",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'handcalc' has no attribute {name!r}")
