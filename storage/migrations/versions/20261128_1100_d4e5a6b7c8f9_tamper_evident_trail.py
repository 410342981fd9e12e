"""A tamper-evident trail: events chained by hash, daily seals, no update or delete of an event,
repeated messages counted

Revision ID: d4e5a6b7c8f9
Revises: b3c1e0f4a9d2
Create Date: 2026-11-28 11:00:00+00:00

Events written before get their chain here, case by case in sequence order (storage/chain.py,
the same function the write path uses), and each document rendered before enters its case's
chain as the event the write path appends for a new one, dated when it was rendered; then the
columns become NOT NULL and a trigger refuses UPDATE and DELETE on case_events and
audit_seals, on SQLite and on PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from storage import chain
from storage.models import Json, UTCDateTime

# revision identifiers, used by Alembic.
revision: str = "d4e5a6b7c8f9"
down_revision: str | Sequence[str] | None = "b3c1e0f4a9d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("case_events", "audit_seals")
REFUSAL = "misure: the trail is append-only"

_CASES = sa.table(
    "cases",
    sa.column("id", sa.Integer),
    sa.column("reference", sa.String),
    sa.column("state", sa.String),
    sa.column("version", sa.Integer),
)
_DOCUMENTS = sa.table(
    "documents",
    sa.column("id", sa.Integer),
    sa.column("case_id", sa.Integer),
    sa.column("template", sa.String),
    sa.column("html", sa.Text),
    sa.column("sha256", sa.String),
    sa.column("rendered_at", UTCDateTime()),
)
_EVENTS = sa.table(
    "case_events",
    sa.column("id", sa.Integer),
    sa.column("case_id", sa.Integer),
    sa.column("sequence", sa.Integer),
    sa.column("trigger", sa.String),
    sa.column("from_state", sa.String),
    sa.column("to_state", sa.String),
    sa.column("actor", sa.String),
    sa.column("payload", Json),
    sa.column("legal_basis", sa.String),
    sa.column("idempotency_key", sa.String),
    sa.column("occurred_at", UTCDateTime()),
    sa.column("effective_at", UTCDateTime()),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("case_events") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    _chain_existing_events()
    with op.batch_alter_table("case_events") as batch:
        batch.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
    op.create_table(
        "audit_seals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("previous", sa.String(length=64), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column(
            "entries", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_seals")),
        sa.UniqueConstraint("day", name=op.f("uq_audit_seals_day")),
    )  # fmt: skip
    op.create_table(
        "event_repeats",
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["case_events.id"], name=op.f("fk_event_repeats_event_id_case_events")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_event_repeats")),
    )
    for table in APPEND_ONLY:
        _refuse_changes(table)


def _chain_existing_events() -> None:
    bind = op.get_bind()
    references = dict(bind.execute(sa.select(_CASES.c.id, _CASES.c.reference)).all())
    previous: dict[int, str] = {}
    chained: set[int] = set()  # documents already in a chain (a downgrade keeps their events)
    rows = bind.execute(
        sa.select(_EVENTS).order_by(_EVENTS.c.case_id, _EVENTS.c.sequence)
    ).mappings()
    for row in rows.all():
        before = previous.get(row["case_id"]) or chain.genesis(references[row["case_id"]])
        content = chain.event_content(
            case_id=row["case_id"], sequence=row["sequence"], trigger=row["trigger"],
            from_state=row["from_state"], to_state=row["to_state"], actor=row["actor"],
            payload=row["payload"], legal_basis=row["legal_basis"],
            idempotency_key=row["idempotency_key"], occurred_at=row["occurred_at"],
            effective_at=row["effective_at"],
        )  # fmt: skip
        previous[row["case_id"]] = chain.link(before, content)
        if row["trigger"] == chain.DOCUMENT_TRIGGER:
            chained.add(int(row["payload"]["document"]))
        bind.execute(
            sa.update(_EVENTS)
            .where(_EVENTS.c.id == row["id"])
            .values(prev_hash=before, hash=previous[row["case_id"]])
        )
    cases = {row.id: row for row in bind.execute(sa.select(_CASES)).all()}
    versions = {case_id: case.version for case_id, case in cases.items()}
    for document in bind.execute(sa.select(_DOCUMENTS).order_by(_DOCUMENTS.c.id)).all():
        if document.id in chained:
            continue
        case_id = document.case_id
        versions[case_id] += 1
        payload = chain.document_payload(
            document.id, document.template, document.sha256, chain.digest(document.html)
        )
        values = {
            "case_id": case_id, "sequence": versions[case_id], "trigger": chain.DOCUMENT_TRIGGER,
            "from_state": cases[case_id].state, "to_state": cases[case_id].state,
            "actor": chain.DOCUMENT_ACTOR, "payload": payload,
            "legal_basis": chain.document_basis(document.template),
            "idempotency_key": None, "occurred_at": document.rendered_at,
            "effective_at": document.rendered_at,
        }  # fmt: skip
        link = chain.link(previous[case_id], chain.event_content(**values))
        bind.execute(sa.insert(_EVENTS).values(**values, prev_hash=previous[case_id], hash=link))
        previous[case_id] = link
    for case_id, version in versions.items():
        if version != cases[case_id].version:
            bind.execute(sa.update(_CASES).where(_CASES.c.id == case_id).values(version=version))


def _refuse_changes(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN RAISE EXCEPTION '{REFUSAL} ({table})'"
            " USING ERRCODE = 'insufficient_privilege'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}"
            f" BEGIN SELECT RAISE(ABORT, '{REFUSAL} ({table})'); END"
        )


def downgrade() -> None:
    """Downgrade schema."""
    on_postgresql = op.get_bind().dialect.name == "postgresql"
    for table in APPEND_ONLY:
        if on_postgresql:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
            op.execute(f"DROP FUNCTION {table}_append_only()")
        else:
            op.execute(f"DROP TRIGGER {table}_no_update")
            op.execute(f"DROP TRIGGER {table}_no_delete")
    op.drop_table("event_repeats")
    op.drop_table("audit_seals")
    with op.batch_alter_table("case_events") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
