"""Reference data of funded placements: UIEPEs, prisons, facilities, conventions and yearly
appropriations, loaded from a JSON document in one transaction (all of it, or nothing).

Rows are keyed by their codes: loading the same document twice changes nothing, and a new
version of a row (a convention renewed, a facility suspended) replaces the old one.

A document that contradicts itself or the live data is refused, naming the record and the
field, and nothing is written:
- in itself: a code (a year) given twice in a section, an amount that is not a string of digits
  with at most two decimals or that exceeds what the money columns hold, a count that is not a
  JSON integer, a period that ends before it starts;
- against the live data: a convention whose places are cut below a place held, whose daily rate
  or period changes while places are held under it (art. 12 co. 4-6, art. 13 co. 3-5), or whose
  UIEPE or facility changes once any place was attested under it (the cases attested there
  would read another UIEPE's convention, or another facility); an appropriation cut below what
  is already split among the UIEPEs (art. 13 co. 1, 7: `budget split` re-splits it).
A facility's standing on the register (registered, suspended, cancelled) is not reference data:
the register decides it (services/placements/register.py applies what it announces), and a
document that tries to set it is refused.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationError,
    field_validator,
)

from services.context import Context
from services.errors import InvalidInput, UnknownReferenceData
from services.placements.effects import max_cost, max_funded_days
from services.placements.register import FACILITY_STANDING
from services.reasons import reason
from storage.placements.models import BudgetYear, Convention, Facility, Office, Prison
from storage.placements.repository import PlacementRepository

DEFAULT_APPROPRIATION = Decimal("7000000.00")  # art. 8 co. 6 D.L. 92/2024, from 2024
FIRST_YEAR, LAST_YEAR = 2024, 2100  # the appropriation exists from 2024 (art. 8 co. 6)
MONEY_MAX = Decimal("999999999999.99")  # what a money column holds: Numeric(14, 2)
COUNT_MAX = 2**31 - 1  # what an Integer column holds on PostgreSQL
_AMOUNT = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"  # no control character (PostgreSQL refuses NUL)


def money(value: object) -> Decimal:
    """An amount in euros as `ref load` and `budget split` take it: a string of digits with at
    most two decimals ("50", "50.5", "50.00"), at most what a money column holds. No float (a
    JSON number is rounded in binary before anyone reads it), no sign, no exponent, no NaN.
    A `Decimal` given by code is read as the same digits."""
    text = format(value, "f") if isinstance(value, Decimal) else value
    if not isinstance(text, str):
        given = json.dumps(value, default=str)[:40]
        raise ValueError(f'un importo si scrive come stringa, es. "50.00", non {given}')
    if _AMOUNT.fullmatch(text) is None:
        raise ValueError(
            f"importo {json.dumps(text)[:40]} non valido: solo cifre con al più due decimali, "
            'es. "50.00" (niente segno, esponente o NaN)'
        )
    amount = Decimal(text)
    if amount > MONEY_MAX:
        raise ValueError(
            f"importo {text[:40]} oltre quanto una colonna di importi contiene: {MONEY_MAX}"
        )
    return amount


def _daily_rate(value: object) -> Decimal:
    """A convention's daily rate: an amount above zero whose longest funded stay (the maximum a
    place commits, art. 13 co. 6) still fits a money column."""
    rate = money(value)
    if rate <= 0:
        raise ValueError("la tariffa giornaliera deve essere maggiore di zero")
    if max_cost(rate) > MONEY_MAX:
        raise ValueError(
            f"tariffa {rate} troppo alta: {max_funded_days()} giorni finanziati costerebbero "
            f"oltre {MONEY_MAX}"
        )
    return rate


def _day(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("una data si scrive come stringa AAAA-MM-GG")
    return value


def _text(length: int) -> StringConstraints:
    return StringConstraints(min_length=1, max_length=length, pattern=_PRINTABLE)


Amount = Annotated[Decimal, PlainValidator(money)]
DailyRate = Annotated[Decimal, PlainValidator(_daily_rate)]
Count = Annotated[int, Field(strict=True, ge=0, le=COUNT_MAX)]
Year = Annotated[int, Field(strict=True, ge=FIRST_YEAR, le=LAST_YEAR)]
Flag = Annotated[bool, Field(strict=True)]
Day = Annotated[date, BeforeValidator(_day)]
Code = Annotated[str, _text(20)]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OfficeRow(_Row):
    code: Code
    name: Annotated[str, _text(200)]
    place: Annotated[str, _text(80)] = Field(description="where its notices are signed")
    territory: Annotated[str, _text(200)]
    detainees: Count = Field(description="detainees present in the territory (DAP)")


class PrisonRow(_Row):
    code: Code
    name: Annotated[str, _text(200)]
    office: Code = Field(description="code of the competent UIEPE")


STANDING_NOT_HERE = (
    "la posizione nell'elenco delle strutture (iscrizione, sospensione, cancellazione) non si "
    "carica con i dati di riferimento: la dispone la Direzione generale nei procedimenti "
    "dell'elenco (misure register), che ne applicano gli effetti ai posti (art. 3 e 5 D.M. "
    "128/2025)"
)


class FacilityRow(_Row):
    """What the reference data say of a facility: who runs it and where. Its standing on the
    register is the register's (`STANDING_NOT_HERE`)."""

    code: Code
    name: Annotated[str, _text(200)]
    operator: Annotated[str, _text(200)]
    address: Annotated[str, _text(200)]
    section: Annotated[str, _text(80)]
    registered: object = None
    suspended: object = None

    @field_validator("registered", "suspended")
    @classmethod
    def _not_here(cls, value: object) -> object:
        raise ValueError(STANDING_NOT_HERE)


class ConventionRow(_Row):
    code: Annotated[str, _text(30)]
    office: Code
    facility: Code
    daily_rate: DailyRate
    places: Annotated[int, Field(strict=True, gt=0, le=COUNT_MAX)]
    valid_from: Day
    valid_until: Day


class BudgetYearRow(_Row):
    """A year's appropriation (art. 13 co. 1): the bounds `ref load` and `budget split` share."""

    year: Year
    appropriation: Amount = DEFAULT_APPROPRIATION


def budget_year(year: int, appropriation: Decimal | str | None) -> BudgetYearRow:
    """A year and an appropriation as `budget split` is given them, checked as `ref load`
    checks them; `InvalidInput` naming the field otherwise."""
    given: dict[str, Any] = {"year": year}
    if appropriation is not None:
        given["appropriation"] = appropriation
    try:
        return BudgetYearRow.model_validate(given)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(f"{where}: {reason(first)}", where) from error


class ReferenceData(_Row):
    offices: list[OfficeRow] = []
    prisons: list[PrisonRow] = []
    facilities: list[FacilityRow] = []
    conventions: list[ConventionRow] = []
    budget_years: list[BudgetYearRow] = []


_KEYS = {  # what identifies a record in each section, and its Italian name
    "offices": "code",
    "prisons": "code",
    "facilities": "code",
    "conventions": "code",
    "budget_years": "year",
}


@dataclass(frozen=True)
class _Record:
    """A record of the document as a refusal names it: `conventions[2] CONV-TO-1`."""

    section: str
    index: int
    key: object = None

    def refused(self, field: str, why: str) -> InvalidInput:
        name = f"{self.section}[{self.index}]"
        shown = "" if self.key in (None, "") else f" {str(self.key)[:40]}"
        if not field:
            return InvalidInput(f"dati di riferimento, {name}{shown}: {why}", name)
        where = f"{name}.{field}"
        return InvalidInput(f"dati di riferimento, {name}{shown}, {field}: {why}", where)


def parse(document: Any) -> ReferenceData:
    """The document checked in itself: its shape, each field's type and bounds, each code once
    per section, each period in order."""
    try:
        data = ReferenceData.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        raise _refused(document, first["loc"], reason(first)) from error
    for section, key in _KEYS.items():
        seen: dict[object, int] = {}
        for index, row in enumerate(getattr(data, section)):
            value = getattr(row, key)
            if value in seen:
                named = "anno" if key == "year" else "codice"
                raise _Record(section, index, value).refused(
                    key, f"già in {section}[{seen[value]}]: ogni {named} una volta sola"
                )
            seen[value] = index
    for index, convention in enumerate(data.conventions):
        if convention.valid_until < convention.valid_from:
            raise _Record("conventions", index, convention.code).refused(
                "valid_until",
                f"{convention.valid_until:%d/%m/%Y} precede valid_from "
                f"({convention.valid_from:%d/%m/%Y})",
            )
    return data


def _refused(document: Any, loc: tuple[int | str, ...], why: str) -> InvalidInput:
    """What pydantic found at `loc`, naming the record by its index and code."""
    if len(loc) < 2:
        field = ".".join(str(part) for part in loc)
        where = f", {field}" if field else ""
        return InvalidInput(f"dati di riferimento{where}: {why}", field or None)
    section, index = str(loc[0]), int(loc[1])
    try:
        key = document[section][index].get(_KEYS[section])
    except (AttributeError, LookupError, TypeError):
        key = None
    shown = key if isinstance(key, str | int) and not isinstance(key, bool) else None
    return _Record(section, index, shown).refused(".".join(str(p) for p in loc[2:]), why)


def load(ctx: Context, document: Any) -> dict[str, int]:
    """Upsert every row of `document`; return how many rows of each section were given. What
    contradicts the document itself or the live data is refused before the commit (module
    docstring), so nothing is written."""
    data = parse(document)
    with ctx.uow() as uow:
        repo = PlacementRepository.of(uow)
        for year in sorted(row.year for row in data.budget_years):
            repo.budget_year(year, lock=True)  # as `budget split` does, before any allocation
        for office in data.offices:
            repo.upsert(Office, {"code": office.code}, office.model_dump(exclude={"code"}))
        for index, prison in enumerate(data.prisons):
            record = _Record("prisons", index, prison.code)
            office_id = _known(repo.office(prison.office), record, "office", prison.office)
            repo.upsert(
                Prison, {"code": prison.code}, {"name": prison.name, "office_id": office_id}
            )
        # A new facility is on the register only where no register runs (the reference data
        # are then the office's register); where one runs, it says so when it registers it.
        unregistered = ctx.announced_by_some(FACILITY_STANDING)
        for facility in data.facilities:
            values = facility.model_dump(include={"name", "operator", "address", "section"})
            known = repo.facility(facility.code)
            if known is None:
                values |= {"registered": not unregistered, "suspended": False}
                repo.upsert(Facility, {"code": facility.code}, values)
            else:
                for key, value in values.items():
                    setattr(known, key, value)
        for index, convention in enumerate(data.conventions):
            record = _Record("conventions", index, convention.code)
            values = convention.model_dump(exclude={"code", "office", "facility"})
            party = repo.office(convention.office)
            values["office_id"] = _known(party, record, "office", convention.office)
            place = repo.facility(convention.facility)
            values["facility_id"] = _known(place, record, "facility", convention.facility)
            current = repo.convention(convention.code)
            if current is not None:
                _keeps_what_it_holds(repo, record, current, convention, values)
            repo.upsert(Convention, {"code": convention.code}, values)
        for index, budget in enumerate(data.budget_years):
            _covers_the_split(repo, _Record("budget_years", index, budget.year), budget)
            repo.upsert(BudgetYear, {"year": budget.year}, {"appropriation": budget.appropriation})
        uow.commit()
    return {section: len(getattr(data, section)) for section in ReferenceData.model_fields}


def _known(row: Office | Facility | None, record: _Record, field: str, code: str) -> int:
    if row is None:
        raise UnknownReferenceData(
            f"dati di riferimento, {record.section}[{record.index}] {record.key}, {field}: "
            f"'{code}' non è né nel documento né nei dati caricati"
        )
    return row.id


def _keeps_what_it_holds(
    repo: PlacementRepository,
    record: _Record,
    current: Convention,
    given: ConventionRow,
    values: dict[str, Any],
) -> None:
    """A convention in use keeps its parties, and while places are held its rate, the places
    held and the days they were attested on (art. 12 co. 4-6, art. 13 co. 3-5). The allocations
    of its UIEPEs are locked first: an attestation takes that lock before it reads the
    convention, so none slips in between this check and the commit."""
    repo.lock_allocations({current.office_id, values["office_id"]})
    held = repo.holdings(current.id)
    if held.ever and values["office_id"] != current.office_id:
        office = repo.office_by_id(current.office_id).code
        raise record.refused(
            "office",
            f"convenzione di {office}, posti già attestati: {held.ever}; non passa a un altro "
            "UIEPE (un'altra convenzione ha un altro codice)",
        )
    if held.ever and values["facility_id"] != current.facility_id:
        facility = repo.facility_by_id(current.facility_id).code
        raise record.refused(
            "facility",
            f"posti già attestati presso {facility}: {held.ever}; la struttura non cambia "
            "(un'altra convenzione ha un altro codice)",
        )
    if held.active and given.daily_rate != current.daily_rate:
        raise record.refused(
            "daily_rate",
            f"posti riservati o occupati alla tariffa di EUR {current.daily_rate}: {held.active}; "
            "la tariffa non cambia finché sono in uso (art. 13 co. 5)",
        )
    if given.places < held.highest:
        raise record.refused(
            "places",
            f"il posto n. {held.highest} è riservato o occupato: i posti non scendono sotto "
            f"{held.highest} (art. 12 co. 4)",
        )
    if held.first_issued is not None and given.valid_from > held.first_issued:
        raise record.refused(
            "valid_from",
            f"un posto in uso è stato attestato il {held.first_issued:%d/%m/%Y}: la convenzione "
            "deve essere in vigore da quel giorno",
        )
    if held.last_issued is not None and given.valid_until < held.last_issued:
        raise record.refused(
            "valid_until",
            f"un posto in uso è stato attestato il {held.last_issued:%d/%m/%Y}: la convenzione "
            "deve essere in vigore fino a quel giorno",
        )


def _covers_the_split(repo: PlacementRepository, record: _Record, given: BudgetYearRow) -> None:
    """An appropriation is never below what is split among the UIEPEs, nor below what places
    already commit (art. 13 co. 1, 6-7): lowering it is a re-split, `budget split`'s job."""
    allocated = sum((a.amount for a in repo.allocations(given.year)), Decimal("0.00"))
    committed = repo.usage(given.year).committed
    if given.appropriation < max(allocated, committed):
        raise record.refused(
            "appropriation",
            f"EUR {given.appropriation} è meno di quanto già ripartito tra gli UIEPE (EUR "
            f"{allocated}, di cui EUR {committed} impegnati da posti attestati): per ridurlo, "
            f"`misure budget split {given.year} --appropriation` ripartisce di nuovo",
        )
