"""Events record the instant a change took effect in law; longer idempotency keys

Revision ID: b3c1e0f4a9d2
Revises: ade36b617713
Create Date: 2026-11-28 08:00:00+00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b3c1e0f4a9d2"
down_revision: str | Sequence[str] | None = "ade36b617713"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema: `effective_at` is the recorded instant for every event written before."""
    with op.batch_alter_table("case_events") as batch:
        batch.add_column(sa.Column("effective_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE case_events SET effective_at = occurred_at")
    with op.batch_alter_table("case_events") as batch:
        batch.alter_column("effective_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.alter_column(
            "idempotency_key",
            existing_type=sa.String(length=200),
            type_=sa.String(length=255),
            existing_nullable=True,
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("case_events") as batch:
        batch.alter_column(
            "idempotency_key",
            existing_type=sa.String(length=255),
            type_=sa.String(length=200),
            existing_nullable=True,
        )
        batch.drop_column("effective_at")
