"""Alembic environment: the engine is handed over by catalog.db, never read from a file."""

from __future__ import annotations

from alembic import context

from catalog.models import Base

engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
