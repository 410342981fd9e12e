"""The test procedure's effects and reads: its own table, written in the transition's
transaction whoever fires it."""

from __future__ import annotations

from typing import Any

from services.applied import Applied
from services.context import Context
from services.errors import UnknownCase
from storage.repository import Repository
from storage.unit_of_work import UnitOfWork
from tests.procedure.tables import PermitRow


def opened(repo: Repository, applied: Applied) -> None:
    repo.session.add(PermitRow(case_id=applied.case_id, prison=str(applied.payload["prison"])))
    repo.session.flush()


def granted(repo: Repository, applied: Applied) -> None:
    row = repo.session.get_one(PermitRow, applied.case_id)
    row.hours, row.granted_at = int(applied.payload["hours"]), applied.at
    repo.session.flush()


def notice_context(uow: UnitOfWork, case: Any, event: Any, now: Any) -> dict[str, Any]:
    return {"ore": uow.session.get_one(PermitRow, case.id).hours}


def permit(ctx: Context, reference: str) -> dict[str, Any]:
    """What the API shows of a permit: its state and its hours."""
    with ctx.read() as uow:
        case = uow.repo.case_by_reference(reference)
        if case is None or case.kind != "permit":
            raise UnknownCase(reference)
        row = uow.session.get_one(PermitRow, case.id)
        return {"reference": reference, "state": case.state, "hours": row.hours}
