"""Outgoing notices an office can sign and send: letterheads and signatories, the addressees'
certified e-mail, the outgoing protocol register (artt. 53-57 D.P.R. 445/2000), the deliveries
of each notice, the protected identities for the identification annex, and how a document is
signed

Revision ID: 0a1b2c3d4e5f
Revises: b8c9d0e1f2a3
Create Date: 2026-11-28 19:00:00+00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0a1b2c3d4e5f"
down_revision: str | Sequence[str] | None = "b8c9d0e1f2a3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "letterheads",
        sa.Column("office", sa.String(length=40), nullable=False),
        sa.Column("ministry", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("pec", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("signer_role", sa.String(length=200), nullable=False),
        sa.Column("place", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("office", name=op.f("pk_letterheads")),
    )
    op.create_table(
        "addressees",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("pec", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_addressees")),
    )
    op.create_table(
        "protocol_counters",
        sa.Column("office", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("office", "year", name=op.f("pk_protocol_counters")),
    )
    op.create_table(
        "protocol_entries",
        sa.Column("id", Id, nullable=False),
        sa.Column("office", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outbox_id", Id, nullable=False),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("template", sa.String(length=80), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("addressees", Json, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("annulled_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_protocol_entries_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protocol_entries")),
        sa.UniqueConstraint("office", "year", "number", name="uq_protocol_entries_number"),
        sa.UniqueConstraint("outbox_id", name=op.f("uq_protocol_entries_outbox_id")),
    )
    op.create_index(
        op.f("ix_protocol_entries_case_id"), "protocol_entries", ["case_id"], unique=False
    )
    op.create_index(
        "ix_protocol_entries_registered",
        "protocol_entries",
        ["office", "registered_at"],
        unique=False,
    )
    op.create_table(
        "deliveries",
        sa.Column("id", Id, nullable=False),
        sa.Column("document_id", Id, nullable=False),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("addressee", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("identity_annex", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_deliveries_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_deliveries_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("document_id", "role", "addressee", name="uq_deliveries_addressee"),
        sa.UniqueConstraint("message_id", name=op.f("uq_deliveries_message_id")),
    )
    op.create_index(op.f("ix_deliveries_case_id"), "deliveries", ["case_id"], unique=False)
    op.create_index(
        "ix_deliveries_pending",
        "deliveries",
        ["next_attempt_at", "id"],
        unique=False,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "identities",
        sa.Column("case_id", Id, nullable=False),
        sa.Column("surname", sa.String(length=120), nullable=False),
        sa.Column("given_names", sa.String(length=120), nullable=False),
        sa.Column("born_on", sa.Date(), nullable=False),
        sa.Column("born_in", sa.String(length=120), nullable=False),
        sa.Column("tax_code", sa.String(length=16), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_identities_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_identities")),
    )
    with op.batch_alter_table("documents") as batch:
        batch.add_column(
            sa.Column("signature", sa.String(length=12), nullable=False, server_default="none")
        )


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("signature")
    op.drop_table("identities")
    op.drop_index("ix_deliveries_pending", table_name="deliveries")
    op.drop_index(op.f("ix_deliveries_case_id"), table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_index("ix_protocol_entries_registered", table_name="protocol_entries")
    op.drop_index(op.f("ix_protocol_entries_case_id"), table_name="protocol_entries")
    op.drop_table("protocol_entries")
    op.drop_table("protocol_counters")
    op.drop_table("addressees")
    op.drop_table("letterheads")
