"""Checks of what a request sends, before the library sees it: Unicode text only, names of
one line, an answers document of the right outline."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from handcalc import Problem

from .errors import InputError
from .problems import blanks

#: characters of one entry kept from a form (an entry the grader reads is far shorter)
MAX_ENTRY_CHARS = 200


def check_unicode(value: Any, where: str = "") -> None:
    """Refuse text that is not Unicode: a lone UTF-16 surrogate, which JSON's ``"\\ud800"``
    escape can carry but neither UTF-8 (the pages) nor the database can hold (it failed at the
    commit, after the grading). ``where`` names ``value`` in the message (a field of the body
    when empty)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as e:
        found = _lone_surrogate(value, where) or "body"
        raise InputError(
            f"{found}: text with a lone UTF-16 surrogate (U+{ord(e.object[e.start]):04X}, an "
            "unpaired \\ud800-\\udfff escape) is not text; send Unicode text"
        ) from None


def _is_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _lone_surrogate(value: Any, where: str) -> str | None:
    """Where in ``value`` (a field, an item, a name) the first text that is not Unicode is."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, str) and not _is_text(item):
            return at
        if isinstance(item, dict):
            for name, inner in reversed(item.items()):
                if isinstance(name, str) and not _is_text(name):
                    return f"{at} (a name in it)" if at else "a field's name"
                stack.append((inner, f"{at}.{name}" if at else str(name)))
        elif isinstance(item, list):
            stack.extend((inner, f"{at}[{i}]") for i, inner in reversed(list(enumerate(item))))
    return None


#: characters a name may not hold: controls (a newline, a tab, NUL), lone surrogates, and the
#: line and paragraph separators
NOT_IN_NAMES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def check_name(name: str, where: str) -> str:
    """``name`` if it is one line of printable text, else an ``InputError`` saying why."""
    bad = next((c for c in name if unicodedata.category(c) in NOT_IN_NAMES), None)
    if bad is not None:
        raise InputError(
            f"{where}: {name[:40]!r} holds the control character U+{ord(bad):04X}; a name is "
            "one line of text"
        )
    return name


def read_answers(body: Any, problem: Problem) -> dict[str, Any]:
    """The answers document as sent (``{"cells": {name: rows of text}}``), if it is one.

    Everything inside the cells (names, shapes, whether an entry is a number) is the grader's
    business: unknown names are refused there, and an unreadable or wrongly shaped cell is
    reported as ``invalid`` rather than wrong. ``problem`` names the cells in the message.
    """
    if not isinstance(body, dict) or not isinstance(body.get("cells"), dict):
        raise InputError(
            'body: expected a JSON object {"cells": {name: rows}}, e.g. '
            f'{{"cells": {{"Z1": [["2", "1"], ["0", "3"]]}}}}; cells: '
            f"{', '.join(blanks(problem))}"
        )
    check_unicode(body)
    return body
