"""The test procedure's table, on a branch of its own

Revision ID: c0ffee000001
Revises:
Create Date: 2026-11-28 09:00:00+00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0ffee000001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("permits",)
depends_on: str | Sequence[str] | None = "b3c1e0f4a9d2"  # the shared chain's cases table


def upgrade() -> None:
    op.create_table(
        "test_permits",
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("prison", sa.String(length=20), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_test_permits_case_id_cases"),
        sa.PrimaryKeyConstraint("case_id", name="pk_test_permits"),
    )


def downgrade() -> None:
    op.drop_table("test_permits")
