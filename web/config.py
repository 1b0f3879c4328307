"""Configuration from the environment, with safe defaults for one machine and none for production.

``HANDCALC_ENV`` chooses the mode: ``production`` (the default, what gunicorn gets) refuses to start
without a real ``HANDCALC_SECRET_KEY`` and ``HANDCALC_INSTRUCTOR_TOKEN``; ``local`` (what
``handcalc serve`` uses) makes both up once and keeps them in the instance folder, so student links
keep working across restarts.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MODES = ("production", "local", "testing")
#: secrets people paste from examples; never accepted in production
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
}
MIN_SECRET_CHARS = 32
MIN_TOKEN_CHARS = 16


class ConfigError(RuntimeError):
    """The service refuses to start: the message says which variable to set and how."""


def _int_env(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not a whole number") from None
    if value < 1:
        raise ConfigError(f"{name}: {value} must be at least 1")
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


def weak(value: str | None, minimum: int) -> bool:
    return value is None or len(value.strip()) < minimum or value.strip().lower() in PLACEHOLDERS


def from_env(
    instance: Path, env: Mapping[str, str] | None = None, mode: str | None = None
) -> dict[str, Any]:
    """The app's configuration: ``HANDCALC_*`` variables, then the mode's defaults."""
    env = os.environ if env is None else env
    mode = mode or env.get("HANDCALC_ENV", "production").strip().lower() or "production"
    if mode not in MODES:
        raise ConfigError(f"HANDCALC_ENV: {mode!r} is not accepted; accepted: {', '.join(MODES)}")
    secret = env.get("HANDCALC_SECRET_KEY")
    token = env.get("HANDCALC_INSTRUCTOR_TOKEN")
    if mode == "production":
        if weak(secret, MIN_SECRET_CHARS):
            raise ConfigError(
                "HANDCALC_SECRET_KEY: production needs a real secret of at least "
                f"{MIN_SECRET_CHARS} random characters (e.g. python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'); for one machine use `handcalc serve`"
            )
        if weak(token, MIN_TOKEN_CHARS):
            raise ConfigError(
                "HANDCALC_INSTRUCTOR_TOKEN: production needs an instructor token of at least "
                f"{MIN_TOKEN_CHARS} random characters"
            )
    elif mode == "testing":  # nothing written anywhere
        secret = secret or secrets.token_urlsafe(32)
        token = token or secrets.token_urlsafe(18)
    else:
        if not secret:
            secret = _kept_secret(instance, "secret_key", 32)
        if not token:
            token = _kept_secret(instance, "instructor_token", 18)
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
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # set behind HTTPS (a class on a LAN often has plain HTTP, where a secure cookie is dropped)
        "SESSION_COOKIE_SECURE": env.get("HANDCALC_SECURE_COOKIES") == "1",
        "WTF_CSRF_TIME_LIMIT": None,
    }
