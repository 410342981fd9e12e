"""The case workers' flows on a real Prefect test server: every changed case gets its live page
and its office its queue, published once per change; an incident is retried from Prefect."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, update

from flows.incidents import retry_incident
from flows.pages import publish_case_pages, show
from services import pages
from services.context import Context
from services.delivery import deliveries_of
from services.letterheads import set_addressee
from services.notices import document_for
from services.placements import actors as placements
from services.placements import reallocation
from services.placements.actors import Outcome
from storage.models import Delivery, DeliveryStatus, OutboxMessage, OutboxStatus
from storage.pages import PageRepository
from tests.flows.test_flows import latest_artifact
from tests.support.placements import COURT_TO, queued

ADDRESSEES = (
    "Tribunale di sorveglianza di Torino",
    "Casa circondariale di Torino",
    "Comunità Il Ponte",
)


def test_changed_cases_get_their_page_and_their_office_its_queue_once(fctx: Context) -> None:
    reference = queued(fctx)
    reallocation.reallocate(fctx)
    at = fctx.clock.now().isoformat()
    first = publish_case_pages(now=at)
    assert first["pages"] >= 1 and first["queues"] >= 2  # the queue, the court, the index
    page = str(latest_artifact(pages.case_key(reference)).data)
    assert "(`at_court`)" in page
    queue = str(latest_artifact(pages.queue_key("UIEPE-TO")).data)
    case_path = pages.ui_path(fctx, pages.case_key(reference))
    assert case_path.startswith("/v2/artifacts/artifact/")  # the page itself, not its versions
    assert f"[{reference}]({case_path})" in queue
    court = str(latest_artifact(pages.court_key(COURT_TO)).data)
    assert reference in court
    index = str(latest_artifact(pages.INDEX_KEY).data)
    assert f"({pages.ui_path(fctx, pages.queue_key('UIEPE-TO'))})" in index
    assert f"({pages.ui_path(fctx, pages.queue_key('UIEPE-TO'))})" in page  # republished
    assert publish_case_pages(now=at) == {"pages": 0, "queues": 0}  # nothing changed

    with fctx.uow() as uow:  # as if its page had last been published under another office
        case = uow.repo.case_by_reference(reference)
        assert case is not None
        PageRepository(uow.session, uow.postgresql).save_route(
            case.id, "UFF-PRIMA", "Ufficio di prima", None, fctx.clock.now()
        )
        uow.commit()
    for listed in pages.queues(fctx, ["UFF-PRIMA"]):
        show(fctx, listed)
    assert reference in str(latest_artifact(pages.queue_key("UFF-PRIMA")).data)

    placements.record_decision(fctx, reference, Outcome.GRANTED, date(2026, 3, 2), COURT_TO, "c")
    assert publish_case_pages(now=at)["pages"] == 1
    updated = latest_artifact(pages.case_key(reference))
    assert "(`granted`)" in str(updated.data)
    assert f"/v2/artifacts/artifact/{updated.id}" == case_path  # updated in place
    left = str(latest_artifact(pages.queue_key("UFF-PRIMA")).data)  # the queue it left
    assert reference not in left and "## Tutte le pratiche (0)" in left


def test_retry_incident_issues_a_notice_given_up_and_fails_while_one_is_open(
    fctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISURE_OUTBOX_DIR", str(tmp_path / "outbox"))  # messages as .eml files
    for n, name in enumerate(ADDRESSEES):
        set_addressee(fctx, name, f"protocollo{n}@pec.example")
    reference = queued(fctx)
    reallocation.reallocate(fctx)
    with fctx.uow() as uow:
        case = uow.repo.case_by_reference(reference)
        assert case is not None
        uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.case_id == case.id)
            .values(status=OutboxStatus.FAILED, last_error="carta intestata mancante")
        )
        uow.commit()
    assert retry_incident(reference, now=fctx.clock.now().isoformat())["retried"] >= 1
    assert len(document_for(fctx, reference)) >= 1  # issued now, under a number
    assert deliveries_of(fctx, reference)  # and handed to delivery
    with fctx.uow() as uow:  # an addressee with no certified e-mail: retrying cannot cure it
        first = uow.session.scalars(select(Delivery).where(Delivery.case_id == case.id)).first()
        assert first is not None
        first.status, first.address, first.addressee = DeliveryStatus.FAILED, None, "Ente X"
        uow.commit()
    with pytest.raises(RuntimeError, match="incidenti ancora aperti"):
        retry_incident(reference, now=fctx.clock.now().isoformat())
