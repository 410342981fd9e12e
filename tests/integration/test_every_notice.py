"""Every notice every configured procedure declares, issued as an act an office can sign and
send (issue 15): cases driven by the real services until they put each notice in the outbox,
the notices rendered by the real renderer, each PDF read back and checked by one helper
(tests/support/official.py): the letterhead of the office that issues it, its number in that
office's outgoing protocol register, the addressees its type declares that the case has (with
their PEC, or the lack of one), the subject with the case's reference, the place and date of the
act (the day its event took effect, or the day a reminder fell due: never the rendering's), the
signature block, the PDF/A-3b identification and every font embedded. The register has the
notice under that number with the PDF's SHA-256, numbers run without gaps, and one delivery per
addressee is queued.

Table-driven: each scenario names the templates it renders, exactly; together they are every
template the procedures of `misure.toml` declare, so that a notice type added without a
scenario fails here. The register's scenario runs with the reference data loaded (the
Directorate-general's letterhead and signatory, the facilities' PEC) and the office's
certificate: its notices are signed (PAdES) and verified. On SQLite only (the numbering under
concurrency is tests/integration/test_protocol_numbering.py's)."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from documents.signing import load_signer, verify_pdf
from machines.calendar import ROME, lapse_instant, rome_date
from services import engine, letterheads, timers
from services.clock import FixedClock
from services.context import Context
from services.notices import Office, render_pending_notices
from services.placements import actors as placements
from services.placements import reallocation
from services.placements.actors import Outcome
from services.procedure import NoticeType, load_procedures
from services.register import actors as register_actors
from services.register.demo import SUITABLE
from storage.database import make_engine
from storage.models import (
    CaseEvent,
    Delivery,
    Document,
    OutboxMessage,
    ProtocolEntry,
    ProtocolStatus,
)
from tests.integration.test_lpu_conventions import OPENING as CONVENTION
from tests.integration.test_lpu_notices import COURT as LPU_COURT
from tests.integration.test_lpu_notices import completed, opened
from tests.integration.test_lpu_placements import BREACH, ENTITY, JUDGE, convention
from tests.integration.test_probation import JUDGE as PROBATION_COURT
from tests.integration.test_probation import PROGRAMME, REQUEST, UEPE
from tests.integration.test_probation_notices import ended_after
from tests.integration.test_register import _two_facilities_at_turin
from tests.support import register
from tests.support.certificates import PEM, authority, office_certificate
from tests.support.official import (
    CLERK,
    DIGITAL_SIGNATURE,
    NO_ADDRESS,
    PRINTED_SIGNATURE,
    Addressee,
    Official,
    check_official,
)
from tests.support.placements import ASSESSMENT, COURT_TO, REFERENCE, load_reference, queued

ROOT = Path(__file__).resolve().parents[2]
MODULES: list[str] = tomllib.loads((ROOT / "misure.toml").read_text(encoding="utf-8"))["procedures"]
PROCEDURES = load_procedures(MODULES)
NOTICES: dict[str, NoticeType] = {
    template: notice for procedure in PROCEDURES for template, notice in procedure.notices.items()
}
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday, 10:00 in Rome
# The office the renderer is given: every procedure names its own issuer, so this one never
# shows on a notice.
DEFAULT_OFFICE = Office("Ufficio predefinito mai usato", "Luogo mai usato")

Parties = Mapping[str, str | None]


@dataclass(frozen=True)
class Head:
    """An issuing office as its notices must show it."""

    name: str
    place: str
    letterhead: tuple[str, ...] = (NO_ADDRESS,)  # the fallback of an office the data lack
    signer: tuple[str, ...] = (CLERK,)


@dataclass
class Story:
    """What a scenario did: the issuing offices by code, the parties of each case it opened
    (reference -> role -> name; None for a party the case has not, or no longer), and those
    of particular notices where they differ (reference, template)."""

    issuers: dict[str, Head]
    parties: dict[str, Parties] = field(default_factory=dict)
    exceptions: dict[tuple[str, str], Parties] = field(default_factory=dict)
    pecs: dict[str, str] = field(default_factory=dict)


@dataclass
class Desk:
    """The office's desk: the context, the office it renders for, the notices it rendered."""

    ctx: Context
    office: Office = DEFAULT_OFFICE
    rendered: list[str] = field(default_factory=list)  # templates, in order

    @property
    def clock(self) -> FixedClock:
        assert isinstance(self.ctx.clock, FixedClock)
        return self.ctx.clock

    def at(self, when: datetime) -> None:
        self.clock.instant = when.astimezone(UTC)

    def sweep(self, when: datetime) -> None:
        """The clock moved to `when` and the terms due by then fired."""
        self.at(when)
        timers.sweep(self.ctx, self.clock.instant)

    def render(self) -> None:
        """The renderer's pass, as the flow runs it: every pending notice, none failing."""
        report = render_pending_notices(self.ctx, self.office)
        assert report.failed == 0, report.errors
        self.rendered += [document.template for document in report.documents]


def rome(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ROME)


# placements ------------------------------------------------------------------------------------
UIEPE_TO = REFERENCE["offices"][0]["name"]
PRISON_TO = REFERENCE["prisons"][0]["name"]
IL_PONTE = REFERENCE["facilities"][0]["name"]  # FAC-TO-1
DGGC = "Direzione generale per la giustizia di comunità"
REGISTER_HEAD = Head(DGGC, "Roma")


def register_parties(ctx: Context) -> dict[str, Parties]:
    """The register's cases: each facility's notices go to the facility by its name, each
    cancellation procedure's to the facility it concerns."""
    found: dict[str, Parties] = {}
    names: dict[str, str] = {}
    for row in engine.list_cases(ctx, kind="facility"):
        names[row.reference] = str(engine.describe(ctx, row.reference).case.data["name"])
        found[row.reference] = {"facility": names[row.reference]}
    for row in engine.list_cases(ctx, kind="cancellation"):
        facility = str(engine.describe(ctx, row.reference).case.data["facility"])
        found[row.reference] = {"facility": names[facility]}
    return found


def placement_parties(facility: str | None = IL_PONTE) -> dict[str, str | None]:
    """A placement applied for from Turin's prison to Turin's court, followed by UIEPE-TO."""
    return {"court": COURT_TO, "prison": PRISON_TO, "facility": facility, "office": UIEPE_TO}


UIEPE_TO_HEAD = Head(
    UIEPE_TO,
    "Torino",
    letterhead=(
        "Corso Vittorio Emanuele II 127, 10128 Torino",
        "tel. 011 555 0101",
        "PEC prot.uiepe.torino@pec.giustizia.example",
    ),
    signer=("Il Direttore", "Anna Bianchi"),
)
PLACEMENT_PECS = {
    COURT_TO: "tribsorv.torino@pec.giustizia.example",
    PRISON_TO: "cc.torino@pec.giustizia.example",
    IL_PONTE: "ilponte@pec.example",
}


def placement_to_the_cost_statement(desk: Desk) -> Story:
    """UIEPE-TO's letterhead and the PEC of the court, the prison and the facility (not of
    the UIEPE itself) registered; one person from the queue to the cost statement: attested
    and transmitted, granted, entered; the warning 30 days before the funded stay ends, its
    end, the case closed. An application refused at the prison's review."""
    ctx = desk.ctx
    letterheads.set_letterhead(
        ctx,
        {
            "office": "UIEPE-TO", "name": UIEPE_TO,
            "address": "Corso Vittorio Emanuele II 127, 10128 Torino",
            "pec": "prot.uiepe.torino@pec.giustizia.example", "phone": "011 555 0101",
            "signer_name": "Anna Bianchi", "signer_role": "Il Direttore", "place": "Torino",
        },
    )  # fmt: skip
    for name, pec in PLACEMENT_PECS.items():
        letterheads.set_addressee(ctx, name, pec)
    load_reference(ctx)
    person = queued(ctx)
    reallocation.reallocate(ctx)  # attested and transmitted
    desk.render()
    placements.record_decision(ctx, person, Outcome.GRANTED, date(2026, 3, 2), COURT_TO, "tsr")
    placements.record_entry(ctx, person, True, "struttura")  # 2 March: funded to 1 November
    desk.at(rome(date(2026, 4, 1)))
    placements.record_month_presence(ctx, person, 2026, 3, {date(2026, 3, 5)})
    desk.sweep(lapse_instant(date(2026, 10, 2)))  # the warning, 30 days before
    desk.render()
    desk.sweep(lapse_instant(date(2026, 11, 1)))  # the funded stay ends
    desk.at(rome(date(2026, 11, 3)))
    placements.close(ctx, person, "uiepe")
    refused = placements.file_application(ctx, "CC-TO", COURT_TO, "istituto").reference
    placements.director_review(
        ctx, refused, {**ASSESSMENT, "no_expulsion_order": False}, "direttore"
    )
    desk.render()
    entered = {**placement_parties(), "prison": None}  # no party once the person left it
    return Story(
        issuers={"UIEPE-TO": UIEPE_TO_HEAD, "DGGC": REGISTER_HEAD},
        parties={
            **register_parties(ctx),
            person: placement_parties(),
            refused: placement_parties(facility=None),
        },
        exceptions={(person, t): entered for t in ("notifica_cambio_stato", "prospetto_spese")},
        pecs=dict(PLACEMENT_PECS),
    )


def rejection_and_reassignment(desk: Desk) -> Story:
    """UIEPE-TO's one place attested to the first in protocol order; the court rejects: the
    attestation loses its effect and the place goes to the second, as a reassignment."""
    ctx = desk.ctx
    load_reference(ctx)
    first, second = queued(ctx), queued(ctx)
    reallocation.reallocate(ctx)
    placements.record_decision(
        ctx, first, Outcome.REJECTED, date(2026, 3, 2), COURT_TO, "tsr", "SIUS 1/26"
    )
    reallocation.reallocate_signalled(ctx)
    desk.render()
    return Story(
        issuers={"UIEPE-TO": Head(UIEPE_TO, "Torino"), "DGGC": REGISTER_HEAD},
        parties={
            **register_parties(ctx),
            first: placement_parties(),
            second: placement_parties(),
        },
    )


def facility_cancelled_under_placements(desk: Desk) -> Story:
    """FAC-TO-1 holds a person placed and an attestation at court when its operator gives up
    the register: the attestation loses its effect (the applicant back in the queue), the
    UIEPE is told to move the person placed."""
    ctx = desk.ctx
    load_reference(ctx)
    _two_facilities_at_turin(ctx)
    register.suspend(ctx, next(r for r, p in _facilities(ctx).items() if p == "Casa Aurora"))
    person, applicant = queued(ctx), queued(ctx)
    reallocation.reallocate(ctx)
    placements.record_decision(ctx, person, Outcome.GRANTED, date(2026, 3, 2), COURT_TO, "tsr")
    placements.record_entry(ctx, person, True, "struttura")
    ponte = next(r for r, p in _facilities(ctx).items() if p == IL_PONTE)
    procedure = register_actors.open_cancellation(ctx, ponte, ["b"], "Requisito venuto meno.")
    register_actors.give_up(ctx, procedure.reference)
    desk.render()
    return Story(
        issuers={"UIEPE-TO": Head(UIEPE_TO, "Torino"), "DGGC": REGISTER_HEAD},
        parties={
            **register_parties(ctx),
            person: {**placement_parties(), "prison": None},  # placed: the prison no party
            applicant: placement_parties(),
        },
        exceptions={
            (person, t): placement_parties()
            for t in ("attestazione", "trasmissione_attestazione", "concessione_misura")
        },
    )


def _facilities(ctx: Context) -> dict[str, str]:
    return {
        row.reference: str(engine.describe(ctx, row.reference).case.data["name"])
        for row in engine.list_cases(ctx, kind="facility")
    }


# the register (signed, with its reference data) -------------------------------------------------
DGGC_HEAD = Head(
    DGGC,
    "Roma",
    letterhead=(
        "Via Damiano Chiesa 24, 00136 Roma",
        "tel. 06 6818 8326",
        "PEC prot.dggc.dgmc@pec.giustizia.example",
    ),
    signer=("Il Direttore generale", "Maria Rossi"),
)
FARO, MARCO, AURORA = "Comunità Il Faro", "Casa San Marco", "Comunità Aurora"
REGISTER_PECS = {FARO: "ilfaro@pec.example", MARCO: "sanmarco@pec.example"}  # none for Aurora


def facility(name: str, code: str) -> dict[str, Any]:
    return {
        **SUITABLE, "code": code, "name": name, "operator": f"Ente gestore di {name}",
        "address": "Via Roma 1, Roma", "section": "Lazio", "places": 8, "filed_on": "2026-02-20",
    }  # fmt: skip


def register_from_interest_to_cancellation(desk: Desk) -> Story:
    """The Directorate-general's letterhead and the PEC of two of three facilities
    registered. One expression of interest rejected after the notice of reasons and the
    observations; one facility registered, given a prescription, suspended, invited to
    clarify, contested and cancelled; one suspended, the suspension lifted, the procedure
    archived."""
    ctx = desk.ctx
    letterheads.set_letterhead(
        ctx,
        {
            "office": "DGGC", "name": DGGC, "address": "Via Damiano Chiesa 24, 00136 Roma",
            "pec": "prot.dggc.dgmc@pec.giustizia.example", "phone": "06 6818 8326",
            "signer_name": "Maria Rossi", "signer_role": "Il Direttore generale", "place": "Roma",
        },
    )  # fmt: skip
    for name, pec in REGISTER_PECS.items():
        letterheads.set_addressee(ctx, name, pec)
    today = date(2026, 3, 2)
    faro = register_actors.file_interest(ctx, facility(FARO, "FAC-RM-10")).reference
    register_actors.start_review(ctx, faro, [{"role": "director"}])
    register_actors.record_dap_opinion(ctx, faro, "favourable", today)
    register_actors.notify_reasons(ctx, faro, "Difetta l'idoneità igienico-sanitaria.")
    desk.at(rome(date(2026, 3, 4)))
    register_actors.record_receipt(ctx, faro, date(2026, 3, 4))
    register_actors.observe(ctx, faro, "Osservazioni dell'ente.")
    desk.sweep(rome(date(2026, 3, 20)))  # ten days from the receipt have run
    register_actors.reject(ctx, faro, "Le osservazioni non superano il difetto.")
    desk.render()

    marco = register_actors.enrol(ctx, facility(MARCO, "FAC-RM-11"))
    aurora = register_actors.enrol(ctx, facility(AURORA, "FAC-RM-12"))
    register_actors.prescribe(ctx, marco, "c", "Attivare i tirocini.", date(2026, 5, 15))
    cancelling = register_actors.open_cancellation(ctx, marco, ["b"], "Fatti.").reference
    register_actors.suspend(ctx, cancelling, "Gravità dei fatti.")
    register_actors.invite(ctx, cancelling)
    lifting = register_actors.open_cancellation(ctx, aurora, ["a"], "Variazione.").reference
    register_actors.suspend(ctx, lifting, "Verifica urgente.")
    register_actors.lift(ctx, lifting, "Requisito ripristinato.")
    register_actors.invite(ctx, lifting)
    desk.render()
    for case in (cancelling, lifting):
        register_actors.record_receipt(ctx, case, date(2026, 3, 20))
        register_actors.clarify(ctx, case, "Chiarimenti.", 1)
    desk.sweep(rome(date(2026, 4, 30)))  # thirty days from the receipt have run
    register_actors.archive(ctx, lifting, "Il requisito è dimostrato.")
    register_actors.contest(ctx, cancelling, "Il requisito manca.", "art. 7 D.M.", 20)
    desk.at(rome(date(2026, 5, 4)))
    register_actors.record_receipt(ctx, cancelling, date(2026, 5, 4))
    desk.sweep(rome(date(2026, 5, 30)))  # twenty days from the receipt have run
    register_actors.cancel(ctx, cancelling, "Le difese non superano la contestazione.")
    desk.render()
    return Story(issuers={"DGGC": DGGC_HEAD}, parties=register_parties(ctx), pecs=REGISTER_PECS)


# community work (LPU) ----------------------------------------------------------------------------
UEPE_TO = Head(UEPE, "Torino")  # "UEPE di Torino": the office of the province, no letterhead
COMUNE = str(CONVENTION["entity"])


def lpu_parties(court: str = LPU_COURT) -> dict[str, str | None]:
    return {"court": court, "host_entity": COMUNE, "office": UEPE}


def lpu_to_a_late_final_report(desk: Desk) -> Story:
    """The declaration of availability transmitted to the court, the work done, the final
    report reminded, then solicited, then filed late."""
    ctx = desk.ctx
    agreement = convention(ctx)
    placement = completed(ctx, agreement)
    desk.render()
    desk.sweep(datetime(2026, 4, 2, tzinfo=ROME))  # the reminder's day, then the term, passed
    desk.at(datetime(2026, 4, 4, 12, tzinfo=ROME))
    engine.fire(
        ctx, placement, "report", "coordinatore", {"reported_on": "2026-04-04", "regular": True}
    )
    desk.render()
    return Story(
        issuers={"UEPE-TORINO": UEPE_TO},
        parties={agreement: lpu_parties(), placement: lpu_parties()},
    )


def lpu_breach_and_revocation(desk: Desk) -> Story:
    ctx = desk.ctx
    agreement = convention(ctx)
    placement = opened(ctx, agreement)
    engine.fire(
        ctx, placement, "sentenced", JUDGE,
        {"owed_days": 10, "owed_hours": 20, "decided_on": "2026-02-10"},
    )  # fmt: skip
    engine.fire(ctx, placement, "final", JUDGE, {"final_on": "2026-02-25"})
    engine.fire(ctx, placement, "breach", ENTITY, BREACH)
    engine.fire(ctx, placement, "revoke", JUDGE, {"ruled_on": "2026-03-02"})
    desk.render()
    return Story(
        issuers={"UEPE-TORINO": UEPE_TO},
        parties={agreement: lpu_parties(), placement: lpu_parties()},
    )


def lpu_convention_renewal(desk: Desk) -> Story:
    """A convention signed by the tribunal's President by delegation, until 28 February 2031:
    the renewal notice 60 days before, to the entity and the tribunal."""
    ctx = desk.ctx
    agreement = convention(ctx)
    desk.sweep(datetime(2030, 12, 31, tzinfo=ROME))
    desk.render()
    tribunal = str(CONVENTION["tribunal"])
    return Story(
        issuers={"UEPE-TORINO": UEPE_TO},
        parties={agreement: {**lpu_parties(tribunal), "directorate": None}},
    )


# probation ----------------------------------------------------------------------------------------
def probation_parties(entity: str | None) -> dict[str, str | None]:
    return {"court": PROBATION_COURT, "office": UEPE, "host_entity": entity}


def probation_sent(ctx: Context, **programme: Any) -> str:
    reference = engine.open_case(ctx, "probation", UEPE, REQUEST).reference
    engine.fire(ctx, reference, "inquire", UEPE, {"started_on": "2026-03-02"})
    engine.fire(ctx, reference, "draft", UEPE, {**PROGRAMME, **programme})
    engine.fire(
        ctx, reference, "send", UEPE,
        {"sent_on": "2026-03-02", "consent": True, "entity_adherence": True},
    )  # fmt: skip
    return reference


def probation_running(ctx: Context, months: int, cadence: int, **programme: Any) -> str:
    reference = probation_sent(ctx, **programme)
    engine.fire(
        ctx, reference, "admit", PROBATION_COURT,
        {"ordered_on": "2026-03-02", "duration_months": months, "cadence_months": cadence},
    )  # fmt: skip
    engine.fire(ctx, reference, "sign", UEPE, {"record_signed_on": "2026-03-02"})
    return reference


def probation_reports_and_revocation(desk: Desk) -> Story:
    """A programme with community work at the Comune sent to the judge; the periodic report
    reminded, solicited and filed; a revocation hearing set and the probation revoked."""
    ctx = desk.ctx
    reference = probation_running(ctx, 12, 3, lpu_entity=COMUNE)
    desk.render()
    desk.sweep(datetime(2026, 5, 24, tzinfo=ROME))  # the reminder
    desk.sweep(datetime(2026, 6, 3, tzinfo=ROME))  # the term passed
    desk.at(datetime(2026, 6, 5, 12, tzinfo=ROME))
    engine.fire(ctx, reference, "report", UEPE, {"reported_on": "2026-06-05"})
    desk.render()
    desk.at(datetime(2026, 6, 10, 12, tzinfo=ROME))
    hearing = {
        "cause": "breach", "revocation_hearing_on": "2026-06-25", "notified_on": "2026-06-10"
    }  # fmt: skip
    engine.fire(ctx, reference, "set_revocation_hearing", PROBATION_COURT, hearing)
    desk.at(datetime(2026, 6, 25, 12, tzinfo=ROME))
    engine.fire(ctx, reference, "revoke", PROBATION_COURT, {"decided_on": "2026-06-25"})
    desk.render()
    return Story(issuers={"UEPE-TORINO": UEPE_TO}, parties={reference: probation_parties(COMUNE)})


def probation_final_report_and_outcome(desk: Desk) -> Story:
    """One month of probation without a host entity: its monthly report reminded, the period
    ended, a negative final report, the trial resumed."""
    ctx = desk.ctx
    reference = ended_after(ctx, probation_running(ctx, 1, 1), positive=False)
    engine.fire(
        ctx, reference, "resume", PROBATION_COURT,
        {"decided_on": "2026-05-05", "file_number": "12/2026"},
    )  # fmt: skip
    desk.render()
    return Story(issuers={"UEPE-TORINO": UEPE_TO}, parties={reference: probation_parties(None)})


# the table ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    run: Callable[[Desk], Story]
    templates: frozenset[str]  # exactly what it renders
    signed: bool = False


SCENARIOS: dict[str, Scenario] = {
    "placement-to-the-cost-statement": Scenario(
        placement_to_the_cost_statement,
        frozenset(
            {
                "iscrizione",
                "sospensione",
                "attestazione",
                "trasmissione_attestazione",
                "concessione_misura",
                "avviso_fine_finanziamento",
                "notifica_cambio_stato",
                "prospetto_spese",
            }
        ),
    ),
    "rejection-and-reassignment": Scenario(
        rejection_and_reassignment,
        frozenset(
            {
                "iscrizione",
                "sospensione",
                "attestazione",
                "trasmissione_attestazione",
                "perdita_efficacia",
                "riassegnazione",
            }
        ),
    ),
    "facility-cancelled-under-placements": Scenario(
        facility_cancelled_under_placements,
        frozenset(
            {
                "iscrizione",
                "sospensione",
                "attestazione",
                "trasmissione_attestazione",
                "concessione_misura",
                "cancellazione",
                "struttura_cancellata",
                "struttura_cancellata_collocamento",
            }
        ),
    ),
    "register-from-interest-to-cancellation": Scenario(
        register_from_interest_to_cancellation,
        frozenset(
            {
                "preavviso_rigetto",
                "rigetto",
                "iscrizione",
                "prescrizione",
                "sospensione",
                "invito_chiarimenti",
                "revoca_sospensione",
                "archiviazione",
                "contestazione",
                "cancellazione",
            }
        ),
        signed=True,
    ),
    "lpu-to-a-late-final-report": Scenario(
        lpu_to_a_late_final_report,
        frozenset(
            {
                "dichiarazione_disponibilita",
                "promemoria_relazione_conclusiva",
                "sollecito_relazione_conclusiva",
                "relazione_conclusiva",
            }
        ),
    ),
    "lpu-breach-and-revocation": Scenario(
        lpu_breach_and_revocation,
        frozenset({"dichiarazione_disponibilita", "segnalazione_violazione", "revoca"}),
    ),
    "lpu-convention-renewal": Scenario(
        lpu_convention_renewal, frozenset({"avviso_rinnovo_convenzione"})
    ),
    "probation-reports-and-revocation": Scenario(
        probation_reports_and_revocation,
        frozenset(
            {
                "programma_al_giudice",
                "promemoria_relazione_periodica",
                "sollecito_relazione_periodica",
                "relazione_periodica",
                "avviso_udienza_revoca",
                "revoca_messa_alla_prova",
            }
        ),
    ),
    "probation-final-report-and-outcome": Scenario(
        probation_final_report_and_outcome,
        frozenset(
            {
                "programma_al_giudice",
                "promemoria_relazione_periodica",
                "relazione_finale",
                "esito_messa_alla_prova",
            }
        ),
    ),
}


def test_the_scenarios_render_every_declared_notice_type() -> None:
    """A notice type declared without a scenario that renders it fails here."""
    assert {"placements", "register", "lpu", "probation"} <= {p.name for p in PROCEDURES}
    rendered = set().union(*(scenario.templates for scenario in SCENARIOS.values()))
    assert rendered == set(NOTICES), (
        f"without a scenario: {sorted(set(NOTICES) - rendered)}; "
        f"not declared: {sorted(rendered - set(NOTICES))}"
    )


# the checks --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Office, bytes]:
    """The Directorate-general's throwaway certificate (issued by a throwaway CA): the office
    that signs, and the CA to trust."""
    ca = authority("CA di prova del Ministero")
    material = office_certificate(tmp_path_factory.mktemp("dggc"), ca, DGGC)
    return Office(DGGC, "Roma", signer=load_signer(material)), ca[0].public_bytes(PEM)


@dataclass(frozen=True)
class Issued:
    document: Document
    entry: ProtocolEntry
    message: OutboxMessage
    event: CaseEvent
    deliveries: list[Delivery]


def issued(ctx: Context) -> Iterator[Issued]:
    """Every document with its registration, message, event and deliveries, in order."""
    with ctx.read() as uow:
        session = uow.session
        entries = {e.outbox_id: e for e in session.scalars(select(ProtocolEntry))}
        for document in session.scalars(select(Document).order_by(Document.id)):
            message = session.get(OutboxMessage, document.outbox_id)
            event = session.get(CaseEvent, document.event_id)
            assert message is not None and event is not None
            assert document.outbox_id in entries, f"{document.template}: not registered"
            deliveries = session.scalars(
                select(Delivery).where(Delivery.document_id == document.id).order_by(Delivery.id)
            ).all()
            yield Issued(document, entries[document.outbox_id], message, event, list(deliveries))


def act_day(message: OutboxMessage, event: CaseEvent) -> date:
    """The act's date: the day its message names (`dated`: a day, or the instant a reminder
    fell due), else the day its event took effect in law."""
    dated = message.payload.get("dated")
    if dated is None:
        return rome_date(event.effective_at)
    text = str(dated)
    return date.fromisoformat(text) if len(text) == 10 else rome_date(datetime.fromisoformat(text))


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_notice_is_an_act_its_office_can_sign_and_send(
    name: str, sqlite_url: str, certificate: tuple[Office, bytes]
) -> None:
    scenario = SCENARIOS[name]
    db = make_engine(sqlite_url)
    try:
        desk = Desk(Context.build(db, FixedClock(START), MODULES))
        if scenario.signed:
            desk.office = certificate[0]
        story = scenario.run(desk)
        assert set(desk.rendered) == scenario.templates, sorted(desk.rendered)
        numbers: dict[tuple[str, int], list[int]] = {}
        for found in issued(desk.ctx):
            check(found, story, scenario.signed, certificate[1])
            numbers.setdefault((found.entry.office, found.entry.year), []).append(
                found.entry.number
            )
        assert sum(map(len, numbers.values())) == len(desk.rendered)
        for register_of, given in numbers.items():  # each office's register, without gaps
            assert sorted(given) == list(range(1, len(given) + 1)), (register_of, given)
    finally:
        db.dispose()


def check(found: Issued, story: Story, signed: bool, trust: bytes) -> None:
    document, entry = found.document, found.entry
    template, reference = document.template, entry.reference
    where = f"{reference} {template}"
    # the register holds the notice under its number, with the fingerprint of what was sent
    assert hashlib.sha256(document.pdf).hexdigest() == document.sha256 == entry.sha256, where
    assert (entry.status, entry.template) == (ProtocolStatus.REGISTERED, template), where
    assert entry.office in story.issuers, f"{where}: issued by {entry.office}"
    head = story.issuers[entry.office]
    notice = NOTICES[template]
    parties = story.exceptions.get((reference, template), story.parties[reference])
    addressees = [
        Addressee(role, str(parties[role]), story.pecs.get(str(parties[role])))
        for role in notice.addressees
        if parties.get(role)
    ]
    assert addressees, f"{where}: nobody to send it to"
    registered = [{"role": a.role, "nome": a.name, "pec": a.pec} for a in addressees]
    assert entry.addressees == registered, where
    assert entry.subject == f"{notice.subject} – pratica {reference}", where
    # one delivery per addressee, to its PEC
    assert [(d.role, d.addressee, d.address) for d in found.deliveries] == [
        (a.role, a.name, a.pec) for a in addressees
    ], where
    expected = Official(
        office=head.name,
        protocol=f"{entry.office}/{entry.year}/{entry.number:07d}",
        registered_on=rome_date(entry.registered_at),
        addressees=addressees,
        subject=notice.subject,
        reference=reference,
        place=head.place,
        day=act_day(found.message, found.event),
        signature=DIGITAL_SIGNATURE if signed else PRINTED_SIGNATURE,
        letterhead=head.letterhead,
        signer=head.signer,
    )
    try:
        text = check_official(document.pdf, expected)
    except AssertionError as error:
        raise AssertionError(f"{where}: {error}") from error
    assert DEFAULT_OFFICE.name.upper() not in text and DEFAULT_OFFICE.place not in text
    assert document.signature == ("pades" if signed else "printed"), where
    verified = verify_pdf(document.pdf, trust_roots=[trust])
    if signed:
        assert verified.valid and verified.intact and verified.covers_whole_file, where
        assert verified.signer == DGGC
    else:
        assert not verified.signed, where
