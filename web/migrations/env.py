"""Alembic's environment: the connection is the one :mod:`handcalc.web.migrate` hands over (no
``alembic.ini``, no URL read here), the target the service's models."""

from __future__ import annotations

from alembic import context
from handcalc.web.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
