"""A facility's cancellation day and a convention's early end (D.M. 128/2025 art. 5): the
register now owns a facility's standing; placements keep what it announced. A day of presence a
supervision visit checked (art. 10 co. 4 b)

Revision ID: e5f6a7b8c9d0
Revises: d4e5a6b7c8f9
Create Date: 2026-11-28 14:00:00+00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5f6a7b8c9d0"
down_revision: str | Sequence[str] | None = "d4e5a6b7c8f9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("facilities") as batch:
        batch.add_column(sa.Column("cancelled_on", sa.Date(), nullable=True))
    with op.batch_alter_table("conventions") as batch:
        batch.add_column(sa.Column("ended_on", sa.Date(), nullable=True))
    with op.batch_alter_table("presences") as batch:
        batch.add_column(
            sa.Column("checked", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("presences") as batch:
        batch.drop_column("checked")
    with op.batch_alter_table("conventions") as batch:
        batch.drop_column("ended_on")
    with op.batch_alter_table("facilities") as batch:
        batch.drop_column("cancelled_on")
