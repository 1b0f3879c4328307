"""What the OIDC login hands to the launch, kept in the database so that any worker may take the
launch: the nonce (good for one launch: the launch that checks it deletes it, so a replayed
id_token finds none), the state's parameters, and a launch's own data (a deep-linking launch's,
read back when the instructor has picked the assignment). Every row expires."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from pylti1p3.contrib.flask import FlaskSessionService
from pylti1p3.launch_data_storage.base import LaunchDataStorage
from sqlalchemy import delete

from .. import db
from ..models import LtiLaunchData, now

#: how long what the login hands to the launch is kept unless pylti1p3 says otherwise
DEFAULT_SECONDS = 3600


class DatabaseStorage(LaunchDataStorage[Any]):
    """pylti1p3's launch data storage on our database (keys are random: no session cookie is
    needed, so a launch works where the platform's frame blocks third-party cookies)."""

    def get_session_cookie_name(self) -> None:
        return None

    def can_set_keys_expiration(self) -> bool:
        return True

    def _row_key(self, key: str) -> str | None:
        """The row's key of ``key``; None for one no row can have: keys come from requests
        (a state, a nonce, a launch id), and PostgreSQL refuses a NUL in text (an error, not
        "no such row")."""
        return None if "\x00" in key else self._prepare_key(key)[:255]

    def get_value(self, key: str) -> Any:
        row_key = self._row_key(key)
        row = db.session().get(LtiLaunchData, row_key) if row_key else None
        if row is None or row.expires_at < now():
            return None
        return json.loads(row.value_json)

    def set_value(self, key: str, value: Any, exp: int | None = None) -> None:
        session = db.session()
        moment = now()
        session.execute(delete(LtiLaunchData).where(LtiLaunchData.expires_at < moment))
        row_key = self._prepare_key(key)[:255]
        expires = moment + timedelta(seconds=exp or DEFAULT_SECONDS)
        row = session.get(LtiLaunchData, row_key)
        if row is None:
            session.add(
                LtiLaunchData(key=row_key, value_json=json.dumps(value), expires_at=expires)
            )
        else:
            row.value_json, row.expires_at = json.dumps(value), expires
        session.commit()

    def check_value(self, key: str) -> bool:
        return self.get_value(key) is not None

    def take(self, key: str) -> bool:
        """Delete ``key``'s row; whether it was there (and not expired): exactly one caller of
        many at the same moment gets True."""
        row_key = self._row_key(key)
        if row_key is None:
            return False
        session = db.session()
        deleted = session.execute(
            delete(LtiLaunchData).where(
                LtiLaunchData.key == row_key,
                LtiLaunchData.expires_at >= now(),
            )
        )
        session.commit()
        return bool(deleted.rowcount)  # type: ignore[attr-defined]


class OneTimeNonces(FlaskSessionService):
    """pylti1p3's session service with nonces that are good once: checking one uses it up."""

    def check_nonce(self, nonce: str) -> bool:
        storage = self.data_storage
        assert isinstance(storage, DatabaseStorage)
        return isinstance(nonce, str) and storage.take(self._get_key("nonce", nonce))
