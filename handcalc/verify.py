"""Verification codes: a short HMAC of a problem, printed on its sheets and checked online.

The code is derived from the problem's canonical JSON (the student's copy: no answers, keys
sorted) and a secret, so a paper copy and the online checker provably match and a student cannot
make one up. The secret is ``HANDCALC_SECRET_KEY`` or an explicit argument; without either a fixed
development key is used, which is fine for trying things out and worthless against forgery.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re

from .problem import Problem

SECRET_ENV = "HANDCALC_SECRET_KEY"
DEVELOPMENT_KEY = "handcalc-development-key"
#: 8 base32 characters = 40 bits: printed as two groups of four
CODE_CHARS = 8


def secret_key(secret: str | bytes | None = None) -> bytes:
    """The secret in force: the argument, else ``HANDCALC_SECRET_KEY``, else the development key."""
    if secret is None:
        secret = os.environ.get(SECRET_ENV) or DEVELOPMENT_KEY
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def canonical(problem: Problem) -> bytes:
    """The problem as the student sees it, spelled one way only."""
    doc = problem.to_dict(answers=False)
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def verification_code(problem: Problem, secret: str | bytes | None = None) -> str:
    """The short code printed on every sheet of ``problem``, e.g. ``K7QF-2MXA``."""
    digest = hmac.new(secret_key(secret), b"code:" + canonical(problem), hashlib.sha256).digest()
    text = base64.b32encode(digest).decode()[:CODE_CHARS]
    return f"{text[:4]}-{text[4:]}"


def check_code(problem: Problem, code: str, secret: str | bytes | None = None) -> bool:
    """True if ``code`` (case, spaces and dashes ignored) is the code of ``problem``."""
    typed = re.sub(r"[\s\-]", "", code).upper()
    expected = verification_code(problem, secret).replace("-", "")
    return hmac.compare_digest(typed.encode(), expected.encode())


def student_seed(student_id: str, secret: str | bytes | None = None, attempt: int = 0) -> int:
    """A student's problem seed: an HMAC of their ID, so nobody can guess a classmate's variant.

    ``attempt`` > 0 derives another seed for the rare student whose variant equals an earlier one's.
    """
    message = f"seed:{student_id.strip()}" + (f"#{attempt}" if attempt else "")
    digest = hmac.new(secret_key(secret), message.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> 1  # within the seed range 0 … 2**63 − 1
