"""Configuration: production refuses weak secrets; one machine makes its own and keeps them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from handcalc.web.app import create_app
from handcalc.web.config import ConfigError, from_env
from handcalc.web.serve import settings

# made once with secrets.token_urlsafe(32) and token_urlsafe(18)
STRONG = "GVuoZ3wzev9hLEDbDsVQTCGc4NRPeD9k8DnHOdOP6vg"
TOKEN = "z2sRt1tnEyALqr55rivopa1_"
README = Path(__file__).resolve().parents[2] / "README.md"
README_PHRASE = "a long random phrase only you know"


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


# --- weak secrets (issue 7, item 4) -----------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [
        "a" * 32,
        "changeme" * 4,
        "ChangeMe" * 5,
        "change-me-" * 4,
        README_PHRASE,
        README_PHRASE.title().replace(" ", "-"),
        "secret" * 8,
        "0123456789abcdefghijklmnopqrstuvwxyz",
        "abcd1234" * 5,
        "correct horse battery staple and four more words",
        "my-password-is-long-and-very-secure-2024",
        "k" * 40,
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
        STRONG[:16] * 2,
    ],
)
def test_production_refuses_weak_secret_keys(tmp_path: Path, secret: str) -> None:
    env = {"HANDCALC_SECRET_KEY": secret, "HANDCALC_INSTRUCTOR_TOKEN": TOKEN}
    with pytest.raises(ConfigError, match="HANDCALC_SECRET_KEY") as refused:
        from_env(tmp_path, env)
    assert "secrets.token_urlsafe(32)" in str(refused.value)  # how to make a good one


@pytest.mark.parametrize(
    "token",
    [
        "abcdefgh" * 2,  # a 16-character repeated token
        "Tok3n" * 4,
        "t" * 24,
        "instructor-token",
        "password12345678",
        "qwertyuiopasdfgh" * 2,
        "correct-horse-battery-staple",
        STRONG,  # the token is the secret
        STRONG[5:30],  # or part of it
    ],
)
def test_production_refuses_weak_instructor_tokens(tmp_path: Path, token: str) -> None:
    env = {"HANDCALC_SECRET_KEY": STRONG, "HANDCALC_INSTRUCTOR_TOKEN": token}
    with pytest.raises(ConfigError, match="HANDCALC_INSTRUCTOR_TOKEN") as refused:
        from_env(tmp_path, env)
    assert "secrets.token_urlsafe(18)" in str(refused.value)


def test_the_readmes_examples_give_secrets_that_start(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    commands = dict(
        re.findall(
            r"(HANDCALC_SECRET_KEY|HANDCALC_INSTRUCTOR_TOKEN)=\"\$\(python3? -c '([^']+)'\)\"", text
        )
    )
    assert set(commands) == {"HANDCALC_SECRET_KEY", "HANDCALC_INSTRUCTOR_TOKEN"}, commands
    env = {
        name: subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
        for name, code in commands.items()
    }
    config = from_env(tmp_path, env)
    assert config["SECRET_KEY"] == env["HANDCALC_SECRET_KEY"]
    # and a secret written out in the README is one nobody may use as written
    for literal in re.findall(r"HANDCALC_SECRET_KEY=(?:'([^'$]*)'|\"([^\"$]*)\")", text):
        example = "".join(literal)
        with pytest.raises(ConfigError, match="HANDCALC_SECRET_KEY"):
            from_env(tmp_path, {**env, "HANDCALC_SECRET_KEY": example})


def test_local_mode_checks_what_the_environment_gives(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="HANDCALC_SECRET_KEY"):
        from_env(tmp_path, {"HANDCALC_SECRET_KEY": README_PHRASE}, mode="local")
    with pytest.raises(ConfigError, match="HANDCALC_INSTRUCTOR_TOKEN"):
        from_env(tmp_path, {"HANDCALC_INSTRUCTOR_TOKEN": "abcdefgh" * 2}, mode="local")
    kept = from_env(tmp_path, {"HANDCALC_SECRET_KEY": STRONG}, mode="local")
    assert kept["SECRET_KEY"] == STRONG and len(kept["INSTRUCTOR_TOKEN"]) >= 24


# --- testing mode is for tests only (issue 7, item 9) -----------------------------------------


def test_testing_mode_is_refused_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under gunicorn each worker would make its own secret (a link signed by one worker is
    refused by the other), so a server can never be started in testing mode."""
    monkeypatch.setenv("HANDCALC_INSTANCE", str(tmp_path))
    monkeypatch.setenv("HANDCALC_ENV", "testing")
    monkeypatch.setenv("HANDCALC_SECRET_KEY", STRONG)
    monkeypatch.setenv("HANDCALC_INSTRUCTOR_TOKEN", TOKEN)
    with pytest.raises(ConfigError, match="'testing' is only for the test suite"):
        create_app()
    with pytest.raises(ConfigError, match="testing"):
        settings(tmp_path, None)  # handcalc serve
    with pytest.raises(ConfigError, match="testing"):
        create_app({"HANDCALC_MODE": "testing"})  # not even a test while the variable says so
    monkeypatch.delenv("HANDCALC_ENV")
    url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    app = create_app({"HANDCALC_MODE": "testing", "DATABASE_URL": url})
    assert app.config["HANDCALC_MODE"] == "testing"


# --- the settings of issue 7 ------------------------------------------------------------------


def test_security_settings_and_their_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"HANDCALC_SECRET_KEY": STRONG, "HANDCALC_INSTRUCTOR_TOKEN": TOKEN}
    config = from_env(tmp_path, env)
    assert config["TRUSTED_PROXIES"] == 0
    assert config["LOGIN_FAILURES_PER_MINUTE"] == 10
    assert (config["SESSION_HOURS"], config["SESSION_IDLE_MINUTES"]) == (12, 120)
    config = from_env(
        tmp_path,
        {
            **env,
            "HANDCALC_TRUSTED_PROXIES": "2",
            "HANDCALC_LOGIN_FAILURES_PER_MINUTE": "5",
            "HANDCALC_SESSION_HOURS": "8",
            "HANDCALC_SESSION_IDLE_MINUTES": "30",
        },
    )
    assert config["TRUSTED_PROXIES"] == 2
    assert config["LOGIN_FAILURES_PER_MINUTE"] == 5
    assert (config["SESSION_HOURS"], config["SESSION_IDLE_MINUTES"]) == (8, 30)
    monkeypatch.setenv("HANDCALC_TRUSTED_PROXIES", "1")
    for name in ("HANDCALC_ENV", "HANDCALC_SECRET_KEY", "HANDCALC_INSTRUCTOR_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert settings(tmp_path, None)["TRUSTED_PROXIES"] == 1  # handcalc serve reads it too
    with pytest.raises(ConfigError, match="HANDCALC_TRUSTED_PROXIES"):
        from_env(tmp_path, {**env, "HANDCALC_TRUSTED_PROXIES": "-1"})
    with pytest.raises(ConfigError, match="HANDCALC_SESSION_HOURS"):
        from_env(tmp_path, {**env, "HANDCALC_SESSION_HOURS": "0"})


def test_cost_settings_and_their_defaults(tmp_path: Path) -> None:
    env = {"HANDCALC_SECRET_KEY": STRONG, "HANDCALC_INSTRUCTOR_TOKEN": TOKEN}
    config = from_env(tmp_path, env)
    assert (config["BODY_SECONDS"], config["PRACTICE_CPU_SECONDS"]) == (10, 10)
    assert config["PROBLEM_CACHE_MB"] == 128
    names = ("HANDCALC_BODY_SECONDS", "HANDCALC_PRACTICE_CPU_SECONDS", "HANDCALC_PROBLEM_CACHE_MB")
    config = from_env(tmp_path, {**env, **dict.fromkeys(names, "3")})
    assert (config["BODY_SECONDS"], config["PRACTICE_CPU_SECONDS"]) == (3, 3)
    assert config["PROBLEM_CACHE_MB"] == 3
    with pytest.raises(ConfigError, match="HANDCALC_BODY_SECONDS"):
        from_env(tmp_path, {**env, "HANDCALC_BODY_SECONDS": "0"})
