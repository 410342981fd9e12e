"""The flows on a real Prefect test server: they call the services, and publish what they did."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.objects import Artifact
from sqlalchemy import text

from flows.audit import TrailBroken, audit_trail
from flows.case_status import case_status
from flows.notices import render_notices
from flows.placements.dashboard import daily_dashboard
from flows.placements.reallocate import reallocate_freed_places
from flows.sweep import sweep_due_timers
from services import engine
from services.context import Context
from services.notices import document_for
from services.placements import actors as placements
from services.placements import reallocation
from services.placements.actors import Outcome
from tests.support.placements import COURT_TO, queued


def latest_artifact(key: str) -> Artifact:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), limit=50
        )
    assert found, f"no artifact {key}"
    return max(found, key=lambda artifact: artifact.created or 0)  # type: ignore[arg-type, return-value]


def state(ctx: Context, reference: str) -> str:
    return engine.describe(ctx, reference).case.state


def test_the_sweep_flow_lapses_due_attestations_and_hands_places_on(fctx: Context) -> None:
    first, second, third = queued(fctx), queued(fctx), queued(fctx)
    reallocation.reallocate(fctx)  # one place at UIEPE-TO
    (timer,) = engine.describe(fctx, first).pending_timers
    before = sweep_due_timers(now=timer.due_at.isoformat())  # nothing else due yet
    assert before["fired"] == 1 and before["served"] == {"reallocate": 1}
    assert [state(fctx, r) for r in (first, second, third)] == ["lapsed", "at_court", "queued"]
    table = latest_artifact("signal-reallocate")
    assert second in str(table.data) and first in str(table.data)  # freed by the first
    assert first in str(latest_artifact("sweep-due-timers").data)


def test_the_reallocation_flow_serves_a_rejection_in_protocol_order(fctx: Context) -> None:
    first, second, third = queued(fctx), queued(fctx), queued(fctx)
    at = fctx.clock.now().isoformat()
    reallocate_freed_places(now=at)
    placements.record_decision(
        fctx, first, Outcome.REJECTED, date(2026, 3, 2), COURT_TO, "cancelleria"
    )
    result = reallocate_freed_places(now=at)
    assert result["attested"] == [second]
    assert [state(fctx, r) for r in (first, second, third)] == ["rejected", "at_court", "queued"]
    assert reallocate_freed_places(now=at)["attested"] == []  # idempotent


def test_the_case_status_artifact_shows_state_timers_history_and_diagram(fctx: Context) -> None:
    reference = queued(fctx)
    reallocation.reallocate(fctx)
    key = case_status(reference, now=fctx.clock.now().isoformat())
    assert key == f"case-{reference.lower()}"
    markdown = str(latest_artifact(key).data)
    assert f"# Pratica {reference}" in markdown
    assert "**Stato attuale:** attestazione trasmessa all'Autorità giudiziaria (`at_court`)" in (
        markdown
    )
    assert "**Ufficio:** [" in markdown and "(/v2/artifacts/key/coda-uiepe-to)" in markdown
    assert "**Prossima scadenza:** validità dell'attestazione, 3 maggio 2026, ore 00:00" in (
        markdown
    )
    # The validity term: last day 2 May, lapsing at 00:00 on 3 May in Italian time.
    assert (
        "| validità dell'attestazione | 2 maggio 2026 | 3 maggio 2026, ore 00:00 | "
        "decadenza dell'attestazione |" in markdown
    )
    assert "| rigetto (`reject`) | istanza respinta: attestazione priva di effetti | no |" in (
        markdown
    )  # what can happen now
    history = markdown.split("## Storico")[1].split("## Diagramma")[0]
    assert [line.split(" | ")[2] for line in history.strip().splitlines()[2:]] == [
        "presentazione dell'istanza",
        "trasmissione all'UIEPE",
        "acquisizione al protocollo",
        "esito positivo della verifica formale",
        "rilascio dell'attestazione",
        "trasmissione all'Autorità giudiziaria",
    ]
    assert "```mermaid" in markdown and "class at_court current" in markdown
    diagram = markdown.split("```mermaid")[1]
    assert "closed" not in diagram  # only the states around the current one
    assert "taxable_income" not in markdown  # payloads stay out of the UI


def test_notices_are_rendered_once_when_the_render_flow_runs_twice(fctx: Context) -> None:
    before = render_notices()  # the register's: the facilities registered, FAC-RM-2 suspended
    assert (before["rendered"], before["failed"]) == (4, 0)
    reference = queued(fctx)
    reallocation.reallocate(fctx)
    first = render_notices()
    second = render_notices()
    assert first["rendered"] == 2 and first["failed"] == 0  # attestation and transmission
    assert second == {"rendered": 0, "already": 0, "failed": 0}
    assert sorted(d.template for d in document_for(fctx, reference)) == [
        "attestazione",
        "trasmissione_attestazione",
    ]


def test_the_daily_dashboard_shows_each_uiepe_queue_in_protocol_order(fctx: Context) -> None:
    first, second, third = queued(fctx), queued(fctx), queued(fctx)
    reallocation.reallocate(fctx)
    assert daily_dashboard() == 2
    board = str(latest_artifact("dashboard-uiepe-to").data)
    assert board.index(second) < board.index(third)
    assert first not in board.split("Istanze in attesa")[1]
    assert "| 1 | 1 | 0 | 0 |" in board  # one place, reserved, none occupied, none free


def test_the_daily_audit_seals_an_intact_trail_and_fails_on_a_broken_one(
    fctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISURE_SEALS_DIR", str(tmp_path / "seals"))
    reference = queued(fctx)
    sealed = audit_trail()
    assert sealed["intact"] and not sealed["already"]
    assert (tmp_path / "seals" / f"seal-{sealed['day']}.json").exists()
    assert sealed["digest"] in str(latest_artifact("audit-seal").data)
    with fctx.db.begin() as connection:  # someone with the database file's keys
        connection.execute(text("DROP TRIGGER case_events_no_update"))
        connection.execute(text("UPDATE case_events SET actor = 'FORGED' WHERE sequence = 1"))
    with pytest.raises(TrailBroken, match="breaks"):
        audit_trail()
    assert reference in str(latest_artifact("audit-breaks").data)
