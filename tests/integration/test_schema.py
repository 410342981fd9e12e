"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from services.schema import MIGRATIONS, current_revision, head_revision, upgrade
from storage.models import Base


def test_migrations_match_the_models(db: Engine) -> None:
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
