"""How strong is a secret: an estimate of its randomness, and the reasons to refuse one.

Used by the service (which refuses to start with a weak secret key or instructor token) and by
``handcalc batch`` (which warns: a weak secret lets anyone compute a classmate's variant).
"""

from __future__ import annotations

import math
import re

#: secrets people paste from examples; never accepted, alone or repeated
PLACEHOLDERS = {
    "dev",
    "secret",
    "changeme",
    "change-me",
    "change_me",
    "please-change",
    "xxx",
    "test",
    "password",
    "instructor",
    "token",
    "secretkey",
    "example",
    "placeholder",
    "replaceme",
    "letmein",
    "admin",
    "qwerty",
    "12345678",
    "handcalc",
    # the phrase the README once gave as an example of a secret
    "a long random phrase only you know",
}
#: placeholder words that make a value weak wherever they occur in it (long enough that a random
#: token of ours contains one with odds below 1e-11)
PLACEHOLDER_WORDS = (
    "changeme",
    "password",
    "replaceme",
    "placeholder",
    "onlyyouknow",
    "yoursecret",
)
MIN_SECRET_CHARS = 32
MIN_TOKEN_CHARS = 16
#: estimated bits (see ``estimated_bits``): secrets.token_urlsafe(32) scores about 250,
#: token_urlsafe(18) about 140, token_hex(16) about 150
MIN_SECRET_BITS = 128
MIN_TOKEN_BITS = 80
#: what a word of a pass phrase is worth: a phrase of English words is far less random than its
#: letters (a diceware word is 12.9 bits; words people pick, fewer)
BITS_PER_WORD = 11

_CLASSES = (
    (re.compile(r"[a-z]"), 26),
    (re.compile(r"[A-Z]"), 26),
    (re.compile(r"[0-9]"), 10),
    (re.compile(r"[\x20-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]"), 33),  # ASCII punctuation and space
    (re.compile(r"[^\x20-\x7e]"), 100),  # anything else: a guess
)
_PHRASE = re.compile(r"[^\W\d_]+(?:([\s\-_.])[^\W\d_]+)(?:\1[^\W\d_]+)+[.!?]?")


def _phrase(text: str) -> bool:
    """Whether ``text`` reads as three or more words: one separator between them, each word in
    one case (``Correct horse battery``), three letters a word on average. A random token of ours
    (base64 letters, ``-`` and ``_``) almost never looks like that: none in 10⁶ draws."""
    if not _PHRASE.fullmatch(re.sub(r"[,;:]\s", " ", text)):
        return False
    words = re.findall(r"[^\W\d_]+", text)
    return sum(map(len, words)) >= 3 * len(words) and all(
        w.islower() or w.isupper() or w.istitle() for w in words
    )


def period(value: str) -> str:
    """The shortest piece that ``value`` repeats (``"abcabcab"`` → ``"abc"``), else ``value``."""
    n = len(value)
    for p in range(1, n // 2 + 1):
        if all(value[i] == value[i - p] for i in range(p, n)):
            return value[:p]
    return value


def estimated_bits(value: str) -> float:
    """A cautious estimate of how many random bits ``value`` holds.

    Each character is worth log2 of the alphabet its character classes span, but no more than
    one bit above log2 of the distinct characters used; a character continuing a run (``aaa``,
    ``abc``, ``321``) is worth one bit; a value that repeats a piece is worth that piece; a
    phrase of words (see ``_phrase``) is worth ``BITS_PER_WORD`` a word. Random values score
    near their real entropy; patterns and phrases score far below it, which is the point."""
    text = period(value.strip())
    if not text:
        return 0.0
    alphabet = sum(size for pattern, size in _CLASSES if pattern.search(text))
    per_char = min(math.log2(alphabet), math.log2(len(set(text))) + 1)
    bits = 0.0
    for i, char in enumerate(text):
        if i >= 2:
            step = ord(char) - ord(text[i - 1])
            if abs(step) <= 1 and step == ord(text[i - 1]) - ord(text[i - 2]):
                bits += 1
                continue
        bits += per_char
    if _phrase(text):
        bits = min(bits, BITS_PER_WORD * len(re.findall(r"[^\W\d_]+", text)))
    return bits


def _normalised(value: str) -> str:
    return re.sub(r"[\W_]+", "", value.lower())


def weakness(value: str | None, minimum_chars: int, minimum_bits: float) -> str | None:
    """Why ``value`` is not good enough as a secret, or None when it is."""
    if value is None or not value.strip():
        return "not set"
    text = value.strip()
    known = {_normalised(p) for p in PLACEHOLDERS}
    piece = _normalised(period(text.lower()))
    if text.lower() in PLACEHOLDERS or piece in known or _normalised(text) in known:
        return "a placeholder from an example, known to everyone"
    if any(word in _normalised(text) for word in PLACEHOLDER_WORDS):
        return "it contains a placeholder word from an example"
    if len(text) < minimum_chars:
        return f"{len(text)} characters; at least {minimum_chars} random ones are needed"
    bits = estimated_bits(text)
    if bits < minimum_bits:
        return (
            f"too predictable (about {bits:.0f} bits of randomness by our estimate, at least "
            f"{minimum_bits:.0f} needed: repeated pieces, runs, few distinct characters and "
            "phrases of words are easy to guess)"
        )
    return None
