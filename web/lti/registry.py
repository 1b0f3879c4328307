"""The platforms registered with the tool, as pylti1p3 asks for them: a registration by issuer and
client id (the launch's ``iss`` and ``aud``), a deployment by id. Platforms are rows
(``models.LtiPlatform``), added with ``handcalc lti register`` (:func:`register`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from pylti1p3.deployment import Deployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import db
from ..errors import InputError
from ..models import LtiPlatform
from .keys import ToolKey, tool_key


def registration_of(platform: LtiPlatform, key: ToolKey) -> Registration:
    """pylti1p3's view of a platform, with the tool's key pair."""
    return (
        Registration()
        .set_issuer(platform.issuer)
        .set_client_id(platform.client_id)
        .set_auth_login_url(platform.auth_login_url)
        .set_auth_token_url(platform.auth_token_url)
        .set_key_set_url(platform.key_set_url)
        .set_tool_private_key(key.private_pem)
        .set_tool_public_key(key.public_pem)
    )


def platform_of(session: Session, issuer: Any, client_id: Any) -> LtiPlatform | None:
    """The platform of ``issuer`` (and ``client_id``: one issuer may register the tool twice);
    None for anything but text (a launch's claims are any JSON until checked), and for text with
    a NUL (no platform has one, and PostgreSQL refuses to look: a login naming one was a 500)."""
    if not isinstance(issuer, str) or not (client_id is None or isinstance(client_id, str)):
        return None
    if "\x00" in issuer or (client_id is not None and "\x00" in client_id):
        return None
    query = select(LtiPlatform).where(LtiPlatform.issuer == issuer)
    if client_id is not None:
        query = query.where(LtiPlatform.client_id == client_id)
    rows = session.scalars(query.limit(2)).all()
    return rows[0] if len(rows) == 1 else None


class ToolConf(ToolConfAbstract[Any]):
    """Registrations read from the database (one issuer may have several client ids)."""

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        found = platform_of(db.session(), iss, None)
        return registration_of(found, tool_key()) if found else None  # type: ignore[return-value]

    def find_registration_by_params(
        self, iss: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Registration:
        found = platform_of(db.session(), iss, client_id)
        return registration_of(found, tool_key()) if found else None  # type: ignore[return-value]

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        found = platform_of(db.session(), iss, None)
        return _deployment(found, deployment_id)

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Deployment | None:
        return _deployment(platform_of(db.session(), iss, client_id), deployment_id)


def _deployment(platform: LtiPlatform | None, deployment_id: str) -> Deployment | None:
    if platform is None or deployment_id not in platform.deployments:
        return None
    return Deployment().set_deployment_id(deployment_id)


# --- registering ------------------------------------------------------------------------------


def origin(url: Any) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL; None for anything else."""
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


#: the longest issuer and client id (their columns; PostgreSQL refuses a longer one)
MAX_ID = 255


def _fits(name: str, value: str, limit: int | None = None) -> str:
    """``value``, refused unless it can be kept: within ``limit`` characters, no NUL (which
    PostgreSQL refuses in any text)."""
    if "\x00" in value:
        raise InputError(f"{name}: {value[:80]!r} holds a NUL character")
    if limit is not None and len(value) > limit:
        raise InputError(
            f"{name}: {len(value)} characters, more than the {limit} a platform may use"
        )
    return value


def _url(name: str, value: str) -> str:
    _fits(name, value)
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise InputError(f"{name}: {value!r} is not an http(s) URL")
    return value


def register(
    session: Session,
    *,
    name: str,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    key_set_url: str,
    deployments: Sequence[str],
) -> LtiPlatform:
    """Register a platform, or update the one of this issuer and client id (its deployments are
    added to those it had); committed."""
    if not name.strip() or not client_id.strip():
        raise InputError("a platform needs a name and the client id it gave the tool")
    _fits("name", name)
    _fits("issuer", issuer, MAX_ID)
    _fits("client id", client_id.strip(), MAX_ID)
    for deployment in deployments:
        _fits("deployment", deployment)
    row = platform_of(session, issuer, client_id.strip())  # (kept stripped: found so)
    if row is None:
        row = LtiPlatform(issuer=_url("issuer", issuer), client_id=client_id.strip())
        session.add(row)
    row.name = name.strip()[:200]
    row.auth_login_url = _url("auth login URL", auth_login_url)
    row.auth_token_url = _url("auth token URL", auth_token_url)
    row.key_set_url = _url("key set URL", key_set_url)
    known = json.loads(row.deployments_json) if row.deployments_json else []
    row.deployments_json = json.dumps(known + [d for d in deployments if d and d not in known])
    session.commit()
    return row


def platforms(session: Session) -> list[LtiPlatform]:
    return list(session.scalars(select(LtiPlatform).order_by(LtiPlatform.id)).all())
