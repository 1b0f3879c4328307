"""Signed access tokens and the secret seed of each student's variant.

A token is the credential: it names a student of an assignment (or a practice session) and is
signed with the app's secret, so a changed character makes it worthless. The variant seed is an
HMAC of the secret, the assignment and the student: stable, different per student, and never sent
to anyone but the instructor's key.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

STUDENT = "handcalc.student"
PRACTICE = "handcalc.practice"
MAX_TOKEN_CHARS = 200
SEED_BITS = 62


class BadToken(Exception):
    """The token was not made by us (tampered, truncated, or from another secret)."""


@dataclass(frozen=True)
class StudentKey:
    assignment_id: int
    student_id: int


def _serializer(secret: str, salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=salt)


def student_token(secret: str, assignment_id: int, student_id: int) -> str:
    return str(_serializer(secret, STUDENT).dumps([assignment_id, student_id]))


def practice_token(secret: str, practice_id: int) -> str:
    return str(_serializer(secret, PRACTICE).dumps(practice_id))


def _load(secret: str, salt: str, token: str) -> object:
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        raise BadToken("token: not one of ours")
    try:
        return _serializer(secret, salt).loads(token)
    except (BadSignature, UnicodeError, ValueError):
        raise BadToken(
            "token: not one of ours (it was changed, cut short, or is from another server)"
        ) from None


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def read_student_token(secret: str, token: str) -> StudentKey:
    value = _load(secret, STUDENT, token)
    if not (isinstance(value, list) and len(value) == 2 and all(map(_whole, value))):
        raise BadToken("token: not a student token")
    return StudentKey(value[0], value[1])


def read_practice_token(secret: str, token: str) -> int:
    value = _load(secret, PRACTICE, token)
    if not _whole(value):
        raise BadToken("token: not a practice token")
    assert isinstance(value, int)
    return value


def variant_seed(secret: str, assignment_id: int, student: str) -> int:
    """The seed of ``student``'s problem in an assignment (an HMAC: not guessable without the
    secret, and the same on every worker and after every restart)."""
    message = f"variant\x00{assignment_id}\x00{student}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - SEED_BITS)
