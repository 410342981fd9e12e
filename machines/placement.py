"""Funded residential placement: from the detainee's application to the end of the funded stay
(D.M. 24 luglio 2025 n. 128, arts. 11-14). Kind `placement`, references ATT-YYYY-NNNNNN.

The machine decides what may happen and cites the article; places, money and the protocol-order
reallocation are services (they fire `attest` on the next application in protocol order when a
`reallocate` signal says a place was freed).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from machines.calendar import TermRule, Unit, rome_date
from machines.funding import income_refusal
from machines.spec import CaseMachine, Guard, GuardInput, Reminder, Term, Transition

DM = "D.M. 128/2025"


class Placement(StrEnum):
    FILED = "filed"
    FORWARDED = "forwarded"
    REGISTERED = "registered"
    QUEUED = "queued"
    ATTESTED = "attested"
    AT_COURT = "at_court"
    GRANTED = "granted"
    PLACED = "placed"
    ENDED = "ended"
    REFUSED = "refused"
    REJECTED = "rejected"
    LAPSED = "lapsed"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"


S = Placement

# The four requirements, all needed together (art. 11 co. 1-2), as the Director reports them.
REQUIREMENTS = {
    "community_measure_eligible": "requisiti per le misure penali di comunità (art. 11 co. 1 a)",
    "no_suitable_domicile": "assenza di un domicilio idoneo (art. 11 co. 1 b)",
    "no_expulsion_order": "assenza di provvedimenti di espulsione (art. 11 co. 1 d)",
}
# The five parameters the equipe's summary report verifies (art. 12 co. 3).
EQUIPE_PARAMETERS = {
    "no_serious_sanctions": "nessuna sanzione disciplinare oltre l'ammonizione (a)",
    "no_aggression": "nessun episodio di aggressività verso persone o cose (b)",
    "work_skills": "abilità lavorative (c)",
    "treatment_participation": "partecipazione attiva ai percorsi trattamentali (d)",
    "reintegration_prospects": "elementi a sostegno dell'inserimento lavorativo e abitativo (e)",
}


def _director_check(given: GuardInput) -> str | None:
    """Art. 11 co. 1-2 and art. 12 co. 2-3: every requirement, and the income limit in force
    on the filing date, with the equipe's summary report."""
    missing = [label for key, label in REQUIREMENTS.items() if given.payload.get(key) is not True]
    report = given.payload.get("equipe_report")
    if not isinstance(report, dict):
        missing.append("relazione di sintesi dell'equipe (art. 12 co. 3)")
    else:
        missing += [
            f"relazione dell'equipe: {label}"
            for key, label in EQUIPE_PARAMETERS.items()
            if report.get(key) is not True
        ]
    income = _income_refusal(given)
    if income:
        missing.append(income)
    return "; ".join(missing) or None


def _income_refusal(given: GuardInput) -> str | None:
    """Art. 11 co. 1 c: income within the legal-aid limit in force when the application was
    filed (the case's `filed_on`, else today in Italian time)."""
    try:
        income = Decimal(str(given.payload["taxable_income"]))
        cohabitants = int(given.payload.get("cohabitants", 0))
    except (KeyError, InvalidOperation, ValueError):
        return "reddito imponibile annuo non indicato (art. 11 co. 1 c)"
    filed = given.case.data.get("filed_on")
    filed_on = date.fromisoformat(filed) if filed else rome_date(given.now)
    try:
        return income_refusal(income, filed_on, cohabitants)
    except ValueError as error:
        return f"reddito non valutabile: {error} (art. 11 co. 1 c)"


def _needs(*keys: str) -> Guard:
    """The payload must carry `keys` (what the transition records on the case)."""

    def check(given: GuardInput) -> str | None:
        missing = [key for key in keys if given.payload.get(key) in (None, "")]
        return f"mancano: {', '.join(missing)}" if missing else None

    return Guard(f"needs_{'_'.join(keys)}", check)


def _commitment_signed(given: GuardInput) -> str | None:
    if given.payload.get("commitment_signed") is True:
        return None
    return "impegno scritto al rispetto delle regole della struttura non sottoscritto"


VALIDITY = TermRule(2, Unit.MONTHS, extend_on_holiday=False, article=f"art. 12 co. 6 {DM}")
FUNDED_STAY = TermRule(8, Unit.MONTHS, extend_on_holiday=False, article=f"art. 11 co. 4 {DM}")
PENDING = (S.FILED, S.FORWARDED, S.REGISTERED, S.QUEUED)
HOLDING_A_PLACE = (S.ATTESTED, S.AT_COURT, S.GRANTED)
# A place freed, or an application admitted to the queue: serve the UIEPE's queue again.
REALLOCATE = ("reallocate",)

MACHINE = CaseMachine(
    kind="placement",
    prefix="ATT",
    states=Placement,
    initial=S.FILED,
    transitions=(
        Transition(
            "forward",
            (S.FILED,),
            S.FORWARDED,
            f"art. 12 co. 2-3 {DM}",
            guards=(Guard("requirements", _director_check, f"art. 11 co. 1-2 {DM}"),),
        ),
        Transition(
            "register",
            (S.FORWARDED,),
            S.REGISTERED,
            f"art. 12 co. 5 {DM}",
            guards=(_needs("protocol_number", "protocol_at"),),
            records=("protocol_number", "protocol_at"),
        ),
        Transition("admit", (S.REGISTERED,), S.QUEUED, f"art. 12 co. 4 {DM}", signals=REALLOCATE),
        Transition(
            "refuse",
            (S.FILED, S.REGISTERED),
            S.REFUSED,
            f"art. 12 co. 2 e 4 {DM}",
            guards=(_needs("reason"),),
            notices=("notifica_cambio_stato",),
            records=("reason",),
        ),
        Transition(
            "attest",
            (S.QUEUED,),
            S.ATTESTED,
            f"art. 12 co. 4 e 6, art. 13 co. 6 {DM}",
            guards=(_needs("convention", "place"),),
            notices=("attestazione",),
            records=("convention", "facility", "place", "valid_until"),
        ),
        Transition(
            "transmit",
            (S.ATTESTED,),
            S.AT_COURT,
            f"art. 12 co. 4 {DM}",
            notices=("trasmissione_attestazione",),
        ),
        Transition(
            "grant",
            (S.ATTESTED, S.AT_COURT),
            S.GRANTED,
            f"art. 12 co. 7-8 {DM}",
            guards=(_needs("decided_on"),),
            notices=("notifica_cambio_stato",),
            records=("decided_on", "court", "file_number", "measure_start"),
        ),
        Transition(
            "reject",
            (S.ATTESTED, S.AT_COURT),
            S.REJECTED,
            f"art. 12 co. 8 e 10 {DM}",
            guards=(_needs("decided_on"),),
            notices=("perdita_efficacia",),
            signals=REALLOCATE,
            records=("decided_on", "court", "file_number"),
        ),
        Transition(
            "lapse",
            (S.ATTESTED, S.AT_COURT),
            S.LAPSED,
            f"art. 12 co. 9 {DM}",
            notices=("perdita_efficacia",),
            signals=REALLOCATE,
        ),
        Transition(
            "enter",
            (S.GRANTED,),
            S.PLACED,
            f"art. 11 co. 5 {DM}",
            guards=(Guard("commitment", _commitment_signed, f"art. 11 co. 5 {DM}"),),
        ),
        Transition(
            "leave",
            (S.PLACED,),
            S.ENDED,
            f"art. 13 co. 5 {DM}",
            guards=(_needs("left_on"),),
            signals=REALLOCATE,
            records=("left_on",),
        ),
        Transition(
            "funding_end",
            (S.PLACED,),
            S.ENDED,
            f"art. 11 co. 4 {DM}",
            notices=("notifica_cambio_stato",),
            signals=REALLOCATE,
        ),
        Transition("withdraw", PENDING, S.WITHDRAWN, f"art. 12 co. 1 {DM}"),
        Transition(
            "withdraw",
            HOLDING_A_PLACE,
            S.WITHDRAWN,
            f"art. 12 co. 1 e 9 {DM}",
            notices=("perdita_efficacia",),
            signals=REALLOCATE,
        ),
        Transition(
            "close",
            (S.ENDED,),
            S.CLOSED,
            f"art. 14 {DM}",
            notices=("prospetto_spese",),
        ),
        Transition(
            "close", (S.REFUSED, S.REJECTED, S.LAPSED, S.WITHDRAWN), S.CLOSED, f"art. 12 {DM}"
        ),
    ),
    terms=(
        # The place is reserved for two months from issue, across the transmission to the court.
        Term(S.ATTESTED, "attestation_validity", VALIDITY, fires="lapse", through=(S.AT_COURT,)),
        Term(S.PLACED, "funded_stay", FUNDED_STAY, fires="funding_end"),
    ),
    reminders=(Reminder("funded_stay", "funded_stay_warning", 30, "avviso_fine_finanziamento"),),
    labels={
        "placement": "attestazione di disponibilità di posto in struttura residenziale",
        S.FILED: "istanza presentata alla Direzione dell'istituto",
        S.FORWARDED: "trasmessa all'UIEPE",
        S.REGISTERED: "acquisita al protocollo dell'UIEPE",
        S.QUEUED: "in attesa di posto e copertura finanziaria",
        S.ATTESTED: "attestazione rilasciata",
        S.AT_COURT: "attestazione trasmessa all'Autorità giudiziaria",
        S.GRANTED: "misura di comunità concessa",
        S.PLACED: "accolto in struttura",
        S.ENDED: "permanenza finanziata conclusa",
        S.REFUSED: "istanza non ammissibile",
        S.REJECTED: "istanza respinta: attestazione priva di effetti",
        S.LAPSED: "attestazione decaduta",
        S.WITHDRAWN: "rinuncia",
        S.CLOSED: "chiusa",
        "open": "presentazione dell'istanza",
        "forward": "trasmissione all'UIEPE",
        "register": "acquisizione al protocollo",
        "admit": "esito positivo della verifica formale",
        "refuse": "inammissibilità",
        "attest": "rilascio dell'attestazione",
        "transmit": "trasmissione all'Autorità giudiziaria",
        "grant": "concessione della misura",
        "reject": "rigetto",
        "lapse": "decadenza dell'attestazione",
        "enter": "ingresso in struttura",
        "leave": "uscita dalla struttura",
        "funding_end": "fine della permanenza finanziata",
        "withdraw": "rinuncia",
        "close": "chiusura",
        "attestation_validity": "validità dell'attestazione",
        "funded_stay": "permanenza con oneri a carico dell'Amministrazione",
    },
)
