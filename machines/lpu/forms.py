"""The legal forms of unpaid community work (lavoro di pubblica utilità, LPU) as dated data
(DOMAIN.md section 4; seed 003 lists forms A-I and L-N, before the 2022 reform).

Each form differs by the law that imposes it: who imposes it, how long it lasts, how many hours
a day and a week, who signs the host entity's convention, where breaches go, what a positive
completion does. Each version of a form names its source article and the day it holds from
(`since`) and, once superseded, the first day it no longer holds (`until`): a change of law is a
new row here, not a change of the code that reads it.

The dates. Where the entry into force is known it is used: art. 54 d.lgs. 274/2000 from
2 January 2002 (the criminal jurisdiction of the justice of the peace); MAP from 17 May 2014
(L. 67/2014); the 2022 reform (d.lgs. 150/2022) from 30 December 2022 (art. 99-bis, added by
D.L. 162/2022). Otherwise `since` is the date of the act the seed names (a law's entry into
force follows its date by days): each version says which in `since_basis`. All of them lie
years before any case this system will hold; the one that matters in practice is 30 December
2022, when the old conversion of unpaid fines into work (form A, art. 105 L. 689/1981) gave way
to substitute LPU (form S, art. 56-bis L. 689/1981 as reformed).

Hours. `hours_refusal` checks one day's entry of an attendance register against the form's
limits. Its totals include the entry being checked. The week is the ISO week, Monday to
Sunday, containing the day (the law says "settimanale" and names no other week; a Monday start
is the civil and the payroll week in Italy). Form A ("una giornata lavorativa per settimana,
salvo che il condannato chieda ... una maggiore frequenza", art. 105 L. 689/1981) is modelled
as: without the person's request (`authorised`) every hour of the week falls on one day, so a
week total above the day's total means a second working day; the law sets no hour limit to that
day, and none is invented here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

HOURS_IN_A_DAY = Decimal(24)  # what no register can hold for one day, whatever the form
DAYS_IN_A_WEEK = 7  # the law excludes no day of the week from the work (Saturday is not a
# holiday in criminal matters; Sunday is not excluded either): the planning below uses all seven

ART54 = "d.lgs. 274/2000"
CDS = "C.d.S."
TRIBUNAL_CONVENTION = (
    "Ministero della giustizia o, per delega, Presidente del Tribunale (D.M. 26 marzo 2001; "
    "convenzione di durata massima 5 anni)"
)
REFORM_2022 = date(2022, 12, 30)  # d.lgs. 150/2022 in force (art. 99-bis, D.L. 162/2022)
REFORM_2022_BASIS = "entrata in vigore del d.lgs. 150/2022 (art. 99-bis, D.L. 162/2022)"


class UnknownForm(ValueError):
    """A form code that is not recorded, or no version of it in force on the day asked."""


@dataclass(frozen=True)
class Cap:
    """A limit in hours and the article that sets it."""

    hours: Decimal
    article: str


@dataclass(frozen=True)
class Hours:
    """A form's hour limits.

    - `day_max`: never exceeded in one day, authorised or not;
    - `week_default`: the weekly limit without authorisation, lifted by `lifted_by`;
    - `week_max`: never exceeded in one week (with authorisation, where `week_default` is set);
    - `week_min`: the least a week must hold: a planning constraint, not checked entry by entry
      (a week is judged only once it is over);
    - `working_days_per_week`: at most this many days with work in a week (form A), lifted by
      `lifted_by`.
    """

    day_max: Cap | None = None
    week_default: Cap | None = None
    week_max: Cap | None = None
    week_min: Cap | None = None
    working_days_per_week: int | None = None
    working_days_article: str | None = None
    lifted_by: str | None = None


@dataclass(frozen=True)
class Duration:
    """How long the work lasts: the rule in words, its article, and the bounds the law gives in
    days or months (a repeat offender's minimum for art. 224-bis C.d.S.)."""

    rule: str
    article: str
    min_days: int | None = None
    max_days: int | None = None
    min_months: int | None = None
    max_months: int | None = None
    repeat_offender_min_months: int | None = None


@dataclass(frozen=True)
class Form:
    """One version of one form: `code` as in DOMAIN.md section 4 (A-I, L-N; S for the substitute
    LPU of the 2022 reform), in force on days `since <= day < until`."""

    code: str
    name: str
    source: str
    since: date
    since_basis: str
    imposed_by: str
    duration: Duration
    hours: Hours
    convention_with: str
    breach_reported_to: str
    on_completion: str
    until: date | None = None
    superseded_by: str | None = None
    checked_by: str | None = None
    max_times: int | None = None
    max_times_article: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def in_force(self, on: date) -> bool:
        return self.since <= on and (self.until is None or on < self.until)


def _art54_hours(via: str | None = None) -> Hours:
    """The limits of art. 54 d.lgs. 274/2000, which other forms borrow ("secondo le modalità ivi
    previste"): 6 hours a week, more if the person asks and the judge allows it (co. 3), never
    over 8 a day (co. 4); never over 40 a week (seed 003: not in the article's text)."""
    also = "" if via is None else f", richiamato da {via}"
    return Hours(
        day_max=Cap(Decimal(8), f"art. 54 co. 4 {ART54}{also}"),
        week_default=Cap(Decimal(6), f"art. 54 co. 3 {ART54}{also}"),
        week_max=Cap(Decimal(40), f"art. 54 co. 3 {ART54}{also}; limite di 40 ore: seed 003"),
        lifted_by="richiesta del condannato e autorizzazione del giudice",
    )


def _road(code: str, article: str, offence: str, accident: str) -> Form:
    """H and I: the same substitution for drunk (art. 186) and drugged (art. 187) driving."""
    return Form(
        code=code,
        name=f"LPU sostitutivo dell'arresto e dell'ammenda per {offence}",
        source=article,
        since=date(2010, 7, 29),
        since_basis="data della L. 29 luglio 2010 n. 120, che ha introdotto la sostituzione",
        imposed_by=(
            "giudice, con la sentenza o il decreto penale di condanna, se l'imputato non si "
            f"oppone ({article})"
        ),
        duration=Duration(
            "pari alla pena detentiva irrogata più la pena pecuniaria ragguagliata "
            "(EUR 250 = 1 giorno; 1 giorno = 2 ore)",
            article,
        ),
        hours=_art54_hours(article),
        convention_with=TRIBUNAL_CONVENTION,
        breach_reported_to=(
            "autorità di pubblica sicurezza indicata in sentenza; il giudice può revocare la "
            "sostituzione e ripristinare la pena sostituita, la sospensione della patente e la "
            f"confisca ({article}; seed 003)"
        ),
        on_completion=(
            "il giudice dichiara estinto il reato, riduce alla metà la sospensione della patente "
            f"e revoca la confisca del veicolo ({article})"
        ),
        checked_by=f"UEPE o organi di polizia incaricati dal giudice ({article})",
        max_times=1,
        max_times_article=article,
        notes=(
            "l'imputato non deve opporsi alla sostituzione",
            f"esclusa se il conducente ha provocato un incidente stradale ({accident})",
            "attività in via prioritaria nel campo della sicurezza e dell'educazione stradale, "
            "anche presso centri specializzati di lotta alle dipendenze",
        ),
    )


_VERSIONS: tuple[Form, ...] = (
    Form(
        code="A",
        name="LPU come lavoro sostitutivo di pene pecuniarie non eseguite per insolvibilità",
        source="art. 105 L. 689/1981, testo anteriore al d.lgs. 150/2022",
        since=date(1981, 11, 24),
        since_basis="data della L. 24 novembre 1981 n. 689",
        until=REFORM_2022,
        superseded_by="S",
        imposed_by=(
            "magistrato di sorveglianza, che converte la pena pecuniaria non eseguita per "
            "insolvibilità del condannato (artt. 102-105 L. 689/1981)"
        ),
        duration=Duration(
            "secondo il ragguaglio della pena pecuniaria convertita", "art. 102 L. 689/1981"
        ),
        hours=Hours(
            working_days_per_week=1,
            working_days_article="art. 105 L. 689/1981",
            lifted_by="richiesta del condannato",
        ),
        convention_with=(
            "Ministero della giustizia o, per delega, magistrato di sorveglianza "
            "(art. 105 L. 689/1981)"
        ),
        breach_reported_to="magistrato di sorveglianza che ha disposto la conversione",
        on_completion="pena pecuniaria convertita eseguita",
        notes=(
            "anche presso organizzazioni o corpi di istruzione, protezione civile, tutela "
            "dell'ambiente naturale o incremento del patrimonio forestale",
            "dal 30 dicembre 2022 la pena pecuniaria non eseguita per insolvibilità si converte "
            "nel lavoro di pubblica utilità sostitutivo (forma S)",
        ),
    ),
    Form(
        code="B",
        name=(
            "LPU come pena accessoria per reati di discriminazione, odio o violenza per motivi "
            "razziali, etnici o religiosi"
        ),
        source="art. 1 D.L. 122/1993, conv. L. 205/1993",
        since=date(1993, 6, 25),
        since_basis="data della L. 25 giugno 1993 n. 205, di conversione del D.L. 122/1993",
        imposed_by="giudice della condanna, come pena accessoria (D.L. 122/1993)",
        duration=Duration("fissata dal giudice nella sentenza", "art. 1 D.L. 122/1993"),
        hours=Hours(week_max=Cap(Decimal(12), "art. 1 D.L. 122/1993, conv. L. 205/1993")),
        convention_with="strutture pubbliche o enti e organizzazioni private (seed 003)",
        breach_reported_to="autorità indicata in sentenza (seed 003)",
        on_completion="pena accessoria eseguita",
        notes=(
            "anche bonifica e restauro di edifici danneggiati con scritte o simboli di odio, "
            "attività per persone vulnerabili, protezione civile, tutela del patrimonio",
        ),
    ),
    Form(
        code="C",
        name=(
            "LPU come pena accessoria per porto abusivo di armi o partecipazione a volto "
            "coperto a manifestazioni sportive"
        ),
        source="art. 6 co. 7 L. 401/1989, come modificato dal D.L. 8/2007 conv. L. 41/2007",
        since=date(2007, 2, 8),
        since_basis="data del D.L. 8 febbraio 2007 n. 8",
        imposed_by="giudice della condanna, come pena accessoria (D.L. 8/2007)",
        duration=Duration("fissata dal giudice nella sentenza", "D.L. 8/2007"),
        hours=Hours(week_max=Cap(Decimal(12), "D.L. 8/2007, con la disciplina del D.L. 122/1993")),
        convention_with="strutture pubbliche o enti e organizzazioni private (seed 003)",
        breach_reported_to="autorità indicata in sentenza (seed 003)",
        on_completion="pena accessoria eseguita",
        notes=("stessa disciplina della forma B (seed 003)",),
    ),
    Form(
        code="D",
        name="LPU come pena principale applicata dal giudice di pace",
        source=f"art. 54 {ART54}",
        since=date(2002, 1, 2),
        since_basis="entrata in vigore della competenza penale del giudice di pace",
        imposed_by=f"giudice di pace, solo su richiesta dell'imputato (art. 54 co. 1 {ART54})",
        duration=Duration(
            "da 10 giorni a 6 mesi", f"art. 54 co. 2 {ART54}", min_days=10, max_months=6
        ),
        hours=_art54_hours(),
        convention_with=TRIBUNAL_CONVENTION,
        breach_reported_to=(
            f"autorità indicata in sentenza; la violazione degli obblighi è reato (art. 56 {ART54})"
        ),
        on_completion="pena eseguita",
        notes=(
            "nella provincia di residenza, con modalità compatibili con lavoro, studio, famiglia "
            f"e salute del condannato (art. 54 co. 3 {ART54})",
            "attività previste dal D.M. 26 marzo 2001",
        ),
    ),
    Form(
        code="E",
        name="LPU come condizione della sospensione condizionale della pena",
        source="art. 165 c.p., come modificato dalla L. 145/2004",
        since=date(2004, 6, 11),
        since_basis="data della L. 11 giugno 2004 n. 145",
        imposed_by=(
            "giudice che concede la sospensione condizionale, se il condannato non si oppone "
            "(art. 165 co. 1 c.p.)"
        ),
        duration=Duration(
            "per un tempo determinato, non superiore alla durata della pena sospesa",
            "art. 165 co. 1 c.p.",
        ),
        hours=Hours(),
        convention_with=TRIBUNAL_CONVENTION,
        breach_reported_to="giudice dell'esecuzione: l'inadempimento revoca la sospensione",
        on_completion="condizione della sospensione condizionale adempiuta",
        notes=("modalità indicate dal giudice nella sentenza (art. 165 co. 1 c.p.)",),
    ),
    Form(
        code="F",
        name="LPU come pena sostitutiva per fatti di lieve entità in materia di stupefacenti",
        source="art. 73 co. 5-bis D.P.R. 309/1990",
        since=date(2006, 2, 21),
        since_basis=(
            "data della L. 21 febbraio 2006 n. 49, di conversione del D.L. 272/2005 (art. 4-bis)"
        ),
        imposed_by=(
            "giudice della condanna, su richiesta dell'imputato tossicodipendente o assuntore "
            "(art. 73 co. 5-bis D.P.R. 309/1990)"
        ),
        duration=Duration(
            "pari alla pena detentiva sostituita", "art. 73 co. 5-bis D.P.R. 309/1990"
        ),
        hours=_art54_hours("art. 73 co. 5-bis D.P.R. 309/1990"),
        convention_with=TRIBUNAL_CONVENTION,
        breach_reported_to=(
            "UEPE, che ne verifica lo svolgimento; il giudice revoca la pena sostitutiva e "
            "ripristina la pena detentiva"
        ),
        on_completion="pena sostitutiva eseguita",
        checked_by="UEPE (art. 73 co. 5-bis D.P.R. 309/1990)",
        max_times=2,
        max_times_article="art. 73 co. 5-bis D.P.R. 309/1990",
        notes=(
            "condotta di lieve entità (art. 73 co. 5 D.P.R. 309/1990)",
            "anche presso comunità terapeutiche",
        ),
    ),
    Form(
        code="G",
        name=(
            "LPU come sanzione amministrativa accessoria per delitto colposo commesso con "
            "violazione del codice della strada"
        ),
        source=f"art. 224-bis {CDS}",
        since=date(2006, 2, 21),
        since_basis="data della L. 21 febbraio 2006 n. 102, che ha introdotto l'articolo",
        imposed_by=(
            "giudice della condanna alla reclusione per un delitto colposo commesso con "
            f"violazione del codice della strada (art. 224-bis co. 1 {CDS})"
        ),
        duration=Duration(
            "da 1 a 6 mesi; almeno 3 mesi in caso di recidiva (art. 99 co. 2 c.p.)",
            f"art. 224-bis co. 2 {CDS}",
            min_months=1,
            max_months=6,
            repeat_offender_min_months=3,
        ),
        hours=Hours(
            day_max=Cap(Decimal(8), f"art. 224-bis co. 5 {CDS}"),
            week_default=Cap(Decimal(6), f"art. 224-bis co. 4 {CDS}"),
            lifted_by="richiesta del condannato e ammissione del giudice",
        ),
        convention_with=TRIBUNAL_CONVENTION,
        breach_reported_to=(
            f"autorità indicata in sentenza; si applica l'art. 56 {ART54} "
            f"(art. 224-bis co. 6 {CDS})"
        ),
        on_completion="sanzione amministrativa accessoria eseguita",
        notes=(
            "il seed 003 scrive «reato non colposo»; l'art. 224-bis co. 1 dice «delitto colposo»",
        ),
    ),
    _road(
        "H", f"art. 186 co. 9-bis {CDS}", "guida in stato di ebbrezza", f"art. 186 co. 2-bis {CDS}"
    ),
    _road(
        "I",
        f"art. 187 co. 8-bis {CDS}",
        "guida dopo l'assunzione di sostanze stupefacenti",
        "seed 003",
    ),
    Form(
        code="L",
        name="LPU come pena sostitutiva per reati commessi da persona tossicodipendente",
        source="art. 73 co. 5-ter D.P.R. 309/1990",
        since=date(2013, 8, 9),
        since_basis="data della L. 9 agosto 2013 n. 94, di conversione del D.L. 78/2013",
        imposed_by=(
            "giudice della condanna, su richiesta dell'imputato tossicodipendente o assuntore "
            "abituale (art. 73 co. 5-ter, con la disciplina del co. 5-bis D.P.R. 309/1990)"
        ),
        duration=Duration(
            "pari alla pena detentiva sostituita", "art. 73 co. 5-bis e 5-ter D.P.R. 309/1990"
        ),
        hours=_art54_hours("art. 73 co. 5-ter D.P.R. 309/1990"),
        convention_with=TRIBUNAL_CONVENTION,
        breach_reported_to=(
            "UEPE, che ne verifica lo svolgimento; il giudice revoca la pena sostitutiva e "
            "ripristina la pena detentiva"
        ),
        on_completion="pena sostitutiva eseguita",
        checked_by="UEPE (art. 73 co. 5-bis D.P.R. 309/1990)",
        notes=(
            "esclusi omicidio, gravi figure di rapina, estorsione e sequestro a scopo di "
            "estorsione (seed 003)",
        ),
    ),
    Form(
        code="M",
        name="LPU volontario e gratuito di detenuti e internati",
        source="art. 21 co. 4-ter L. 354/1975 (ordinamento penitenziario)",
        since=date(2013, 8, 9),
        since_basis="data della L. 9 agosto 2013 n. 94, di conversione del D.L. 78/2013",
        imposed_by="amministrazione penitenziaria, su base volontaria del detenuto o internato",
        duration=Duration("secondo il progetto di pubblica utilità", "art. 21 co. 4-ter O.P."),
        hours=Hours(),
        convention_with="progetti di pubblica utilità dell'amministrazione penitenziaria",
        breach_reported_to="direzione dell'istituto",
        on_completion="nessun effetto sulla pena: partecipazione al trattamento",
        notes=("attività volontaria e gratuita in favore della collettività",),
    ),
    Form(
        code="N",
        name="LPU nella sospensione del procedimento con messa alla prova (MAP)",
        source="art. 168-bis co. 3 c.p. (L. 67/2014)",
        since=date(2014, 5, 17),
        since_basis="entrata in vigore della L. 28 aprile 2014 n. 67",
        imposed_by=(
            "giudice che sospende il procedimento con messa alla prova, sul programma dell'UEPE "
            "con il consenso dell'imputato (art. 464-quater c.p.p.)"
        ),
        duration=Duration(
            "almeno 10 giorni, anche non continuativi", "art. 168-bis co. 3 c.p.", min_days=10
        ),
        hours=Hours(day_max=Cap(Decimal(8), "art. 168-bis co. 3 c.p.")),
        convention_with=(
            "Ministero della giustizia o, per delega, Presidente del Tribunale "
            "(D.M. 8 giugno 2015 n. 88)"
        ),
        breach_reported_to=(
            "UEPE, che riferisce al giudice: il rifiuto del LPU e le trasgressioni gravi o "
            "reiterate revocano la sospensione (art. 168-quater c.p.)"
        ),
        on_completion="con l'esito positivo della prova il giudice dichiara estinto il reato",
        checked_by="UEPE",
        notes=("parte necessaria del programma di messa alla prova",),
    ),
    Form(
        code="S",
        name="lavoro di pubblica utilità sostitutivo",
        source="art. 56-bis L. 689/1981, come riformato dal d.lgs. 150/2022",
        since=REFORM_2022,
        since_basis=REFORM_2022_BASIS,
        imposed_by=(
            "giudice della condanna, in sostituzione di una pena detentiva breve (art. 20-bis "
            "c.p.); o nella conversione della pena pecuniaria non eseguita per insolvibilità"
        ),
        duration=Duration(
            "pari alla pena sostituita (1 giorno = 2 ore)", "art. 56-bis L. 689/1981"
        ),
        hours=Hours(
            day_max=Cap(Decimal(8), "art. 56-bis L. 689/1981"),
            week_max=Cap(Decimal(15), "art. 56-bis L. 689/1981"),
            week_min=Cap(Decimal(6), "art. 56-bis L. 689/1981"),
        ),
        convention_with=TRIBUNAL_CONVENTION,
        breach_reported_to=(
            "UEPE e organi incaricati dei controlli; il giudice può revocare la pena sostitutiva "
            "(L. 689/1981 come riformata dal d.lgs. 150/2022)"
        ),
        on_completion="pena sostitutiva eseguita",
        checked_by="UEPE",
        notes=(
            "almeno 6 ore a settimana: vincolo del calendario, non della singola registrazione",
        ),
    ),
)


def _registry(versions: tuple[Form, ...]) -> dict[str, tuple[Form, ...]]:
    """Code -> versions in date order, refusing overlapping versions of a code."""
    found: dict[str, list[Form]] = {}
    for form in sorted(versions, key=lambda form: (form.code, form.since)):
        earlier = found.setdefault(form.code, [])
        if earlier and (earlier[-1].until is None or earlier[-1].until > form.since):
            raise ValueError(f"forma {form.code}: versioni sovrapposte dal {form.since}")
        earlier.append(form)
    return {code: tuple(forms) for code, forms in found.items()}


FORMS: Mapping[str, tuple[Form, ...]] = _registry(_VERSIONS)
CODES: tuple[str, ...] = tuple(FORMS)


def form_in_force(code: str, on: date) -> Form:
    """The version of form `code` in force on `on`; an unknown code, or a day no version covers,
    is refused naming what is known."""
    key = code.strip().upper()
    versions = FORMS.get(key)
    if versions is None:
        raise UnknownForm(f"forma LPU sconosciuta {code!r}: le forme note sono {', '.join(CODES)}")
    for form in versions:
        if form.in_force(on):
            return form
    spans = "; ".join(_span(form) for form in versions)
    raise UnknownForm(f"forma LPU {key} non in vigore il {on:%d/%m/%Y}: {spans}")


def forms_in_force(on: date) -> tuple[Form, ...]:
    """Every form in force on `on`, in code order."""
    return tuple(form for versions in FORMS.values() for form in versions if form.in_force(on))


def _span(form: Form) -> str:
    text = f"{form.source} in vigore dal {form.since:%d/%m/%Y}"
    if form.until is not None:
        text += f" al {form.until - timedelta(days=1):%d/%m/%Y}"
    if form.superseded_by is not None:
        text += f", poi forma {form.superseded_by}"
    return text


def _hours(value: Decimal, name: str) -> Decimal:
    if isinstance(value, float | bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"le ore ({name}) sono Decimal, mai float")
    hours = Decimal(value)
    if not hours.is_finite() or hours < 0:
        raise ValueError(f"ore ({name}) non valide: {value}")
    return hours


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def hours_refusal(
    form: Form, day: date, hours_that_day: Decimal, hours_that_week: Decimal, authorised: bool
) -> str | None:
    """None if a register entry fits the form's limits, else why not, in Italian, naming the
    limit and its article.

    `hours_that_day` and `hours_that_week` are the totals of `day` and of its ISO week (Monday
    to Sunday) with the entry included. `authorised` is what lifts the form's ordinary limit:
    the person's request and the judge's authorisation (art. 54 co. 3 d.lgs. 274/2000 and the
    forms that borrow it, art. 224-bis co. 4 C.d.S.), or for form A the person's request for
    more than one working day a week (art. 105 L. 689/1981). Absolute limits (8 hours a day,
    40 or 15 or 12 a week) hold either way."""
    day_total = _hours(hours_that_day, "del giorno")
    week_total = _hours(hours_that_week, "della settimana")
    if day_total > week_total:
        raise ValueError("le ore del giorno non possono superare le ore della settimana")
    if not form.in_force(day):
        return f"forma LPU {form.code} non in vigore il {day:%d/%m/%Y}: {_span(form)}"
    week = f"nella settimana dal {_monday(day):%d/%m/%Y}"
    if day_total > HOURS_IN_A_DAY:
        return f"{day_total} ore il {day:%d/%m/%Y}: un giorno ha 24 ore"
    limits = form.hours
    if limits.day_max is not None and day_total > limits.day_max.hours:
        return (
            f"{day_total} ore il {day:%d/%m/%Y}: oltre {limits.day_max.hours} ore giornaliere "
            f"({limits.day_max.article})"
        )
    if limits.working_days_per_week == 1 and not authorised and week_total > day_total:
        return (
            f"una seconda giornata di lavoro {week}: una sola giornata lavorativa a settimana "
            f"salvo {limits.lifted_by} ({limits.working_days_article})"
        )
    if (
        limits.week_default is not None
        and not authorised
        and week_total > limits.week_default.hours
    ):
        return (
            f"{week_total} ore {week}: oltre {limits.week_default.hours} ore settimanali senza "
            f"{_without(limits)} ({limits.week_default.article})"
        )
    if limits.week_max is not None and week_total > limits.week_max.hours:
        even = " anche con autorizzazione del giudice" if limits.week_default is not None else ""
        return (
            f"{week_total} ore {week}: oltre {limits.week_max.hours} ore settimanali{even} "
            f"({limits.week_max.article})"
        )
    return None


def _without(limits: Hours) -> str:
    """What is missing when the ordinary weekly limit is passed: the judge's authorisation."""
    lifted = limits.lifted_by or ""
    return "autorizzazione del giudice" if "giudice" in lifted else lifted


def weekly_capacity(form: Form, authorised: bool) -> Decimal | None:
    """The most hours one week can hold under the form's limits (every day of the week usable,
    at most `day_max` each; form A without the request: one day); None when the law sets no
    limit to compute it from."""
    limits = form.hours
    candidates: list[Decimal] = []
    if limits.day_max is not None:
        days = DAYS_IN_A_WEEK
        if limits.working_days_per_week is not None and not authorised:
            days = limits.working_days_per_week
        candidates.append(limits.day_max.hours * days)
    if limits.week_default is not None and not authorised:
        candidates.append(limits.week_default.hours)
    elif limits.week_max is not None:
        candidates.append(limits.week_max.hours)
    return min(candidates) if candidates else None


def weeks_needed(form: Form, hours: Decimal, authorised: bool) -> int | None:
    """The fewest weeks in which `hours` fit the form's limits (at its ordinary rate, or at the
    highest rate authorisation allows); None when the law sets no limit to compute it from."""
    owed = _hours(hours, "dovute")
    capacity = weekly_capacity(form, authorised)
    if capacity is None:
        return None
    return int((owed / capacity).to_integral_value(rounding=ROUND_CEILING))


def hour_facts(form: Form) -> tuple[str, ...]:
    """The form's hour limits in Italian, one fact a line."""
    limits = form.hours
    facts: list[str] = []
    if limits.day_max is not None:
        facts.append(
            f"ore giornaliere: al massimo {limits.day_max.hours} ({limits.day_max.article})"
        )
    if limits.week_min is not None:
        facts.append(f"ore settimanali: almeno {limits.week_min.hours} ({limits.week_min.article})")
    if limits.week_default is not None:
        facts.append(
            f"ore settimanali senza autorizzazione: al massimo {limits.week_default.hours} "
            f"({limits.week_default.article})"
        )
    if limits.week_max is not None:
        with_what = " con autorizzazione" if limits.week_default is not None else ""
        facts.append(
            f"ore settimanali{with_what}: al massimo {limits.week_max.hours} "
            f"({limits.week_max.article})"
        )
    if limits.week_default is not None and limits.lifted_by is not None:
        facts.append(f"oltre il limite ordinario: su {limits.lifted_by}")
    if limits.working_days_per_week is not None:
        facts.append(
            f"giornate lavorative: {limits.working_days_per_week} a settimana, salvo "
            f"{limits.lifted_by} ({limits.working_days_article})"
        )
    if not facts:
        facts.append("limiti orari: nessuno fissato dalla legge (modalità decise caso per caso)")
    return tuple(facts)
