"""Reading JSON people send (a problem, an answers document, a request body), strictly.

Python's ``json`` reads more than JSON: ``NaN``, ``Infinity`` and ``-Infinity``, numbers such as
``1e999`` that become infinite, and integers of any length (whose conversion costs quadratic time
and, past 4,300 digits, raises ``ValueError``). :func:`loads` refuses all of them with a message,
so that nothing non-finite is stored and later echoed as invalid JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Set
from typing import Any, NoReturn

from .errors import DocumentError
from .values import quote

MAX_NUMBER_CHARS = 100  # in one JSON number: far past any value a person means


class _Refused(Exception):
    """What the strict hooks raise (not a ValueError, so never mistaken for a syntax error)."""


def _constant(name: str) -> NoReturn:
    raise _Refused(f"{name} is not accepted: numbers must be finite")


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"a number of {len(text)} characters is too long")
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"{text} is too large: numbers must be finite")
    return value


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"a number of {len(text)} digits is too long")
    return int(text)


def loads(raw: str | bytes, what: str = "body") -> Any:
    """JSON text as Python values, strictly: finite numbers of at most ``MAX_NUMBER_CHARS``
    characters only. Raises ``DocumentError`` whose message starts with ``what``."""
    try:
        return json.loads(raw, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except _Refused as e:
        raise DocumentError(f"{what}: not valid JSON ({e})") from None
    except (ValueError, RecursionError) as e:  # JSONDecodeError and UnicodeDecodeError included
        raise DocumentError(f"{what}: not valid JSON ({str(e)[:200]})") from None


def read_json_object(
    doc: str | bytes | Mapping[str, Any],
    what: str,
    limit: int,
    fields: Set[str],
    expected: str = "a JSON object",
) -> dict[str, Any]:
    """``doc`` as a dict (parsed by :func:`loads` if it is text); messages start with ``what``
    and say what is accepted: at most ``limit`` characters, an object, only the given
    ``fields``."""
    if isinstance(doc, str | bytes):
        if len(doc) > limit:
            raise DocumentError(f"{what}: larger than {limit} characters")
        doc = loads(doc, what)
    if not isinstance(doc, Mapping):
        raise DocumentError(f"{what}: expected {expected}, got {type(doc).__name__}")
    unknown = sorted((k for k in doc if k not in fields), key=str)
    if unknown:
        accepted = ", ".join(sorted(fields))
        raise DocumentError(
            f"{what}: unknown field {quote(unknown[0])}; accepted fields: {accepted}"
        )
    return dict(doc)
