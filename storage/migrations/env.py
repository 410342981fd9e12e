"""Alembic environment: runs on the connection `misure db upgrade` hands over (with the table
modules of the configured procedures), or on the URL for Alembic's own commands."""

from __future__ import annotations

import os
from importlib import import_module

from alembic import context
from sqlalchemy import Connection

from storage.database import make_engine
from storage.models import Base

config = context.config
for module in (
    config.attributes.get("table_modules")
    or (config.get_main_option("table_modules") or "").split()
):
    import_module(module)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get(
        "MISURE_DATABASE_URL", "sqlite:///var/misure.db"
    )
    engine = make_engine(url)
    with engine.connect() as fresh:
        _run(fresh)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run `misure db upgrade`")
run_migrations_online()
