"""Schema migrations (Alembic): the shared chain in storage/migrations, and the version folders
of the procedures that bring their own tables (each a branch of its own), run together on the
configured database."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

import storage

MIGRATIONS = Path(storage.__file__).parent / "migrations"


def _config(folders: Sequence[Path] = (), table_modules: Sequence[str] = ()) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    locations = [MIGRATIONS / "versions", *folders]
    config.set_main_option("version_locations", os.pathsep.join(str(path) for path in locations))
    config.attributes["table_modules"] = list(table_modules)
    return config


def upgrade(engine: Engine, folders: Sequence[Path] = (), table_modules: Sequence[str] = ()) -> str:
    """Migrate to the heads of the shared chain and of the procedures' `folders`; return the
    revisions the database is at afterwards."""
    config = _config(folders, table_modules)
    with migrating(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
    return current_revision(engine) or "base"


@contextmanager
def migrating(engine: Engine) -> Iterator[Connection]:
    """One transaction for a whole migration. On SQLite, foreign keys are off while it runs
    (changing a table rebuilds it, and SQLite cannot drop a table others point at with them
    on) and every reference is checked before it commits."""
    with engine.connect() as connection:
        driver = (
            connection.connection.driver_connection if engine.dialect.name == "sqlite" else None
        )
        if driver is not None:
            driver.execute("PRAGMA foreign_keys = OFF")
        try:
            with connection.begin():
                yield connection
                if driver is not None:
                    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if dangling:
                        raise RuntimeError(
                            f"the migration left dangling references: {dangling[:5]}"
                        )
        finally:
            if driver is not None:
                driver.execute("PRAGMA foreign_keys = ON")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return " ".join(sorted(heads)) or None


def head_revision(folders: Sequence[Path] = ()) -> str:
    heads = ScriptDirectory.from_config(_config(folders)).get_heads()
    return " ".join(sorted(heads))
