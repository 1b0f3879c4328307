"""Configuration: production refuses weak secrets; one machine makes its own and keeps them."""

from __future__ import annotations

from pathlib import Path

import pytest
from handcalc.web.app import create_app
from handcalc.web.config import ConfigError, from_env

STRONG = "k" * 40
TOKEN = "t" * 24


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"HANDCALC_INSTRUCTOR_TOKEN": TOKEN},
        {"HANDCALC_SECRET_KEY": "short", "HANDCALC_INSTRUCTOR_TOKEN": TOKEN},
        {"HANDCALC_SECRET_KEY": "changeme", "HANDCALC_INSTRUCTOR_TOKEN": TOKEN},
        {"HANDCALC_SECRET_KEY": STRONG},
        {"HANDCALC_SECRET_KEY": STRONG, "HANDCALC_INSTRUCTOR_TOKEN": "token"},
    ],
)
def test_production_refuses_to_start_without_real_secrets(
    tmp_path: Path, env: dict[str, str]
) -> None:
    with pytest.raises(ConfigError, match=r"HANDCALC_(SECRET_KEY|INSTRUCTOR_TOKEN)"):
        from_env(tmp_path, env)
    assert not list(tmp_path.iterdir())


def test_production_is_the_default_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HANDCALC_ENV", "HANDCALC_SECRET_KEY", "HANDCALC_INSTRUCTOR_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HANDCALC_INSTANCE", str(tmp_path))
    with pytest.raises(ConfigError):
        create_app()


def test_production_with_real_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'prod.sqlite3'}"
    monkeypatch.setenv("HANDCALC_SECRET_KEY", STRONG)
    monkeypatch.setenv("HANDCALC_INSTRUCTOR_TOKEN", TOKEN)
    monkeypatch.setenv("HANDCALC_DATABASE_URL", url)
    monkeypatch.setenv("HANDCALC_CHECKS_PER_MINUTE", "90")
    monkeypatch.delenv("HANDCALC_ENV", raising=False)
    app = create_app()
    assert app.config["SECRET_KEY"] == STRONG
    assert app.config["INSTRUCTOR_TOKEN"] == TOKEN
    assert app.config["DATABASE_URL"] == url
    assert app.config["CHECKS_PER_MINUTE"] == 90
    assert (tmp_path / "prod.sqlite3").exists()
    assert app.test_client().get("/healthz").status_code == 200


def test_local_mode_makes_secrets_once_and_keeps_them(tmp_path: Path) -> None:
    first = from_env(tmp_path, {}, mode="local")
    second = from_env(tmp_path, {}, mode="local")
    assert len(first["SECRET_KEY"]) >= 32
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert first["INSTRUCTOR_TOKEN"] == second["INSTRUCTOR_TOKEN"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first["DATABASE_URL"] == f"sqlite:///{tmp_path / 'handcalc.sqlite3'}"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HANDCALC_ENV": "staging"}, "HANDCALC_ENV"),
        ({"HANDCALC_CHECKS_PER_MINUTE": "lots"}, "HANDCALC_CHECKS_PER_MINUTE"),
        ({"HANDCALC_MAX_BODY_BYTES": "0"}, "HANDCALC_MAX_BODY_BYTES"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_env(
            tmp_path, {"HANDCALC_SECRET_KEY": STRONG, "HANDCALC_INSTRUCTOR_TOKEN": TOKEN, **env}
        )


def test_workers_starting_together_agree_on_the_secret(tmp_path: Path) -> None:
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(4) as pool:
        secrets = set(pool.map(_secret_of, [tmp_path] * 8))
    assert len(secrets) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["instructor_token", "secret_key"]


def _secret_of(instance: Path) -> str:
    value: str = from_env(instance, {}, mode="local")["SECRET_KEY"]
    return value
