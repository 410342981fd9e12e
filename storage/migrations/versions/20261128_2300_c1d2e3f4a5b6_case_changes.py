"""Cases changed since their page was published: the table `case_changes`, kept by triggers on
case_events (every change appends one), timers (failing, or retried after failing) and the
outbox (a notice failing), on SQLite and on PostgreSQL; every existing case is entered once, so
that each gets its page (backfill); `case_pages`, where each page was published from (the
office that follows the case, its court); `page_artifacts`, the Prefect artifact showing each
page, updated in place so that links to it stay valid

Revision ID: c1d2e3f4a5b6
Revises: 0a1b2c3d4e5f
Create Date: 2026-11-28 23:00:00+00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c1d2e3f4a5b6"
down_revision: str | Sequence[str] | None = "0a1b2c3d4e5f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUMP = (
    "INSERT INTO case_changes (case_id, generation) VALUES (NEW.case_id, 1)"
    " ON CONFLICT (case_id) DO UPDATE SET generation = case_changes.generation + 1"
)
# table -> (the trigger's name, its event, when it counts)
TRIGGERS = {
    "case_events": ("case_events_change", "INSERT", None),
    "timers": (
        "timers_incident_change",
        "UPDATE OF status",
        "NEW.status <> OLD.status AND (NEW.status = 'failed' OR OLD.status = 'failed')",
    ),
    "outbox": (
        "outbox_incident_change",
        "UPDATE OF status",
        "NEW.status <> OLD.status AND (NEW.status = 'failed' OR OLD.status = 'failed')",
    ),
}


def upgrade() -> None:
    op.create_table(
        "case_changes",
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_changes_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_changes")),
    )
    op.create_table(
        "case_pages",
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("office", sa.String(length=40), nullable=False),
        sa.Column("office_name", sa.String(length=200), nullable=False),
        sa.Column("court", sa.String(length=200), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_pages_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_pages")),
    )
    op.create_index(op.f("ix_case_pages_office"), "case_pages", ["office"], unique=False)
    op.create_table(
        "page_artifacts",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("artifact", sa.String(length=36), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_page_artifacts")),
    )
    op.execute("INSERT INTO case_changes (case_id, generation) SELECT id, 1 FROM cases")
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute(
            "CREATE FUNCTION case_changed() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN {BUMP}; RETURN NULL; END $$"
        )
    for table, (name, event, when) in TRIGGERS.items():
        if postgresql:
            condition = f" WHEN ({when})" if when else ""
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{condition}"
                " EXECUTE FUNCTION case_changed()"
            )
        else:
            condition = f" WHEN {when}" if when else ""
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{condition}"
                f" BEGIN {BUMP}; END"
            )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, (name, _, _) in TRIGGERS.items():
        op.execute(f"DROP TRIGGER {name} ON {table}" if postgresql else f"DROP TRIGGER {name}")
    if postgresql:
        op.execute("DROP FUNCTION case_changed()")
    op.drop_table("page_artifacts")
    op.drop_index(op.f("ix_case_pages_office"), table_name="case_pages")
    op.drop_table("case_pages")
    op.drop_table("case_changes")
