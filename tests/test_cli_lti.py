"""``handcalc lti``: a platform registered from the command line is the one launches are checked
against (its deployments, its URLs), a second register adds deployments rather than a second
platform, and mistakes are one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from handcalc.cli import cli

pytest.importorskip("pylti1p3")

MOODLE = [
    "--name", "Moodle",
    "--issuer", "https://moodle.example.edu",
    "--client-id", "AbC123",
    "--auth-login-url", "https://moodle.example.edu/mod/lti/auth.php",
    "--auth-token-url", "https://moodle.example.edu/mod/lti/token.php",
    "--key-set-url", "https://moodle.example.edu/mod/lti/certs.php",
]  # fmt: skip


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'h.sqlite3'}"


def lti(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["lti", *args, "--database", url])
    return result.exit_code, result.output


def test_a_platform_registered_here_is_what_launches_are_checked_against(url: str) -> None:
    from handcalc.web.app import create_app
    from handcalc.web.lti.registry import ToolConf

    assert lti(url, "platforms") == (0, "no platform registered (handcalc lti register --help)\n")
    code, said = lti(url, "register", *MOODLE, "--deployment", "1")
    assert code == 0 and said.startswith("platform 1: Moodle (https://moodle.example.edu")
    code, said = lti(url, "register", *MOODLE, "--deployment", "2", "--deployment", "1")
    assert code == 0 and "deployments 1, 2" in said
    code, said = lti(url, "platforms")
    assert said.count("\n") == 1 and "client AbC123\tdeployments 1, 2" in said

    app = create_app({"HANDCALC_MODE": "testing", "DATABASE_URL": url})
    with app.app_context():
        conf = ToolConf()
        found = conf.find_registration_by_params("https://moodle.example.edu", "AbC123")
        assert found.get_key_set_url() == "https://moodle.example.edu/mod/lti/certs.php"
        assert conf.find_deployment_by_params("https://moodle.example.edu", "2", "AbC123")
        assert conf.find_deployment_by_params("https://moodle.example.edu", "3", "AbC123") is None
        assert conf.find_registration_by_params("https://moodle.example.edu", "other") is None


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (["--issuer", "moodle.example.edu"], "issuer: 'moodle.example.edu' is not an http(s) URL"),
        (["--key-set-url", "file:///etc/passwd"], "key set URL"),
        (["--client-id", " "], "a platform needs a name and the client id"),
    ],
)
def test_mistakes_are_one_line_and_register_nothing(url: str, change: list[str], said: str) -> None:
    args = list(MOODLE)
    at = args.index(change[0])
    args[at + 1] = change[1]
    code, out = lti(url, "register", *args, "--deployment", "1")
    assert code == 1 and out.count("\n") == 1 and said in out
    assert lti(url, "platforms")[1].startswith("no platform registered")
