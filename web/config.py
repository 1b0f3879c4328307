"""Configuration from the environment, with safe defaults for one machine and none for production.

``HANDCALC_ENV`` chooses the mode: ``production`` (the default, what gunicorn gets) refuses to start
without a strong ``HANDCALC_SECRET_KEY`` and ``HANDCALC_INSTRUCTOR_TOKEN``; ``local`` (what
``handcalc serve`` uses) makes both up once and keeps them in the instance folder, so student links
keep working across restarts (and refuses weak ones given in the environment, as production does).
The third mode, ``testing``, makes a random secret in every process: it is only for the test
suite, which asks for it through ``create_app({"HANDCALC_MODE": "testing", ...})``; from the
environment it is refused, because under gunicorn each worker would sign with its own secret.
"""

from __future__ import annotations

import math
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MODES = ("production", "local", "testing")
#: the modes a server may be started in (``testing`` only through ``create_app(test_config)``)
SERVER_MODES = ("production", "local")
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
MAKE_ONE = "python -c 'import secrets; print(secrets.token_urlsafe({n}))'"


class ConfigError(RuntimeError):
    """The service refuses to start: the message says which variable to set and how."""


def _int_env(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not a whole number") from None
    if value < minimum:
        raise ConfigError(f"{name}: {value} must be at least {minimum}")
    return value


def _kept_secret(instance: Path, name: str, nbytes: int) -> str:
    """A random secret made on first use and kept in the instance folder (readable by us only).

    Workers starting together must agree on it: the file appears whole or not at all (written
    aside, then linked into place), and whoever links second reads the first one's secret."""
    path = instance / name
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        aside = instance / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_urlsafe(nbytes) + "\n")
        try:
            os.link(aside, path)
        except FileExistsError:
            pass
        finally:
            aside.unlink()
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise ConfigError(f"{path}: empty; delete it to have a new one made")
    return value


# --- how strong is a secret -------------------------------------------------------------------

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


def check_secrets(secret: str | None, token: str | None) -> None:
    """ConfigError unless the secret key and the instructor token are both strong and different."""
    why = weakness(secret, MIN_SECRET_CHARS, MIN_SECRET_BITS)
    if why:
        raise ConfigError(
            f"HANDCALC_SECRET_KEY: {why}. It signs every student's link and seeds their "
            f"numbers; make one with {MAKE_ONE.format(n=32)} and keep it (for one machine, "
            "`handcalc serve` makes and keeps one itself)"
        )
    why = weakness(token, MIN_TOKEN_CHARS, MIN_TOKEN_BITS)
    if why:
        raise ConfigError(
            f"HANDCALC_INSTRUCTOR_TOKEN: {why}. It is the instructor's password; make one "
            f"with {MAKE_ONE.format(n=18)}"
        )
    assert secret is not None and token is not None
    a, b = secret.strip(), token.strip()
    if a in b or b in a:
        raise ConfigError(
            "HANDCALC_INSTRUCTOR_TOKEN: must not be (part of) HANDCALC_SECRET_KEY: whoever "
            f"holds the token could forge links; make another with {MAKE_ONE.format(n=18)}"
        )


# --- the configuration ------------------------------------------------------------------------


def _mode(env: Mapping[str, str], mode: str | None) -> str:
    from_environment = env.get("HANDCALC_ENV", "").strip().lower()
    if from_environment and from_environment not in SERVER_MODES:
        if from_environment == "testing":
            raise ConfigError(
                "HANDCALC_ENV: 'testing' is only for the test suite (each process would make "
                "its own secret, so under gunicorn every worker would sign links differently); "
                "use 'local' (secrets made once and kept in the instance folder) or "
                "'production' (set HANDCALC_SECRET_KEY and HANDCALC_INSTRUCTOR_TOKEN)"
            )
        raise ConfigError(
            f"HANDCALC_ENV: {from_environment!r} is not accepted; accepted: "
            f"{', '.join(SERVER_MODES)}"
        )
    chosen = (mode or from_environment or "production").strip().lower()
    if chosen not in MODES:
        raise ConfigError(f"mode {chosen!r} is not accepted; accepted: {', '.join(MODES)}")
    return chosen


def from_env(
    instance: Path, env: Mapping[str, str] | None = None, mode: str | None = None
) -> dict[str, Any]:
    """The app's configuration: ``HANDCALC_*`` variables, then the mode's defaults.

    ``mode`` is what the caller asks for (``create_app``'s ``test_config``, ``handcalc
    serve``); ``HANDCALC_ENV`` may say ``production`` or ``local`` but never ``testing``."""
    env = os.environ if env is None else env
    mode = _mode(env, mode)
    secret = env.get("HANDCALC_SECRET_KEY")
    token = env.get("HANDCALC_INSTRUCTOR_TOKEN")
    if mode == "production":
        check_secrets(secret, token)
    elif mode == "testing":  # nothing written anywhere, nothing checked
        secret = secret or secrets.token_urlsafe(32)
        token = token or secrets.token_urlsafe(18)
    else:
        # what the environment gives is checked as in production; what we make is strong
        given_secret, given_token = bool(secret and secret.strip()), bool(token and token.strip())
        secret = secret if given_secret else _kept_secret(instance, "secret_key", 32)
        token = token if given_token else _kept_secret(instance, "instructor_token", 18)
        if given_secret or given_token:
            check_secrets(secret, token)
    database = env.get("HANDCALC_DATABASE_URL") or f"sqlite:///{instance / 'handcalc.sqlite3'}"
    return {
        "HANDCALC_MODE": mode,
        "SECRET_KEY": secret,
        "INSTRUCTOR_TOKEN": token,
        "DATABASE_URL": database,
        # a worksheet's answers are a few KiB; anything far larger is not one
        "MAX_CONTENT_LENGTH": _int_env(env, "HANDCALC_MAX_BODY_BYTES", 256 * 1024),
        # per token and per process: a class behind one address shares nothing but its address
        "CHECKS_PER_MINUTE": _int_env(env, "HANDCALC_CHECKS_PER_MINUTE", 120),
        "PRACTICE_PER_MINUTE": _int_env(env, "HANDCALC_PRACTICE_PER_MINUTE", 600),
        "DEFAULT_MAX_ATTEMPTS": _int_env(env, "HANDCALC_MAX_ATTEMPTS", 3),
        # wrong instructor tokens per client per minute (per process); the right one always works
        "LOGIN_FAILURES_PER_MINUTE": _int_env(env, "HANDCALC_LOGIN_FAILURES_PER_MINUTE", 10),
        # how many reverse proxies in front of us append to X-Forwarded-For (0: none, the
        # client's address is the connection's and forwarded headers are ignored)
        "TRUSTED_PROXIES": _int_env(env, "HANDCALC_TRUSTED_PROXIES", 0, minimum=0),
        # an instructor's sign-in: at most this long, and ends after this long unused
        "SESSION_HOURS": _int_env(env, "HANDCALC_SESSION_HOURS", 12),
        "SESSION_IDLE_MINUTES": _int_env(env, "HANDCALC_SESSION_IDLE_MINUTES", 120),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # set behind HTTPS (a class on a LAN often has plain HTTP, where a secure cookie is dropped)
        "SESSION_COOKIE_SECURE": env.get("HANDCALC_SECURE_COOKIES") == "1",
        "WTF_CSRF_TIME_LIMIT": None,
    }
