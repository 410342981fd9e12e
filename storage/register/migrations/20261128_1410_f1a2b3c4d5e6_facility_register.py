"""The register of facilities as a procedure (D.M. 128/2025 arts. 3-10): its tables, and the
facilities the reference data held, each made a facility case in the standing it had

Revision ID: f1a2b3c4d5e6
Revises:
Create Date: 2026-11-28 14:10:00+00:00

A facility of the reference data becomes a case of kind `facility` (STR-YYYY-NNNNNN) whose
first event records where it came from: registered, suspended, or (not registered) cancelled.
Its entry keeps what the reference data knew (name, operator, address, section; places: those of
its conventions); the requirements it was registered on were checked outside this system, so
its case carries none. A downgrade drops the register's tables and leaves those cases and their
events: the trail is append-only.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

from machines.calendar import rome_date
from storage import chain
from storage.models import Json, UTCDateTime

revision: str = "f1a2b3c4d5e6"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("register",)
depends_on: str | Sequence[str] | None = "e5f6a7b8c9d0"  # facilities.cancelled_on

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ACTOR = "migrazione"
BASIS = "art. 3 co. 4 D.M. 128/2025: iscrizione anteriore, dai dati di riferimento"

_FACILITIES = sa.table(
    "facilities",
    sa.column("id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("operator", sa.String),
    sa.column("address", sa.String),
    sa.column("section", sa.String),
    sa.column("registered", sa.Boolean),
    sa.column("suspended", sa.Boolean),
    sa.column("cancelled_on", sa.Date),
)
_CONVENTIONS = sa.table(
    "conventions", sa.column("facility_id", sa.Integer), sa.column("places", sa.Integer)
)
_CASES = sa.table(
    "cases",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("reference", sa.String),
    sa.column("state", sa.String),
    sa.column("version", sa.Integer),
    sa.column("data", Json),
    sa.column("opened_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)
_EVENTS = sa.table(
    "case_events",
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
_COUNTERS = sa.table(
    "reference_counters",
    sa.column("prefix", sa.String),
    sa.column("year", sa.Integer),
    sa.column("last", sa.Integer),
)


def upgrade() -> None:
    _create_tables()
    _enrol_facilities()


def _create_tables() -> None:
    op.create_table(
        "register_entries",
        sa.Column("case_id", Id, nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("operator", sa.String(length=200), nullable=False),
        sa.Column("operator_type", sa.String(length=1), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("section", sa.String(length=80), nullable=False),
        sa.Column("places", sa.Integer(), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=True),
        sa.Column("suspended_since", sa.Date(), nullable=True),
        sa.Column("cancelled_on", sa.Date(), nullable=True),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_register_entries_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_register_entries")),
        sa.UniqueConstraint("code", name=op.f("uq_register_entries_code")),
    )
    op.create_index("ix_register_entries_section", "register_entries", ["section"])
    op.create_table(
        "register_procedures",
        sa.Column("case_id", Id, nullable=False),
        sa.Column("facility_case_id", Id, nullable=False),
        sa.Column("causes", Json, nullable=False),
        sa.Column("in_progress", sa.Boolean(), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_register_procedures_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["facility_case_id"],
            ["cases.id"],
            name=op.f("fk_register_procedures_facility_case_id_cases"),
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_register_procedures")),
    )
    op.create_index(
        "uq_register_procedures_in_progress",
        "register_procedures",
        ["facility_case_id"],
        unique=True,
        sqlite_where=sa.text("in_progress"),
        postgresql_where=sa.text("in_progress"),
    )
    op.create_table(
        "register_reports",
        sa.Column("id", Id, nullable=False),
        sa.Column("facility_case_id", Id, nullable=False),
        sa.Column("event_id", Id, nullable=False),
        sa.Column("nature", sa.String(length=10), nullable=False),
        sa.Column("requirement", sa.String(length=200), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["case_events.id"], name=op.f("fk_register_reports_event_id_case_events")
        ),
        sa.ForeignKeyConstraint(
            ["facility_case_id"],
            ["cases.id"],
            name=op.f("fk_register_reports_facility_case_id_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_reports")),
    )
    op.create_index("ix_register_reports_facility", "register_reports", ["facility_case_id"])
    op.create_table(
        "register_visits",
        sa.Column("id", Id, nullable=False),
        sa.Column("facility_case_id", Id, nullable=False),
        sa.Column("event_id", Id, nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("checks", Json, nullable=False),
        sa.Column("discrepancies", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["case_events.id"], name=op.f("fk_register_visits_event_id_case_events")
        ),
        sa.ForeignKeyConstraint(
            ["facility_case_id"],
            ["cases.id"],
            name=op.f("fk_register_visits_facility_case_id_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_visits")),
    )
    op.create_index(
        "ix_register_visits_facility", "register_visits", ["facility_case_id", "visited_on"]
    )
    op.create_table(
        "register_prescriptions",
        sa.Column("id", Id, nullable=False),
        sa.Column("facility_case_id", Id, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("event_id", Id, nullable=False),
        sa.Column("service", sa.String(length=1), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=True),
        sa.Column("outcome_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('complied', 'ignored')",
            name=op.f("ck_register_prescriptions_prescription_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["case_events.id"],
            name=op.f("fk_register_prescriptions_event_id_case_events"),
        ),
        sa.ForeignKeyConstraint(
            ["facility_case_id"],
            ["cases.id"],
            name=op.f("fk_register_prescriptions_facility_case_id_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_prescriptions")),
    )
    op.create_index(
        "uq_register_prescriptions_number",
        "register_prescriptions",
        ["facility_case_id", "number"],
        unique=True,
    )
    op.create_table(
        "register_publications",
        sa.Column("id", Id, nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("csv", sa.Text(), nullable=False),
        sa.Column("json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_publications")),
    )
    op.create_index("ix_register_publications_at", "register_publications", ["published_at"])


_ENTRIES = sa.table(
    "register_entries",
    *(sa.column(name) for name in ("case_id", "code", "name", "operator", "operator_type",
      "address", "section", "places", "filed_on", "registered_on", "suspended_since",
      "cancelled_on")),
    sa.column("changed_at", UTCDateTime()),
)  # fmt: skip


def _enrol_facilities() -> None:
    """Each facility case already there (a downgrade kept them) gets its entry back from its
    data; each facility of the reference data not yet a case becomes one, in its standing."""
    bind = op.get_bind()
    now = datetime.now(UTC)
    today = rome_date(now)
    known: set[str] = set()
    cases = bind.execute(sa.select(_CASES).where(_CASES.c.kind == "facility")).mappings().all()
    for case in cases:
        data = dict(case["data"] or {})
        known.add(str(data.get("code")))
        since = rome_date(case["opened_at"])
        bind.execute(
            sa.insert(_ENTRIES).values(
                case_id=case["id"], code=data.get("code"), name=data.get("name"),
                operator=data.get("operator"), operator_type=data.get("operator_type", ""),
                address=data.get("address"), section=data.get("section"),
                places=int(data.get("places", 0)), filed_on=_day(data.get("filed_on")) or since,
                registered_on=since if case["state"] in ("registered", "suspended") else None,
                suspended_since=since if case["state"] == "suspended" else None,
                cancelled_on=since if case["state"] == "cancelled" else None,
                changed_at=case["updated_at"],
            )
        )  # fmt: skip
    places: dict[int, int] = {}
    for facility_id, count in bind.execute(sa.select(_CONVENTIONS)):
        places[facility_id] = places.get(facility_id, 0) + int(count)
    rows = bind.execute(sa.select(_FACILITIES).order_by(_FACILITIES.c.id)).mappings().all()
    for row in rows:
        if row["code"] in known:
            continue
        state = "cancelled"
        if row["registered"]:
            state = "suspended" if row["suspended"] else "registered"
        reference = f"STR-{today.year}-{_next_number(bind, today.year):06d}"
        data = {
            "code": row["code"],
            "name": row["name"],
            "operator": row["operator"],
            "address": row["address"],
            "section": row["section"],
            "places": places.get(row["id"], 0),
            "filed_on": today.isoformat(),
            "enrolled_from_reference_data": True,
        }
        case_id = bind.execute(
            sa.insert(_CASES)
            .values(
                kind="facility", reference=reference, state=state, version=1, data=data,
                opened_at=now, updated_at=now,
            )
            .returning(_CASES.c.id)
        ).scalar_one()  # fmt: skip
        event = {
            "case_id": case_id, "sequence": 1, "trigger": "open", "from_state": None,
            "to_state": state, "actor": ACTOR,
            "payload": {"code": row["code"], "enrolled_from_reference_data": True},
            "legal_basis": BASIS, "idempotency_key": None, "occurred_at": now,
            "effective_at": now,
        }  # fmt: skip
        before = chain.genesis(reference)
        link = chain.link(before, chain.event_content(**event))
        bind.execute(sa.insert(_EVENTS).values(**event, prev_hash=before, hash=link))
        bind.execute(
            sa.insert(_ENTRIES).values(
                case_id=case_id, code=row["code"], name=row["name"], operator=row["operator"],
                operator_type="", address=row["address"], section=row["section"],
                places=places.get(row["id"], 0), filed_on=today,
                registered_on=None if state == "cancelled" else today,
                suspended_since=today if state == "suspended" else None,
                cancelled_on=today if state == "cancelled" else None, changed_at=now,
            )
        )  # fmt: skip
        if state == "cancelled" and row["cancelled_on"] is None:
            bind.execute(
                sa.update(_FACILITIES)
                .where(_FACILITIES.c.id == row["id"])
                .values(cancelled_on=today)
            )


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def _next_number(bind: sa.Connection, year: int) -> int:
    where = (_COUNTERS.c.prefix == "STR") & (_COUNTERS.c.year == year)
    last = bind.execute(sa.select(_COUNTERS.c.last).where(where)).scalar_one_or_none()
    if last is None:
        bind.execute(sa.insert(_COUNTERS).values(prefix="STR", year=year, last=1))
        return 1
    bind.execute(sa.update(_COUNTERS).where(where).values(last=last + 1))
    return int(last) + 1


def downgrade() -> None:
    for table in (
        "register_publications",
        "register_prescriptions",
        "register_visits",
        "register_reports",
        "register_procedures",
        "register_entries",
    ):
        op.drop_table(table)
