"""The tamper-evident trail (issue 11 item 1), on SQLite and PostgreSQL: the database refuses
to update or delete an event; an attacker who gets past that (drops the trigger) and edits,
deletes, inserts or reorders events, replaces a document or rewrites a whole chain, seal row
included, is found by `audit.verify`, which names the case and the event."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import DBAPIError

from services import audit
from services.context import Context
from services.engine import fire, open_case
from services.notices import Office, render_pending_notices
from services.placements import actors as placements
from services.schema import MIGRATIONS, migrating, upgrade
from storage import chain
from storage.database import is_postgresql
from storage.models import AuditSeal, Case, CaseEvent, Document, OutboxMessage
from tests.conftest import BRANCHES
from tests.support.placements import ASSESSMENT, COURT_TO, load_reference, placements_context

OFFICE = Office("Ufficio interdistrettuale di esecuzione penale esterna per il Lazio", "Roma")


def granted(ctx: Context) -> str:
    opened = open_case(ctx, "demo", "clerk", {"eligible": True})
    fire(ctx, opened.reference, "file", "clerk", {"protocol": "P-1"})
    fire(ctx, opened.reference, "review", "clerk")
    fire(ctx, opened.reference, "grant", "clerk")
    return opened.reference


@pytest.fixture
def trail(ctx: Context) -> list[str]:
    """Three cases with four events each, the last one's notice rendered (a fifth event)."""
    references = [granted(ctx) for _ in range(3)]
    assert render_pending_notices(ctx, OFFICE).rendered == 3
    return references


@contextmanager
def attacker(db: Engine) -> Iterator[Connection]:
    """A connection past the append-only triggers, as someone with the database's keys."""
    with db.begin() as connection:
        if is_postgresql(db):
            for table in ("case_events", "audit_seals"):
                connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            for table in ("case_events", "audit_seals"):
                for action in ("update", "delete"):
                    connection.execute(text(f"DROP TRIGGER {table}_no_{action}"))
        yield connection
        if is_postgresql(db):
            for table in ("case_events", "audit_seals"):
                connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))


def case_id(connection: Connection, reference: str) -> int:
    return int(
        connection.scalar(text("SELECT id FROM cases WHERE reference = :r"), {"r": reference})
    )


def first_break(ctx: Context, seals: Path) -> audit.Break:
    result = audit.verify(ctx, seals)
    assert not result.intact
    return result.breaks[0]


def test_the_trail_verifies_intact_with_its_documents(
    ctx: Context, trail: list[str], tmp_path: Path
) -> None:
    result = audit.verify(ctx, tmp_path)
    assert result.intact, result.breaks
    assert (result.cases, result.events, result.documents) == (3, 15, 3)
    one = audit.verify(ctx, tmp_path, trail[1])
    assert (one.intact, one.cases, one.events, one.documents) == (True, 1, 5, 1)


def test_the_database_refuses_to_update_or_delete_an_event(
    ctx: Context, db: Engine, trail: list[str]
) -> None:
    for statement in (
        "UPDATE case_events SET actor = 'FORGED'",
        "DELETE FROM case_events WHERE sequence = 5",
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.begin() as connection:
            connection.execute(text(statement))
    with ctx.uow() as uow:
        assert {e.actor for e in uow.session.scalars(select(CaseEvent))} == {"clerk", "sistema"}


def _edit(connection: Connection, case: int) -> None:
    connection.execute(
        text("UPDATE case_events SET actor = 'FORGED' WHERE case_id = :c AND sequence = 2"),
        {"c": case},
    )


def _backdate(connection: Connection, case: int) -> None:
    row = connection.execute(
        select(CaseEvent.occurred_at).where(CaseEvent.case_id == case, CaseEvent.sequence == 3)
    ).scalar_one()
    connection.execute(
        CaseEvent.__table__.update()
        .where(CaseEvent.case_id == case, CaseEvent.sequence == 3)
        .values(occurred_at=row - timedelta(days=10))
    )


def _delete(connection: Connection, case: int) -> None:
    """Event 2 deleted, with the rows that point at it."""
    event = "(SELECT id FROM case_events WHERE case_id = :c AND sequence = 2)"
    for statement in (
        f"DELETE FROM timers WHERE created_by_event_id IN {event}",
        f"UPDATE timers SET resolved_by_event_id = NULL WHERE resolved_by_event_id IN {event}",
        f"DELETE FROM outbox WHERE event_id IN {event}",
        "DELETE FROM case_events WHERE case_id = :c AND sequence = 2",
    ):
        connection.execute(text(statement), {"c": case})


def _shift_from(connection: Connection, case: int, sequence: int) -> None:
    """Move events from `sequence` on one place later (through a detour: unique sequences)."""
    for delta in (1000, -999):
        connection.execute(
            text(
                "UPDATE case_events SET sequence = sequence + :d"
                " WHERE case_id = :c AND sequence >= :s"
            ),
            {"d": delta, "c": case, "s": sequence + (1000 if delta < 0 else 0)},
        )


def _insert(connection: Connection, case: int) -> None:
    """A forged event 2, chained correctly after event 1; the real ones move on by one."""
    _shift_from(connection, case, 2)
    first = connection.execute(
        select(CaseEvent).where(CaseEvent.case_id == case, CaseEvent.sequence == 1)
    ).one()
    forged: dict[str, Any] = {
        "case_id": case, "sequence": 2, "trigger": "review", "from_state": "draft",
        "to_state": "under_review", "actor": "FORGED", "payload": {}, "legal_basis": "x",
        "idempotency_key": None, "occurred_at": first.occurred_at,
        "effective_at": first.occurred_at,
    }  # fmt: skip
    connection.execute(
        CaseEvent.__table__.insert().values(
            **forged,
            prev_hash=first.hash,
            hash=chain.link(first.hash, chain.event_content(**forged)),
        )
    )
    connection.execute(text("UPDATE cases SET version = version + 1 WHERE id = :c"), {"c": case})


def _reorder(connection: Connection, case: int) -> None:
    for old, new in ((2, 1002), (3, 2), (1002, 3)):
        connection.execute(
            text("UPDATE case_events SET sequence = :n WHERE case_id = :c AND sequence = :o"),
            {"n": new, "c": case, "o": old},
        )


def _drop_last(connection: Connection, case: int) -> None:
    """The last event deleted, and the case's version put back to hide it."""
    for table in ("deliveries", "documents"):  # its document's event is the last one
        connection.execute(text(f"DELETE FROM {table} WHERE case_id = :c"), {"c": case})
    connection.execute(
        text("DELETE FROM case_events WHERE case_id = :c AND sequence = 5"), {"c": case}
    )
    connection.execute(text("UPDATE cases SET version = 4 WHERE id = :c"), {"c": case})


TAMPERING: dict[str, tuple[Callable[[Connection, int], None], int, str]] = {
    "edited": (_edit, 2, "contenuto modificato"),
    "back-dated": (_backdate, 3, "contenuto modificato"),
    "deleted": (_delete, 2, "evento mancante"),
    "inserted": (_insert, 3, "non segue"),
    "reordered": (_reorder, 2, "non segue"),
    "last deleted, version put back": (_drop_last, 5, "sigillo"),
}


@pytest.mark.parametrize("how", TAMPERING)
def test_an_altered_event_is_found_and_named(
    ctx: Context, db: Engine, trail: list[str], tmp_path: Path, how: str
) -> None:
    change, sequence, problem = TAMPERING[how]
    audit.seal(ctx, tmp_path)  # what the daily flow does; the last deletion needs it
    victim = trail[1]
    with attacker(db) as connection:
        change(connection, case_id(connection, victim))
    found = first_break(ctx, tmp_path)
    assert (found.reference, found.sequence) == (victim, sequence), found
    assert problem in found.problem
    # the one case, checked alone, is named the same way; the others stay intact
    alone = audit.verify(ctx, tmp_path, victim)
    assert alone.breaks[0] == found
    assert audit.verify(ctx, tmp_path, trail[0]).intact


def _forge_document(connection: Connection, case: int) -> int:
    forged = b"%PDF-1.7 forged"
    document = connection.execute(select(Document.id).where(Document.case_id == case)).scalar()
    connection.execute(
        Document.__table__.update()
        .where(Document.id == document)
        .values(pdf=forged, sha256=hashlib.sha256(forged).hexdigest())
    )
    return int(document)


def test_a_replaced_document_is_found_and_named(
    ctx: Context, db: Engine, trail: list[str], tmp_path: Path
) -> None:
    with attacker(db) as connection:
        document = _forge_document(connection, case_id(connection, trail[2]))
    found = first_break(ctx, tmp_path)
    assert (found.reference, found.document) == (trail[2], document)
    assert "sostituito" in found.problem


def _rewrite_chain(connection: Connection, case: int, reference: str) -> None:
    """Every event of the case re-hashed after a forged actor: a chain sound in itself."""
    rows = connection.execute(
        select(CaseEvent).where(CaseEvent.case_id == case).order_by(CaseEvent.sequence)
    ).all()
    previous = chain.genesis(reference)
    for row in rows:
        values = {
            "case_id": case, "sequence": row.sequence, "trigger": row.trigger,
            "from_state": row.from_state, "to_state": row.to_state,
            "actor": "FORGED" if row.sequence == 2 else row.actor, "payload": row.payload,
            "legal_basis": row.legal_basis, "idempotency_key": row.idempotency_key,
            "occurred_at": row.occurred_at, "effective_at": row.effective_at,
        }  # fmt: skip
        hashed = chain.link(previous, chain.event_content(**values))
        connection.execute(
            CaseEvent.__table__.update()
            .where(CaseEvent.id == row.id)
            .values(actor=values["actor"], prev_hash=previous, hash=hashed)
        )
        previous = hashed


def test_a_whole_chain_rewritten_is_found_by_the_seal(
    ctx: Context, db: Engine, trail: list[str], tmp_path: Path
) -> None:
    sealed = audit.seal(ctx, tmp_path)
    assert not sealed.already and sealed.path.exists()
    assert (sealed.cases, sealed.events) == (3, 15)
    with attacker(db) as connection:
        _rewrite_chain(connection, case_id(connection, trail[0]), trail[0])
    found = first_break(ctx, tmp_path)
    assert (found.reference, found.sequence) == (trail[0], 5)
    assert "riscritta" in found.problem


def test_a_chain_rewritten_with_its_seal_row_is_found_by_the_seal_file(
    ctx: Context, db: Engine, trail: list[str], tmp_path: Path
) -> None:
    audit.seal(ctx, tmp_path)
    with attacker(db) as connection:
        _rewrite_chain(connection, case_id(connection, trail[0]), trail[0])
        seal = connection.execute(select(AuditSeal)).one()
        entries = [
            [reference, sequence, hash_]
            for reference, sequence, hash_ in connection.execute(
                text(
                    "SELECT c.reference, e.sequence, e.hash FROM cases c JOIN case_events e"
                    " ON e.case_id = c.id AND e.sequence = c.version ORDER BY c.reference"
                )
            )
        ]
        connection.execute(
            AuditSeal.__table__.update()
            .where(AuditSeal.id == seal.id)
            .values(entries=entries, digest=audit.seal_digest(seal.day, None, entries))
        )
    result = audit.verify(ctx, tmp_path)
    problems = [found.line() for found in result.breaks]
    assert any("non coincide con il file" in line for line in problems), problems
    assert any(found.reference == trail[0] for found in result.breaks), problems


def test_a_day_is_sealed_once_and_seals_chain(
    ctx: Context, clock: Any, trail: list[str], tmp_path: Path
) -> None:
    first = audit.seal(ctx, tmp_path)
    again = audit.seal(ctx, tmp_path)
    assert again.already and again.digest == first.digest
    clock.advance(timedelta(days=1))
    fire(ctx, trail[0], "close", "clerk")
    second = audit.seal(ctx, tmp_path)
    assert second.previous == first.digest and second.events == first.events + 1
    assert audit.verify(ctx, tmp_path).intact
    second.path.unlink()
    found = first_break(ctx, tmp_path)
    assert found.reference is None and "assente" in found.problem


def issued_before_the_register(ctx: Context) -> list[str]:
    """Three cases with four events each and the last one's notice stored as the write path
    stored documents before the protocol register and signatures (issue 15): its event says
    nothing of a registration (the chain's migration, older, cannot know of one)."""
    references = [granted(ctx) for _ in range(3)]
    now = ctx.clock.now()
    with ctx.uow() as uow:
        for message in uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)):
            html = f"<p>{message.payload['reference']}</p>"
            pdf = b"%PDF-1.7 " + html.encode()  # any bytes: the chain holds their digest
            document = Document(
                outbox_id=message.id, event_id=message.event_id, case_id=message.case_id,
                template=message.payload["template"], html=html, pdf=pdf,
                sha256=hashlib.sha256(pdf).hexdigest(), rendered_at=now, signature="none",
            )  # fmt: skip
            uow.repo.add_document(document, {})
            uow.repo.mark_outbox_done(message.id, now)
        uow.commit()
    return references


def test_the_migration_chains_the_events_written_before_it_as_the_write_path_does(
    ctx: Context, db: Engine, tmp_path: Path
) -> None:
    assert len(issued_before_the_register(ctx)) == 3

    def chained() -> list[tuple[int, int, str, str]]:
        with db.connect() as connection:
            return [
                (row.case_id, row.sequence, row.trigger, row.hash)
                for row in connection.execute(
                    select(CaseEvent).order_by(CaseEvent.case_id, CaseEvent.sequence)
                )
            ]

    written = chained()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    locations = (str(MIGRATIONS / "versions"), *map(str, BRANCHES))  # they depend on the chain
    config.set_main_option("version_locations", os.pathsep.join(locations))
    with migrating(db) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "b3c1e0f4a9d2")  # the documents' events stay, unchained
    with db.begin() as connection:
        connection.execute(text("DELETE FROM case_events WHERE trigger = 'document_issued'"))
        connection.execute(text("UPDATE cases SET version = 4"))
    upgrade(db, BRANCHES)
    assert chained() == written  # the rendered documents chained again, dated as rendered
    assert audit.verify(ctx, tmp_path).intact


def test_personal_data_changed_in_the_case_is_found(db: Engine, tmp_path: Path) -> None:
    """Art. 15: the assessment is in the case's data, the trail holds its salted digest."""
    pctx = placements_context(db)
    load_reference(pctx)
    filed = placements.file_application(pctx, "CC-TO", COURT_TO, "istituto")
    placements.director_review(pctx, filed.reference, ASSESSMENT, "direttore")
    assert audit.verify(pctx, tmp_path).intact
    with db.begin() as connection:  # the case's data is not the trail: no trigger on it
        data = connection.scalar(select(Case.data).where(Case.reference == filed.reference))
        data["private"]["forward"]["taxable_income"] = "100.00"
        connection.execute(
            Case.__table__.update().where(Case.reference == filed.reference).values(data=data)
        )
    found = first_break(pctx, tmp_path)
    assert (found.reference, found.sequence) == (filed.reference, 2)
    assert "dati personali" in found.problem
