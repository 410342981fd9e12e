"""Probation with suspension of the trial: persons (pseudonymous keys), programme versions, the
days of the LPU part

Revision ID: c9d0e1f2a3b4
Revises:
Create Date: 2026-11-28 17:00:00+00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c9d0e1f2a3b4"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("probation",)
depends_on: str | Sequence[str] | None = "b8c9d0e1f2a3"  # the shared chain's head

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "probation_persons",
        sa.Column("case_id", Id, nullable=False),
        sa.Column("person_key", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_probation_persons_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_probation_persons")),
    )
    op.create_index("ix_probation_persons_person_key", "probation_persons", ["person_key"])
    op.create_table(
        "probation_programmes",
        sa.Column("id", Id, nullable=False),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("event_id", Id, nullable=False),
        sa.Column("by", sa.String(length=20), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("components", Json, nullable=False),
        sa.Column("lpu_days", sa.Integer(), nullable=False),
        sa.Column("lpu_hours_per_day", sa.Numeric(4, 2), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_probation_programmes_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["case_events.id"],
            name=op.f("fk_probation_programmes_event_id_case_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_probation_programmes")),
        sa.UniqueConstraint("case_id", "version", name="uq_probation_programmes"),
    )
    op.create_table(
        "probation_lpu_days",
        sa.Column("id", Id, nullable=False),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("placement", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_probation_lpu_days_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_probation_lpu_days")),
        sa.UniqueConstraint("case_id", "day", name="uq_probation_lpu_days"),
    )


def downgrade() -> None:
    op.drop_table("probation_lpu_days")
    op.drop_table("probation_programmes")
    op.drop_index("ix_probation_persons_person_key", table_name="probation_persons")
    op.drop_table("probation_persons")
