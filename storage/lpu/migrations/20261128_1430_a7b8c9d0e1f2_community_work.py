"""Unpaid community work: conventions, seats (capacity in the database), attendance register

Revision ID: a7b8c9d0e1f2
Revises:
Create Date: 2026-11-28 14:30:00+00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision: str = "a7b8c9d0e1f2"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("lpu",)
depends_on: str | Sequence[str] | None = "e5f6a7b8c9d0"  # the shared chain's head

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Hours = sa.Numeric(5, 2)


def upgrade() -> None:
    op.create_table(
        "lpu_conventions",
        sa.Column("case_id", Id, nullable=False),
        sa.Column("entity", sa.String(length=200), nullable=False),
        sa.Column("province", sa.String(length=200), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_lpu_conventions_capacity_positive")),
        sa.CheckConstraint(
            "valid_until >= valid_from", name=op.f("ck_lpu_conventions_valid_period")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_lpu_conventions_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_lpu_conventions")),
    )
    op.create_table(
        "lpu_seats",
        sa.Column("id", Id, nullable=False),
        sa.Column("convention_case_id", Id, nullable=False),
        sa.Column("seat", sa.Integer(), nullable=False),
        sa.Column("placement_case_id", Id, nullable=False),
        sa.Column("taken_at", UTCDateTime(), nullable=False),
        sa.Column("released_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("seat > 0", name=op.f("ck_lpu_seats_seat_positive")),
        sa.ForeignKeyConstraint(
            ["convention_case_id"],
            ["cases.id"],
            name=op.f("fk_lpu_seats_convention_case_id_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["placement_case_id"],
            ["cases.id"],
            name=op.f("fk_lpu_seats_placement_case_id_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lpu_seats")),
    )
    for name, columns in (
        ("uq_lpu_seats_held", ["convention_case_id", "seat"]),
        ("uq_lpu_seats_holder", ["placement_case_id"]),
    ):
        op.create_index(
            name,
            "lpu_seats",
            columns,
            unique=True,
            sqlite_where=sa.text("released_at IS NULL"),
            postgresql_where=sa.text("released_at IS NULL"),
        )
    op.create_table(
        "lpu_attendance",
        sa.Column("id", Id, nullable=False),
        sa.Column("placement_case_id", Id, nullable=False),
        sa.Column("event_id", Id, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start", sa.Time(), nullable=False),
        sa.Column("end", sa.Time(), nullable=False),
        sa.Column("hours", Hours, nullable=False),
        sa.Column("credited", Hours, nullable=False),
        sa.Column("activity", sa.String(length=200), nullable=False),
        sa.Column("signed_by_person", sa.Boolean(), nullable=False),
        sa.Column("signed_by_coordinator", sa.Boolean(), nullable=False),
        sa.CheckConstraint("hours > 0", name=op.f("ck_lpu_attendance_hours_positive")),
        sa.CheckConstraint(
            "credited >= 0 AND credited <= hours",
            name=op.f("ck_lpu_attendance_credited_within_hours"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["case_events.id"], name=op.f("fk_lpu_attendance_event_id_case_events")
        ),
        sa.ForeignKeyConstraint(
            ["placement_case_id"],
            ["cases.id"],
            name=op.f("fk_lpu_attendance_placement_case_id_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lpu_attendance")),
    )
    op.create_index(
        "ix_lpu_attendance_placement_day", "lpu_attendance", ["placement_case_id", "day"]
    )


def downgrade() -> None:
    op.drop_table("lpu_attendance")
    op.drop_table("lpu_seats")
    op.drop_table("lpu_conventions")
