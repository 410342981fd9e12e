"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from datetime import datetime
from importlib import import_module
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, inspect
from sqlalchemy.dialects import sqlite

from machines.calendar import ROME
from services.placements.procedure import PROCEDURE
from services.schema import MIGRATIONS, _config, current_revision, head_revision, upgrade
from storage.models import Base, UTCDateTime
from storage.repository import _sqlite_value
from tests.conftest import BRANCH_TABLES, BRANCHES


def test_migrations_match_the_models(db: Engine) -> None:
    for module in (*PROCEDURE.tables, *BRANCH_TABLES):  # placements: in the shared chain
        import_module(module)
    assert _at_every_head(db, BRANCHES)
    with db.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def _at_every_head(db: Engine, folders: tuple[Path, ...]) -> bool:
    """Whether the database is at every head of the chains: a head another one depends on (the
    shared chain's, under the register's branch) is not stored, it is implied."""
    current = (current_revision(db) or "").split()
    script = ScriptDirectory.from_config(_config(folders))
    reached = {s.revision for s in script.iterate_revisions(tuple(current), "base")}
    return bool(current) and set(head_revision(folders).split()) <= reached


def test_downgrade_to_nothing_and_back(db: Engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option(
        "version_locations", os.pathsep.join((str(MIGRATIONS / "versions"), *map(str, BRANCHES)))
    )
    with db.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert current_revision(db) is None
    assert set(inspect(db).get_table_names()) <= {"alembic_version"}
    upgrade(db, BRANCHES)
    assert _at_every_head(db, BRANCHES)
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
