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

import importlib.util
import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from handcalc.strength import (
    MIN_SECRET_BITS,
    MIN_SECRET_CHARS,
    MIN_TOKEN_BITS,
    MIN_TOKEN_CHARS,
    weakness,
)

MODES = ("production", "local", "testing")
#: the modes a server may be started in (``testing`` only through ``create_app(test_config)``)
SERVER_MODES = ("production", "local")
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


def kept_file(path: Path, make: Callable[[], bytes]) -> bytes:
    """The file at ``path``, made first with ``make()`` (readable by us only) if there is none.

    Workers starting together must agree on it: the file appears whole or not at all (written
    aside, then linked into place), and whoever links second reads the first one's."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(make())
        try:
            os.link(aside, path)
        except FileExistsError:
            pass
        finally:
            aside.unlink()
    return path.read_bytes()


def _kept_secret(instance: Path, name: str, nbytes: int) -> str:
    """A random secret made on first use and kept in the instance folder (``kept_file``)."""
    path = instance / name
    made = kept_file(path, lambda: (secrets.token_urlsafe(nbytes) + "\n").encode())
    value = made.decode("utf-8").strip()
    if not value:
        raise ConfigError(f"{path}: empty; delete it to have a new one made")
    return value


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


def database_url(instance: Path, env: Mapping[str, str] | None = None) -> str:
    """``HANDCALC_DATABASE_URL``, else the embedded SQLite file in ``instance``."""
    env = os.environ if env is None else env
    return env.get("HANDCALC_DATABASE_URL") or f"sqlite:///{instance / 'handcalc.sqlite3'}"


def redis_url(env: Mapping[str, str]) -> str | None:
    """``HANDCALC_REDIS_URL``: the Redis where request limits are counted for every process of
    every instance (None: each process counts its own). Needs the ``scale`` extra."""
    url = (env.get("HANDCALC_REDIS_URL") or "").strip()
    if not url:
        return None
    from .limits import REDIS_SCHEMES, redis_address

    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in REDIS_SCHEMES:
        raise ConfigError(
            f"HANDCALC_REDIS_URL: must start with {', '.join(s + '://' for s in REDIS_SCHEMES)} "
            f"(e.g. redis://redis-host:6379/0); got {redis_address(url) if scheme else 'no scheme'}"
        )
    if importlib.util.find_spec("redis") is None or importlib.util.find_spec("limits") is None:
        raise ConfigError(
            "HANDCALC_REDIS_URL is set but the Redis client is not installed: "
            "pip install 'handcalc[scale]'"
        )
    return url


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
    database = database_url(instance, env)
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
        # LTI logins and launches per address (a login and a launch each): a lecture hall
        # behind one campus address opening the activity at once
        "LTI_PER_MINUTE": _int_env(env, "HANDCALC_LTI_PER_MINUTE", 3000),
        "DEFAULT_MAX_ATTEMPTS": _int_env(env, "HANDCALC_MAX_ATTEMPTS", 3),
        # where requests per minute are counted for every process and instance (else per process)
        "REDIS_URL": redis_url(env),
        # wrong instructor tokens per client per minute (per process); the right one always works
        "LOGIN_FAILURES_PER_MINUTE": _int_env(env, "HANDCALC_LOGIN_FAILURES_PER_MINUTE", 10),
        # how many reverse proxies in front of us append to X-Forwarded-For (0: none, the
        # client's address is the connection's and forwarded headers are ignored)
        "TRUSTED_PROXIES": _int_env(env, "HANDCALC_TRUSTED_PROXIES", 0, minimum=0),
        # an instructor's sign-in: at most this long, and ends after this long unused
        "SESSION_HOURS": _int_env(env, "HANDCALC_SESSION_HOURS", 12),
        "SESSION_IDLE_MINUTES": _int_env(env, "HANDCALC_SESSION_IDLE_MINUTES", 120),
        # a worksheet's answers arrive in milliseconds; a client this slow holds a connection
        "BODY_SECONDS": _int_env(env, "HANDCALC_BODY_SECONDS", 10),
        # CPU seconds a minute an address may spend making and checking practice problems
        "PRACTICE_CPU_SECONDS": _int_env(env, "HANDCALC_PRACTICE_CPU_SECONDS", 10),
        # estimated memory of the problems each worker keeps (least recently used first out)
        "PROBLEM_CACHE_MB": _int_env(env, "HANDCALC_PROBLEM_CACHE_MB", 128),
        # LTI: the tool's private key (PEM; default: made once in the instance folder)
        "LTI_KEY_FILE": env.get("HANDCALC_LTI_KEY_FILE") or None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # set behind HTTPS (a class on a LAN often has plain HTTP, where a secure cookie is dropped)
        "SESSION_COOKIE_SECURE": env.get("HANDCALC_SECURE_COOKIES") == "1",
        "WTF_CSRF_TIME_LIMIT": None,
    }
