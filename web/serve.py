"""``handcalc serve``: the service for a class on one machine, under gunicorn.

Local mode: the secret key and the instructor token are made on first start and kept in the
instance folder (so students' links keep working across restarts), the database is an SQLite file
there unless ``--db`` (or ``HANDCALC_DATABASE_URL``) names another.
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path
from typing import Any

from flask import Flask

from .app import create_app
from .config import ConfigError, from_env


def default_instance() -> Path:
    """``HANDCALC_INSTANCE``, else Flask's instance folder of the app (beside the checkout, or
    under the environment's ``var/`` when installed)."""
    chosen = os.environ.get("HANDCALC_INSTANCE")
    return Path(chosen) if chosen else Path(Flask("handcalc.web.app").instance_path)


def settings(instance: Path, database: str | None) -> dict[str, Any]:
    """The app's configuration in local mode (secrets made once and kept in ``instance``)."""
    env = dict(os.environ)
    if database:
        env["HANDCALC_DATABASE_URL"] = database
    config = from_env(instance, env, mode=env.get("HANDCALC_ENV") or "local")
    config["HANDCALC_MODE"] = "testing"  # already resolved: nothing more to read or make
    return config


def banner(config: dict[str, Any], host: str, port: int, workers: int) -> str:
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    where = config["DATABASE_URL"]
    return "\n".join(
        [
            f"handcalc: serving on http://{shown}:{port}/ ({workers} worker{'s' * (workers > 1)})",
            f"  practice:    http://{shown}:{port}/",
            f"  instructor:  http://{shown}:{port}/instructor/",
            f"  instructor token: {config['INSTRUCTOR_TOKEN']}",
            f"  API:         http://{shown}:{port}/api/v1/openapi.json",
            f"  database:    {where.split('@')[-1] if '@' in where else where}",
            "  (for the class to reach it, use --host 0.0.0.0; Ctrl-C stops)",
        ]
    )


def run(
    host: str, port: int, database: str | None, workers: int, instance: Path | None = None
) -> None:
    """Serve until interrupted (gunicorn, ``workers`` processes, with the settings of
    ``gunicorn_config``)."""
    from gunicorn.app.base import BaseApplication

    check_port(host, port)
    config = settings(instance or default_instance(), database)
    create_app(dict(config))  # tables made and settings checked once, before any worker starts
    print(banner(config, host, port, workers), flush=True)

    class Server(BaseApplication):
        def load_config(self) -> None:
            for name, value in shared_settings().items():
                self.cfg.set(name, value)
            self.cfg.set("bind", f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("graceful_timeout", 5)

        def load(self) -> Flask:
            return create_app(dict(config))

    Server().run()


def check_port(host: str, port: int) -> None:
    """Fail at once, before saying "serving", when the address cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"port {port} is in use on {host}: stop what serves there, or choose "
                    "another with --port"
                ) from None
            raise ConfigError(f"cannot serve on {host}:{port}: {e.strerror or e}") from None


def shared_settings() -> dict[str, Any]:
    """The settings of ``gunicorn_config`` that gunicorn knows, as production gets them."""
    from gunicorn.config import KNOWN_SETTINGS

    from . import gunicorn_config

    known = {setting.name for setting in KNOWN_SETTINGS}
    return {k: v for k, v in vars(gunicorn_config).items() if k in known}
