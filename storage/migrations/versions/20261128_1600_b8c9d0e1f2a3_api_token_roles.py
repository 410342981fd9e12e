"""API tokens for parties other than court registries: a token's role (a court registry, or a
role a procedure declares, such as the host entities of unpaid community work); the tokens
issued before are court registries'

Revision ID: b8c9d0e1f2a3
Revises: e5f6a7b8c9d0
Create Date: 2026-11-28 16:00:00+00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b8c9d0e1f2a3"
down_revision: str | Sequence[str] | None = "e5f6a7b8c9d0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("registry_tokens") as batch:
        batch.add_column(
            sa.Column("role", sa.String(length=40), nullable=False, server_default="court")
        )


def downgrade() -> None:
    with op.batch_alter_table("registry_tokens") as batch:
        batch.drop_column("role")
