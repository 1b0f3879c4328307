"""Reading a JSON object a person sent (a problem or an answers document), size-limited."""

from __future__ import annotations

import json
from collections.abc import Mapping, Set
from typing import Any

from .errors import DocumentError


def read_json_object(
    doc: str | bytes | Mapping[str, Any],
    what: str,
    limit: int,
    fields: Set[str],
    expected: str = "a JSON object",
) -> dict[str, Any]:
    """``doc`` as a dict (parsed if it is text); messages start with ``what`` and say what is
    accepted: at most ``limit`` characters, an object, only the given ``fields``."""
    if isinstance(doc, str | bytes):
        if len(doc) > limit:
            raise DocumentError(f"{what}: larger than {limit} characters")
        try:
            doc = json.loads(doc)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise DocumentError(f"{what}: not valid JSON ({e})") from None
    if not isinstance(doc, Mapping):
        raise DocumentError(f"{what}: expected {expected}, got {type(doc).__name__}")
    unknown = sorted(set(doc) - set(fields))
    if unknown:
        raise DocumentError(
            f"{what}: unknown field {unknown[0]!r}; accepted fields: {', '.join(sorted(fields))}"
        )
    return dict(doc)
