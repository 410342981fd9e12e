"""The rules of probation with suspension of the trial (messa alla prova, MAP; L. 28 aprile 2014
n. 67, in force from 17 May 2014) as dated data (DOMAIN.md section 3; seed 003, "MESSA ALLA
PROVA").

Each rule names its source article and the day it holds from (`since`) and, once superseded, the
first day it no longer holds (`until`): a change of law is a new row here, not a change of the
code that reads it. Every function takes the day whose rule applies (`on`, or the hearing's day
for the terms counted back from a hearing); the caller chooses it. Pure: no clock, no database;
refusals are Italian, dates in them dd/mm/yyyy.

Eligibility (art. 168-bis c.p.). Offences punished with a fine only, or with detention whose
statutory maximum is at most 4 years (48 months), alone, joint with or alternative to a fine,
and the offences listed in art. 550 co. 2 c.p.p. Not eligible: habitual, professional or
by-tendency offenders (co. 5, arts. 102-105 and 108 c.p.); anyone already admitted once (co. 4),
unless the new offences are connected with those of the earlier probation under art. 12 co. 1
lett. b c.p.p. (Corte cost. sent. 174/2022, deposited 12 July 2022: an officer's override, see
`ConnectionOverride`); anyone whose earlier probation failed or was revoked (art. 168-bis co. 4
c.p.; art. 464-novies c.p.p.), with no override.

The list of art. 550 co. 2 c.p.p. Seed 003 names seven offences (letters a-g); it predates the
2022 reform (d.lgs. 150/2022, in force 30 December 2022), which extended the list to further
offences punished with up to 6 years: that extension is NOT encoded here. The way to add it is a
new dated version of the list (`List550`) from 30 December 2022, not a change of the code. One
change between the two is encoded, from the text in force: letter e-bis (lesioni personali
stradali, art. 590-bis c.p.), added by L. 23 marzo 2016 n. 41 from 25 March 2016. A key the list
in force does not hold is refused; after 30 December 2022 the refusal says that the reform's
additions are not recorded, so an officer is not misled by the gap.

Terms counted back from a hearing ("almeno dieci giorni prima"). Chosen here: calendar days,
the hearing's day not counted and the act's day counted: the final report is due by the day ten
days before the hearing (hearing on 21 March: 11 March), and a revocation hearing notified ten
days before it is in time, nine days is not (notified on 11 March for 21 March: accepted; on 12
March: refused). This is how the offices and the acceptance of the MAP issue read the rule. A
stricter reading counts whole and free days (art. 172 co. 5 c.p.p.; Cass. pen. 16356/2015 on
"fino a quindici giorni prima"), one day earlier: it is a flag of the data
(`BackwardTerm.whole_and_free`), so adopting it is a data change. The final report's last day,
when it is a holiday (machines.calendar: a Sunday or a national holiday; Saturday is a working
day, art. 172 co. 3 c.p.p.), moves back to the working day before it: a term counted backwards
is never extended towards the hearing, and the earlier day keeps the "at least" safe.

Durations (art. 464-quater co. 5 c.p.p.) are given in months and, optionally, extra days. With
the day the period starts (the signature of the probation record), the end is computed on the
calendar (art. 2963 c.c., machines.calendar.add_months) and compared with the bound's end.
Without it (the judge fixes the duration before the record is signed), a duration is accepted
only if it holds whatever the start: at most the bound in months, and no more extra days than 28
(the shortest month) for each month left below the bound. Any span of k months holds at least
28k days, so a duration accepted without a start is accepted with every start.

Art. 657-bis c.p.p. (a probation revoked or failed still counts): 3 days of probation = 1 day of
detention or EUR 250 of fine, applied by the prosecutor; the system records the days served and
shows the value. Only whole groups of three days are converted: the law equates three days to one
and names no fraction, so the remainder (0-2 days) is shown in the detail, not converted; the
prosecutor decides on it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from typing import TypeVar

from machines.calendar import add_months, is_holiday

MAP_IN_FORCE = date(2014, 5, 17)  # L. 67/2014 (G.U. 2 May 2014 n. 100), in force 17 May 2014
MAP_BASIS = "entrata in vigore della L. 28 aprile 2014 n. 67"
L41_2016 = date(2016, 3, 25)  # L. 23 marzo 2016 n. 41 in force: art. 550 co. 2 lett. e-bis
REFORM_2022 = date(2022, 12, 30)  # d.lgs. 150/2022 in force (art. 99-bis, D.L. 162/2022)
SHORTEST_MONTH_DAYS = 28  # February: what a month holds at least, whatever the start
DAYS_SERVED_MAX = 36_500  # a hundred years: any probation a deduction can concern
ART550 = "art. 550 co. 2 c.p.p."


class NotInForce(ValueError):
    """No version of a rule is recorded for the day asked (before 17 May 2014)."""


# Dated rules ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bound:
    """A limit of the law: its value (in the unit its use says), the article, and the limit in
    words as a refusal names it ("2 anni")."""

    value: int
    article: str
    text: str


@dataclass(frozen=True)
class BackwardTerm:
    """A term counted back from a hearing: the act is done at least `days` days before it.

    `whole_and_free` (art. 172 co. 5 c.p.p.): the days between are whole and free, so neither the
    day of the act nor that of the hearing counts; otherwise the plain calendar difference does.
    `move_back_on_holiday`: a last day that is a holiday moves to the working day before it."""

    days: int
    article: str
    whole_and_free: bool = True
    move_back_on_holiday: bool = False
    counting_article: str = "art. 172 co. 5 c.p.p."

    def days_before(self, done_on: date, hearing_on: date) -> int:
        """The days the rule counts between the act and the hearing."""
        difference = (hearing_on - done_on).days
        return difference - 1 if self.whole_and_free else difference

    def last_day(self, hearing_on: date) -> date:
        """The last day on which the act keeps the term."""
        day = hearing_on - timedelta(days=self.days + (1 if self.whole_and_free else 0))
        while self.move_back_on_holiday and is_holiday(day):
            day -= timedelta(days=1)
        return day

    def counting(self) -> str:
        """How the days are counted, in Italian, for a refusal."""
        if self.whole_and_free:
            return f"giorni interi e liberi, {self.counting_article}"
        return "giorni di calendario"


@dataclass(frozen=True)
class RevocationCause:
    """A cause of revocation of the suspension: `key` as the payload names it, the Italian
    `label`, the article."""

    key: str
    label: str
    article: str


@dataclass(frozen=True)
class Rules:
    """One version of the rules of MAP, in force on days `since <= day < until`.

    - `detention_max_months`: the statutory maximum of detention a MAP offence may carry;
    - `period_detention`, `period_fine_only`: the longest suspension, in months;
    - `report_cadence`: the longest interval between UEPE's reports, in months;
    - `lpu_min_days`, `lpu_day_max_hours`: the LPU part of the programme;
    - `final_report`, `revocation_notice`: terms counted back from a hearing;
    - `habitual_article`, `once_only_article`, `no_retry_article`: the exclusions.
    """

    since: date
    since_basis: str
    source: str
    detention_max_months: Bound
    period_detention: Bound
    period_fine_only: Bound
    report_cadence: Bound
    lpu_min_days: Bound
    lpu_day_max_hours: Bound
    final_report: BackwardTerm
    revocation_notice: BackwardTerm
    habitual_article: str
    once_only_article: str
    no_retry_article: str
    revocation_causes: tuple[RevocationCause, ...]
    until: date | None = None

    def in_force(self, on: date) -> bool:
        return self.since <= on and (self.until is None or on < self.until)

    def period_for(self, offence: Offence) -> Bound:
        """The longest suspension for `offence` (art. 464-quater co. 5 c.p.p.)."""
        return self.period_fine_only if offence.fine_only else self.period_detention


RULES: tuple[Rules, ...] = (
    Rules(
        since=MAP_IN_FORCE,
        since_basis=MAP_BASIS,
        source="artt. 168-bis - 168-quater c.p.; artt. 464-bis - 464-novies e 657-bis c.p.p.; "
        "art. 141-ter disp. att. c.p.p. (L. 67/2014)",
        detention_max_months=Bound(48, "art. 168-bis co. 1 c.p.", "4 anni"),
        period_detention=Bound(24, "art. 464-quater co. 5 lett. a c.p.p.", "2 anni"),
        period_fine_only=Bound(12, "art. 464-quater co. 5 lett. b c.p.p.", "1 anno"),
        report_cadence=Bound(3, "art. 141-ter co. 5 disp. att. c.p.p.", "3 mesi"),
        lpu_min_days=Bound(10, "art. 168-bis co. 3 c.p.", "10 giorni"),
        lpu_day_max_hours=Bound(8, "art. 168-bis co. 3 c.p.", "8 ore"),
        final_report=BackwardTerm(
            10,
            "art. 141-ter co. 5 disp. att. c.p.p.",
            whole_and_free=False,
            move_back_on_holiday=True,
        ),
        revocation_notice=BackwardTerm(10, "art. 464-octies co. 2 c.p.p.", whole_and_free=False),
        habitual_article="art. 168-bis co. 5 c.p.; artt. 102, 103, 104, 105 e 108 c.p.",
        once_only_article="art. 168-bis co. 4 c.p.",
        no_retry_article="art. 168-bis co. 4 c.p.; art. 464-novies c.p.p.",
        revocation_causes=(
            RevocationCause(
                "breach",
                "grave o reiterata trasgressione al programma di trattamento o alle "
                "prescrizioni imposte",
                "art. 168-quater n. 1 c.p.",
            ),
            RevocationCause(
                "lpu_refused",
                "rifiuto alla prestazione del lavoro di pubblica utilità",
                "art. 168-quater n. 1 c.p.",
            ),
            RevocationCause(
                "new_offence",
                "commissione, durante il periodo di prova, di un nuovo delitto non colposo "
                "ovvero di un reato della stessa indole rispetto a quello per cui si procede",
                "art. 168-quater n. 2 c.p.",
            ),
        ),
    ),
)


_Version = TypeVar("_Version", "Rules", "List550")


def _check_versions(versions: Sequence[_Version], what: str) -> None:
    """Versions in date order, none overlapping the next."""
    for earlier, later in pairwise(versions):
        if earlier.until is None or earlier.until > later.since:
            raise ValueError(f"{what}: versioni sovrapposte dal {later.since:%d/%m/%Y}")


def _version(versions: Sequence[_Version], on: date, what: str) -> _Version:
    for version in versions:
        if version.in_force(on):
            return version
    raise NotInForce(
        f"{what}: nessuna regola registrata per il {on:%d/%m/%Y} (la messa alla prova per "
        f"adulti vale dal {MAP_IN_FORCE:%d/%m/%Y}, {MAP_BASIS})"
    )


def rules_on(on: date) -> Rules:
    """The version of the rules of MAP in force on `on`."""
    return _version(RULES, on, "messa alla prova")


def latest_rules() -> Rules:
    return RULES[-1]


# The list of art. 550 co. 2 c.p.p. -------------------------------------------------------------
@dataclass(frozen=True)
class Listed:
    """An offence of art. 550 co. 2 c.p.p.: `key` as the payload names it, the list's letter,
    the article of the criminal code (`number` is the bare article number a request must
    mention), and the Italian description."""

    key: str
    letter: str
    article: str
    number: str
    description: str


@dataclass(frozen=True)
class List550:
    """One version of the list, in force on days `since <= day < until`."""

    since: date
    since_basis: str
    source: str
    entries: tuple[Listed, ...]
    until: date | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def in_force(self, on: date) -> bool:
        return self.since <= on and (self.until is None or on < self.until)

    def by_key(self) -> Mapping[str, Listed]:
        return {entry.key: entry for entry in self.entries}


_LIST_2014: tuple[Listed, ...] = (
    Listed(
        "violenza_minaccia_pu",
        "a",
        "art. 336 c.p.",
        "336",
        "violenza o minaccia a un pubblico ufficiale",
    ),
    Listed("resistenza_pu", "b", "art. 337 c.p.", "337", "resistenza a un pubblico ufficiale"),
    Listed(
        "oltraggio_magistrato_aggravato",
        "c",
        "art. 343 co. 2 c.p.",
        "343",
        "oltraggio a un magistrato in udienza aggravato",
    ),
    Listed(
        "violazione_sigilli_aggravata",
        "d",
        "art. 349 co. 2 c.p.",
        "349",
        "violazione di sigilli aggravata",
    ),
    Listed(
        "rissa_aggravata",
        "e",
        "art. 588 co. 2 c.p.",
        "588",
        "rissa aggravata, esclusi i casi in cui nella rissa taluno sia rimasto ucciso o abbia "
        "riportato lesioni gravi o gravissime",
    ),
    Listed("furto_aggravato", "f", "art. 625 c.p.", "625", "furto aggravato"),
    Listed("ricettazione", "g", "art. 648 c.p.", "648", "ricettazione"),
)
_ROAD_INJURIES = Listed(
    "lesioni_stradali",
    "e-bis",
    "art. 590-bis c.p.",
    "590-bis",
    "lesioni personali stradali, anche se aggravate",
)

LISTS_550: tuple[List550, ...] = (
    List550(
        since=MAP_IN_FORCE,
        since_basis=f"{MAP_BASIS}, che rinvia all'elenco (art. 168-bis co. 1 c.p.)",
        source=f"{ART550}, lettere a)-g) (seed 003)",
        entries=_LIST_2014,
        until=L41_2016,
    ),
    List550(
        since=L41_2016,
        since_basis="entrata in vigore della L. 23 marzo 2016 n. 41, che aggiunge la lett. e-bis",
        source=f"{ART550}, lettere a)-g) ed e-bis), testo anteriore al d.lgs. 150/2022",
        entries=(*_LIST_2014[:5], _ROAD_INJURIES, *_LIST_2014[5:]),
        notes=(
            "dal 30/12/2022 il d.lgs. 150/2022 ha esteso l'elenco: le aggiunte non sono registrate",
        ),
    ),
)
_check_versions(RULES, "regole della messa alla prova")
_check_versions(LISTS_550, f"elenco dell'{ART550}")


def list_550_on(on: date) -> List550:
    """The version of the list of art. 550 co. 2 c.p.p. in force on `on`."""
    return _version(LISTS_550, on, f"elenco dell'{ART550}")


# Eligibility ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Offence:
    """What a request states about the offence charged.

    - `article`: the charge as written ("art. 624 c.p.", "artt. 624, 625 co. 1 n. 2 c.p.");
    - `fine_only`: punished with a fine only (multa or ammenda);
    - `max_detention_months`: otherwise, the statutory maximum of the detention penalty, alone,
      joint with or alternative to a fine, in months. It is the caller's statement: the maximum
      of the basic offence, aggravating circumstances not counted (Cass. S.U. 36272/2016);
    - `listed_550`: a key of the list of art. 550 co. 2 c.p.p. (`LISTS_550`), if the offence is
      one of them; the key's article must appear in `article`.

    Exactly one of `fine_only` and `max_detention_months` describes the penalty."""

    article: str
    fine_only: bool
    max_detention_months: int | None
    listed_550: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.article, str) or not self.article.strip():
            raise ValueError("reato senza articolo: indicare la norma contestata")
        if not isinstance(self.fine_only, bool):
            raise TypeError("fine_only è un booleano")
        months = self.max_detention_months
        if months is not None and (isinstance(months, bool) or not isinstance(months, int)):
            raise TypeError(f"la pena detentiva massima è un intero di mesi, non {months!r}")
        if self.fine_only and months is not None:
            raise ValueError(
                f"{self.article}: un reato punito con la sola pena pecuniaria non ha pena "
                "detentiva massima"
            )
        if not self.fine_only and months is None:
            raise ValueError(
                f"{self.article}: indicare la pena detentiva massima in mesi, o la sola pena "
                "pecuniaria"
            )
        if months is not None and months < 1:
            raise ValueError(f"{self.article}: pena detentiva massima di {months} mesi")
        if self.listed_550 is not None and not self.listed_550.strip():
            raise ValueError("voce dell'elenco dell'art. 550 co. 2 c.p.p. vuota")


class Outcome(StrEnum):
    """What became of an earlier request for MAP of the same person.

    A request that was never granted (`REQUESTED`, pending; `REFUSED`, rejected or declared
    inadmissible) is no benefit and bars nothing. `ADMITTED` (suspension ordered), `RUNNING`
    (probation record signed) and `EXTINGUISHED` (positive outcome, offence extinguished) are a
    benefit: once only, unless connected. `FAILED` (negative outcome, art. 464-septies co. 2
    c.p.p.) and `REVOKED` (art. 168-quater c.p.) bar a new MAP with no override."""

    REQUESTED = "requested"
    REFUSED = "refused"
    ADMITTED = "admitted"
    RUNNING = "running"
    EXTINGUISHED = "extinguished"
    FAILED = "failed"
    REVOKED = "revoked"


NOT_GRANTED = frozenset({Outcome.REQUESTED, Outcome.REFUSED})
GRANTED = frozenset({Outcome.ADMITTED, Outcome.RUNNING, Outcome.EXTINGUISHED})
FAILED_OR_REVOKED = frozenset({Outcome.FAILED, Outcome.REVOKED})
OUTCOME_LABELS: Mapping[Outcome, str] = {
    Outcome.REQUESTED: "richiesta non ancora decisa",
    Outcome.REFUSED: "richiesta respinta",
    Outcome.ADMITTED: "ammessa",
    Outcome.RUNNING: "in corso",
    Outcome.EXTINGUISHED: "conclusa con esito positivo ed estinzione del reato",
    Outcome.FAILED: "conclusa con esito negativo",
    Outcome.REVOKED: "revocata",
}


@dataclass(frozen=True)
class EarlierProbation:
    """An earlier request for MAP of the same person: its `reference` (the case or proceeding
    number the officer knows it by) and what became of it."""

    reference: str
    outcome: Outcome

    def __post_init__(self) -> None:
        if not isinstance(self.reference, str) or not self.reference.strip():
            raise ValueError("messa alla prova precedente senza riferimento")
        if not isinstance(self.outcome, Outcome):
            raise TypeError(f"esito non valido: {self.outcome!r}")


@dataclass(frozen=True)
class ConnectionOverride:
    """An officer's override of the once-only rule (Corte cost. sent. 174/2022): the offences of
    this request are connected under art. 12 co. 1 lett. b c.p.p. (one action or omission, or one
    criminal design: concorso formale, reato continuato) with those of the earlier probations
    named in `references`, for the reason written in `ground`.

    It lifts the once-only refusal of exactly the earlier probations it names, each of which must
    be among the person's `earlier` ones and must have been granted. It lifts nothing else: not
    the offence's limits, not habitual offenders, not a probation that failed or was revoked. The
    connection itself is the officer's finding; this module checks that it names what it lifts."""

    references: tuple[str, ...]
    ground: str

    def __post_init__(self) -> None:
        if not self.references:
            raise ValueError("deroga senza messa alla prova precedente indicata come connessa")
        if any(not isinstance(ref, str) or not ref.strip() for ref in self.references):
            raise ValueError("deroga con un riferimento vuoto")
        if len(set(self.references)) != len(self.references):
            raise ValueError("deroga con riferimenti ripetuti")
        if not isinstance(self.ground, str) or not self.ground.strip():
            raise ValueError(
                "deroga senza motivo: indicare la connessione ai sensi dell'art. 12 co. 1 "
                "lett. b c.p.p."
            )


@dataclass(frozen=True)
class OverrideRule:
    """The ground on which the once-only rule may be overridden, and the day it holds from."""

    since: date
    since_basis: str
    article: str


CONNECTED_OFFENCES = OverrideRule(
    since=date(2022, 7, 12),
    since_basis="deposito della sentenza della Corte costituzionale 12 luglio 2022 n. 174",
    article="Corte cost. sent. 174/2022; art. 12 co. 1 lett. b c.p.p.",
)


class RefusalCode(StrEnum):
    """What a refusal is about: stable keys for the code that reads refusals."""

    OFFENCE_LIMIT = "offence_limit"
    NOT_LISTED = "not_listed_550"
    LISTED_MISMATCH = "listed_550_mismatch"
    HABITUAL = "habitual"
    ONCE_ONLY = "once_only"
    FAILED_OR_REVOKED = "failed_or_revoked"
    OVERRIDE = "override"


@dataclass(frozen=True)
class Refusal:
    """Why a request for MAP is refused: the payload `field` at fault, the `article`, and the
    Italian `message` (which names the article)."""

    code: RefusalCode
    field: str
    article: str
    message: str

    def __str__(self) -> str:
        return self.message


_ARTICLE_NUMBER = re.compile(r"\d+(?:-(?:bis|ter|quater|quinquies|sexies|septies|octies|novies))?")


def article_numbers(text: str) -> frozenset[str]:
    """The article numbers a charge mentions ("artt. 624, 625 co. 1 n. 2 c.p." -> 624, 625, 1,
    2): a listed offence's number must be among them."""
    return frozenset(_ARTICLE_NUMBER.findall(text.lower()))


def _offence_refusals(offence: Offence, on: date, rules: Rules) -> list[Refusal]:
    listed = list_550_on(on)
    if offence.listed_550 is not None:
        key = offence.listed_550.strip()
        entry = listed.by_key().get(key)
        if entry is None:
            return [_not_listed(key, on, listed)]
        if entry.number not in article_numbers(offence.article):
            return [
                Refusal(
                    RefusalCode.LISTED_MISMATCH,
                    "offence.listed_550",
                    ART550,
                    f"il reato contestato ({offence.article}) non corrisponde alla voce "
                    f"{key!r} dell'elenco dell'{ART550} ({entry.description}, {entry.article})",
                )
            ]
        return []  # listed: eligible whatever the penalty (art. 168-bis co. 1 c.p.)
    bound = rules.detention_max_months
    months = offence.max_detention_months
    if offence.fine_only or months is None or months <= bound.value:
        return []
    return [
        Refusal(
            RefusalCode.OFFENCE_LIMIT,
            "offence.max_detention_months",
            bound.article,
            f"{offence.article}: pena detentiva massima di {months} mesi, oltre {bound.text} "
            f"({bound.value} mesi); la messa alla prova è ammessa per i reati puniti con la "
            f"sola pena pecuniaria o con pena detentiva non superiore nel massimo a "
            f"{bound.text}, sola, congiunta o alternativa alla pena pecuniaria, e per i delitti "
            f"dell'{ART550} ({bound.article})",
        )
    ]


def _not_listed(key: str, on: date, listed: List550) -> Refusal:
    later = [
        version.since
        for version in LISTS_550
        if version.since > on and key in version.by_key() and key not in listed.by_key()
    ]
    known = ", ".join(listed.by_key())
    message = (
        f"voce {key!r} non compresa nell'elenco dell'{ART550} in vigore il {on:%d/%m/%Y} "
        f"(voci registrate: {known})"
    )
    if later:
        message += f"; nell'elenco dal {later[0]:%d/%m/%Y}"
    if on >= REFORM_2022:
        message += (
            "; le aggiunte del d.lgs. 150/2022 (in vigore dal 30/12/2022) non sono registrate: "
            "se il reato è tra queste, la verifica va fatta a mano"
        )
    return Refusal(RefusalCode.NOT_LISTED, "offence.listed_550", ART550, message)


def eligibility_refusals(
    offence: Offence,
    on: date,
    *,
    habitual: bool,
    earlier: Sequence[EarlierProbation] = (),
    override: ConnectionOverride | None = None,
) -> list[Refusal]:
    """Every reason a request for MAP about `offence`, decided on `on`, is refused; an empty list
    means the law admits it (the judge still decides on the programme).

    `habitual`: the person was declared a habitual, professional or by-tendency offender.
    `earlier`: the person's earlier requests for MAP, each with a distinct reference. `override`:
    the officer's finding that this request's offences are connected with those of some earlier
    probations (see `ConnectionOverride`): it lifts the once-only refusal of those it names,
    from 12 July 2022 (Corte cost. sent. 174/2022), and nothing else.

    Refusals come in this order: the offence, the habitual offender, each earlier probation in
    the order given, then the override's own faults."""
    rules = rules_on(on)
    if not isinstance(habitual, bool):
        raise TypeError("habitual è un booleano")
    references = [item.reference for item in earlier]
    if len(set(references)) != len(references):
        raise ValueError("messe alla prova precedenti con riferimenti ripetuti")
    refusals = _offence_refusals(offence, on, rules)
    if habitual:
        refusals.append(
            Refusal(
                RefusalCode.HABITUAL,
                "habitual",
                rules.habitual_article,
                "imputato dichiarato delinquente abituale, professionale o per tendenza: la "
                f"messa alla prova non si applica ({rules.habitual_article})",
            )
        )
    lifted, override_refusals = _override(override, on, earlier, rules)
    for item in earlier:
        label = OUTCOME_LABELS[item.outcome]
        if item.outcome in FAILED_OR_REVOKED:
            refusals.append(
                Refusal(
                    RefusalCode.FAILED_OR_REVOKED,
                    "earlier",
                    rules.no_retry_article,
                    f"messa alla prova {item.reference} {label}: chi, essendovi stato ammesso, "
                    "abbia avuto esito negativo o subito la revoca non può esservi ammesso di "
                    f"nuovo, senza deroghe ({rules.no_retry_article})",
                )
            )
        elif item.outcome in GRANTED and item.reference not in lifted:
            refusals.append(
                Refusal(
                    RefusalCode.ONCE_ONLY,
                    "earlier",
                    rules.once_only_article,
                    f"l'imputato ha già beneficiato della messa alla prova {item.reference} "
                    f"({label}): la sospensione non può essere concessa più di una volta "
                    f"({rules.once_only_article}), salvo per reati connessi ai sensi "
                    "dell'art. 12 co. 1 lett. b c.p.p. con quelli della prova precedente "
                    f"({CONNECTED_OFFENCES.article})",
                )
            )
    return refusals + override_refusals


def _override(
    override: ConnectionOverride | None,
    on: date,
    earlier: Sequence[EarlierProbation],
    rules: Rules,
) -> tuple[frozenset[str], list[Refusal]]:
    """The references whose once-only refusal the override lifts, and the override's faults."""
    if override is None:
        return frozenset(), []
    article = CONNECTED_OFFENCES.article
    if on < CONNECTED_OFFENCES.since:
        return frozenset(), [
            Refusal(
                RefusalCode.OVERRIDE,
                "override",
                article,
                f"deroga per connessione non ammessa il {on:%d/%m/%Y}: vale dal "
                f"{CONNECTED_OFFENCES.since:%d/%m/%Y}, {CONNECTED_OFFENCES.since_basis} "
                f"({article})",
            )
        ]
    by_reference = {item.reference: item for item in earlier}
    known = ", ".join(by_reference) or "nessuna"
    lifted: set[str] = set()
    refusals: list[Refusal] = []
    for reference in override.references:
        item = by_reference.get(reference)
        cited = article
        if item is None:
            reason = (
                f"la deroga indica come connessa la messa alla prova {reference}, che non è tra "
                f"quelle precedenti dell'imputato (registrate: {known})"
            )
        elif item.outcome in FAILED_OR_REVOKED:
            cited = rules.no_retry_article
            reason = (
                f"la deroga non si applica alla messa alla prova {reference} "
                f"({OUTCOME_LABELS[item.outcome]}): l'esito negativo e la revoca non ammettono "
                "deroghe, neppure per reati connessi"
            )
        elif item.outcome in NOT_GRANTED:
            reason = (
                f"la messa alla prova {reference} non è stata concessa "
                f"({OUTCOME_LABELS[item.outcome]}): non c'è divieto da derogare"
            )
        else:
            lifted.add(reference)
            continue
        refusals.append(Refusal(RefusalCode.OVERRIDE, "override", cited, f"{reason} ({cited})"))
    return frozenset(lifted), refusals


# Durations, reports, LPU ---------------------------------------------------------------------
def _count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: un intero, non {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} negativi: {value}")
    return value


def _span(months: int, days: int) -> str:
    parts = []
    if months:
        parts.append("1 mese" if months == 1 else f"{months} mesi")
    if days:
        parts.append(_days(days))
    return " e ".join(parts) or "0 giorni"


def _days(days: int) -> str:
    return "1 giorno" if days == 1 else f"{days} giorni"


def _period_refusal(
    what: str, months: int, days: int, bound: Bound, start: date | None, context: str = ""
) -> str | None:
    """None if `months` and `days` stay within `bound` months, else why not (see the module's
    docstring: exact on the calendar from `start`, or for every start without it)."""
    months, days = _count(months, "mesi"), _count(days, "giorni")
    span = _span(months, days)
    limit = f"{bound.text}{context} ({bound.article})"
    if months == 0 and days == 0:
        return f"{what} di 0 giorni: indicare una durata di almeno un giorno ({bound.article})"
    if start is not None:
        end = add_months(start, months) + timedelta(days=days)
        bound_end = add_months(start, bound.value)
        if end <= bound_end:
            return None
        return (
            f"{what} di {span} dal {start:%d/%m/%Y}: termina il {end:%d/%m/%Y}, oltre il "
            f"{bound_end:%d/%m/%Y}; massimo {limit}"
        )
    if months > bound.value or (months == bound.value and days > 0):
        return f"{what} di {span}: oltre il massimo di {limit}"
    spare = SHORTEST_MONTH_DAYS * (bound.value - months)
    if days <= spare:
        return None
    return (
        f"{what} di {span}: secondo il giorno di inizio può superare il massimo di {limit}; "
        f"indicare la data di inizio o al più {_days(spare)} oltre {_span(months, 0)}"
    )


def max_period(offence: Offence, on: date | None = None) -> Bound:
    """The longest suspension for `offence` under the rules in force on `on` (the latest when
    None): 2 years for offences punished with detention, 1 year for fine-only ones."""
    rules = latest_rules() if on is None else rules_on(on)
    return rules.period_for(offence)


def duration_refusal(
    offence: Offence,
    months: int,
    days: int = 0,
    *,
    start: date | None = None,
    on: date | None = None,
) -> str | None:
    """None if a suspension of `months` and `days` fits art. 464-quater co. 5 c.p.p. for
    `offence`, else why not, in Italian, naming the article and the bound. `start`: the day the
    period runs from, when known (the signature of the probation record); `on`: the day of the
    order (the latest rules when None)."""
    bound = max_period(offence, on)
    kind = (
        "per i reati puniti con la sola pena pecuniaria"
        if offence.fine_only
        else "per i reati puniti con pena detentiva, sola, congiunta o alternativa"
    )
    return _period_refusal(
        "sospensione del procedimento", months, days, bound, start, context=f" {kind}"
    )


def report_cadence_refusal(months: int, days: int = 0, *, on: date | None = None) -> str | None:
    """None if UEPE's reports at most `months` and `days` apart keep the law's cadence (never
    more than three months apart), else why not."""
    rules = latest_rules() if on is None else rules_on(on)
    return _period_refusal(
        "cadenza delle relazioni dell'UEPE",
        months,
        days,
        rules.report_cadence,
        None,
        context=" tra una relazione e la successiva",
    )


def lpu_days_refusal(days: int, *, on: date | None = None) -> str | None:
    """None if an LPU part of `days` days meets the minimum (10 days, not necessarily
    consecutive), else why not."""
    rules = latest_rules() if on is None else rules_on(on)
    bound = rules.lpu_min_days
    if _count(days, "giorni di LPU") >= bound.value:
        return None
    return (
        f"lavoro di pubblica utilità di {_days(days)}: almeno {bound.text}, anche non "
        f"continuativi ({bound.article})"
    )


def lpu_hours_refusal(hours: Decimal, *, on: date | None = None) -> str | None:
    """None if `hours` of LPU in one day stay within the limit (8 hours a day), else why not."""
    if isinstance(hours, float | bool) or not isinstance(hours, Decimal | int):
        raise TypeError("le ore di LPU sono Decimal, mai float")
    value = Decimal(hours)
    if not value.is_finite() or value < 0:
        raise ValueError(f"ore di LPU non valide: {hours}")
    rules = latest_rules() if on is None else rules_on(on)
    bound = rules.lpu_day_max_hours
    if value <= bound.value:
        return None
    return (
        f"{value} ore di lavoro di pubblica utilità in un giorno: al massimo {bound.text} "
        f"({bound.article})"
    )


# Terms counted back from a hearing -----------------------------------------------------------
def final_report_last_day(hearing_on: date) -> date:
    """The last day on which UEPE's final report keeps the term: at least 10 whole and free days
    before the final hearing (art. 141-ter co. 5 disp. att. c.p.p.; art. 172 co. 5 c.p.p.), i.e.
    `hearing_on` - 11 days; if that day is a holiday (machines.calendar), the working day before
    it, which keeps the "at least" safe."""
    return rules_on(hearing_on).final_report.last_day(hearing_on)


def revocation_notice_refusal(notified_on: date, hearing_on: date) -> str | None:
    """None if the notice of the revocation hearing, given on `notified_on`, leaves at least 10
    whole and free days before `hearing_on` (art. 464-octies co. 2 c.p.p.; art. 172 co. 5
    c.p.p.), else why not, naming both dates and the article."""
    term = rules_on(hearing_on).revocation_notice
    given = term.days_before(notified_on, hearing_on)
    if given >= term.days:
        return None
    if given <= 0:
        room = "nessun giorno"
    elif not term.whole_and_free:
        room = _days(given)
    else:
        room = "1 giorno libero" if given == 1 else f"{given} giorni liberi"
    return (
        f"avviso dell'udienza di revoca del {hearing_on:%d/%m/%Y} dato il "
        f"{notified_on:%d/%m/%Y}: {room} prima dell'udienza, ne occorrono almeno {term.days} "
        f"({term.counting()}); ultimo giorno utile {term.last_day(hearing_on):%d/%m/%Y} "
        f"({term.article})"
    )


# Revocation ----------------------------------------------------------------------------------
def revocation_causes(on: date | None = None) -> Mapping[str, RevocationCause]:
    """The causes of revocation (art. 168-quater c.p.) in force on `on`, by key."""
    rules = latest_rules() if on is None else rules_on(on)
    return {cause.key: cause for cause in rules.revocation_causes}


def revocation_cause(key: str, on: date | None = None) -> RevocationCause:
    """The cause of revocation `key`; an unknown key is refused naming the known ones."""
    causes = revocation_causes(on)
    cause = causes.get(key)
    if cause is None:
        raise ValueError(
            f"causa di revoca sconosciuta {key!r}: le cause note sono {', '.join(causes)} "
            "(art. 168-quater c.p.)"
        )
    return cause


# Art. 657-bis c.p.p. -------------------------------------------------------------------------
@dataclass(frozen=True)
class CreditRate:
    """The equivalence in force from `since`: `probation_days` of probation = `detention_days` of
    detention (reclusione or arresto) or `fine_euros` of fine (multa or ammenda)."""

    since: date
    probation_days: int
    detention_days: int
    fine_euros: Decimal
    source: str
    article: str = "art. 657-bis c.p.p."


CREDIT_RATES: tuple[CreditRate, ...] = (
    CreditRate(
        MAP_IN_FORCE,
        3,
        1,
        Decimal(250),
        "art. 657-bis c.p.p., introdotto dalla L. 67/2014, in vigore dal 17/05/2014",
    ),
)


@dataclass(frozen=True)
class Credit:
    """What the probation served is worth (art. 657-bis c.p.p.): days of detention, or euros of
    fine (alternatives, not a sum), the days left over that make no whole group, the rate, and
    the computation in Italian (`detail`)."""

    days_served: int
    detention_days: int
    fine: Decimal
    remainder_days: int
    rate: CreditRate
    detail: str


def credit_rate_on(on: date) -> CreditRate:
    """The equivalence of art. 657-bis c.p.p. in force on `on`."""
    found = [rate for rate in CREDIT_RATES if rate.since <= on]
    if not found:
        raise NotInForce(
            f"nessun ragguaglio dell'art. 657-bis c.p.p. registrato prima del "
            f"{CREDIT_RATES[0].since:%d/%m/%Y} (richiesto il {on:%d/%m/%Y})"
        )
    return found[-1]


def probation_credit(days_served: int, on: date | None = None) -> Credit:
    """The value of `days_served` days of probation at the rate in force on `on` (the latest
    when None): each whole group of 3 days is 1 day of detention or EUR 250 of fine; the 0-2
    days left over are shown, not converted (the law names no fraction)."""
    served = _count(days_served, "giorni di prova")
    if served > DAYS_SERVED_MAX:
        raise ValueError(f"{served} giorni di prova: oltre il massimo di {DAYS_SERVED_MAX}")
    rate = CREDIT_RATES[-1] if on is None else credit_rate_on(on)
    groups, remainder = divmod(served, rate.probation_days)
    detention = groups * rate.detention_days
    fine = (groups * rate.fine_euros).quantize(Decimal("0.01"))
    detail = (
        f"{_days(served)} di prova = {_days(detention)} di reclusione o arresto, ovvero "
        f"EUR {fine} di multa o ammenda ({rate.probation_days} giorni di prova = "
        f"{_days(rate.detention_days)} o EUR {rate.fine_euros}, {rate.article})"
    )
    if remainder == 1:
        detail += f"; 1 giorno residuo, meno di {rate.probation_days}, non è computato"
    elif remainder:
        detail += f"; {remainder} giorni residui, meno di {rate.probation_days}, non sono computati"
    return Credit(served, detention, fine, remainder, rate, detail)
