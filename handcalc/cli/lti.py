"""``handcalc lti``: the learning platforms the grading service is registered with (LTI 1.3), and
the score sends waiting for them.

The platform's side of the registration gives the values ``register`` asks for (README: "Learning
platforms (LTI 1.3)", with Moodle's and Canvas's screens); the tool's side is served at
``/lti/config`` and ``/lti/jwks``. Needs the ``lms`` extra (``pip install 'handcalc[lms]'``).
"""

from __future__ import annotations

from pathlib import Path

import click

from .admin import _database
from .database import database_option, instance_option


def _needs_lms() -> None:
    from ..web import lti

    if not lti.AVAILABLE:
        raise click.ClickException(
            "LTI needs the lms extra: pip install 'handcalc[lms]' (pylti1p3next, PyJWT)"
        )


@click.group("lti")
def lti_group() -> None:
    """Learning platforms (LTI 1.3): register one, list them, send waiting scores.

    \b
    Examples:
      handcalc lti register --name "Moodle" --issuer https://moodle.example.edu \\
        --client-id AbC123 --deployment 1 \\
        --auth-login-url https://moodle.example.edu/mod/lti/auth.php \\
        --auth-token-url https://moodle.example.edu/mod/lti/token.php \\
        --key-set-url https://moodle.example.edu/mod/lti/certs.php
      handcalc lti platforms
      handcalc lti send
    """


@lti_group.command("register")
@click.option("--name", required=True, help="What students and instructors see it called.")
@click.option("--issuer", required=True, help="The platform's issuer (its URL, as it signs).")
@click.option("--client-id", required=True, help="The client id the platform gave the tool.")
@click.option("--auth-login-url", required=True, help="The platform's OIDC authorisation URL.")
@click.option("--auth-token-url", required=True, help="The platform's access token URL.")
@click.option("--key-set-url", required=True, help="The platform's public keys (JWKS) URL.")
@click.option(
    "--deployment",
    "deployments",
    multiple=True,
    required=True,
    help="A deployment id it may launch from (repeat for several; added to those known).",
)
@database_option
@instance_option
def register(
    name: str,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    key_set_url: str,
    deployments: tuple[str, ...],
    database: str | None,
    instance: Path | None,
) -> None:
    """Register a platform (or update the one of this issuer and client id)."""
    _needs_lms()
    from ..errors import HandcalcError
    from ..web.lti import registry

    with _database(database, instance) as session:
        try:
            row = registry.register(
                session,
                name=name,
                issuer=issuer,
                client_id=client_id,
                auth_login_url=auth_login_url,
                auth_token_url=auth_token_url,
                key_set_url=key_set_url,
                deployments=deployments,
            )
        except HandcalcError as e:
            raise click.ClickException(str(e)) from None
        click.echo(
            f"platform {row.id}: {row.name} ({row.issuer}, client {row.client_id}, "
            f"deployments {', '.join(row.deployments)})"
        )


@lti_group.command("platforms")
@database_option
@instance_option
def platforms(database: str | None, instance: Path | None) -> None:
    """The registered platforms, one a line."""
    _needs_lms()
    from ..web.lti import registry

    with _database(database, instance) as session:
        rows = registry.platforms(session)
        if not rows:
            click.echo("no platform registered (handcalc lti register --help)")
        for row in rows:
            click.echo(
                f"{row.id}\t{row.name}\t{row.issuer}\tclient {row.client_id}\t"
                f"deployments {', '.join(row.deployments)}"
            )


@lti_group.command("send")
def send() -> None:
    """Send the scores that are due now (the service retries on its own; this is for a cron
    job, or after an outage). Reads the service's configuration from the environment, as
    gunicorn does."""
    _needs_lms()
    from ..web.app import create_app
    from ..web.config import ConfigError
    from ..web.lti import passback

    try:
        app = create_app()
    except ConfigError as e:
        raise click.ClickException(str(e)) from None
    with app.app_context():
        done = passback.deliver_due()
    click.echo(f"{done['sent']} sent, {done['failed']} not sent (retried later)")
