"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from importlib import import_module

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, inspect
from sqlalchemy.dialects import sqlite

from machines.calendar import ROME
from services.placements.procedure import PROCEDURE
from services.schema import MIGRATIONS, current_revision, head_revision, upgrade
from storage.models import Base, UTCDateTime
from storage.repository import _sqlite_value


def test_migrations_match_the_models(db: Engine) -> None:
    for module in PROCEDURE.tables:  # the procedures' tables are in the shared chain
        import_module(module)
    assert current_revision(db) == head_revision()
    with db.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_nothing_and_back(db: Engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert current_revision(db) is None
    assert set(inspect(db).get_table_names()) <= {"alembic_version"}
    assert upgrade(db) == head_revision()
    assert {"cases", "case_events", "timers", "outbox", "documents"} <= set(
        inspect(db).get_table_names()
    )


@given(
    instant=st.datetimes(
        min_value=datetime(2001, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(ROME)
    )
)
def test_the_sqlite_fast_path_stores_instants_as_sqlalchemy_does(instant: datetime) -> None:
    # The sweep writes SQLite rows through the driver; due timers are found by comparing text.
    dialect = sqlite.dialect()
    processor = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert processor is not None
    assert _sqlite_value(instant) == processor(instant)
    assert _sqlite_value({"a": [1]}) == '{"a": [1]}'
