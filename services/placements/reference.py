"""Reference data of funded placements: UIEPEs, prisons, facilities, conventions and yearly
appropriations, loaded from a JSON document in one transaction (all of it, or nothing).

Rows are keyed by their codes: loading the same document twice changes nothing, and a new
version of a row (a convention renewed, a facility suspended) replaces the old one.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from services.context import Context
from services.errors import InvalidInput, UnknownReferenceData
from storage.placements.models import BudgetYear, Convention, Facility, Office, Prison
from storage.placements.repository import PlacementRepository

DEFAULT_APPROPRIATION = Decimal("7000000.00")  # art. 8 co. 6 D.L. 92/2024, from 2024


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OfficeRow(_Row):
    code: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=200)
    place: str = Field(min_length=1, max_length=80, description="where its notices are signed")
    territory: str = Field(min_length=1, max_length=200)
    detainees: int = Field(ge=0, description="detainees present in the territory (DAP)")


class PrisonRow(_Row):
    code: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=200)
    office: str = Field(description="code of the competent UIEPE")


class FacilityRow(_Row):
    code: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=200)
    operator: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=200)
    section: str = Field(min_length=1, max_length=80)
    registered: bool = True
    suspended: bool = False


class ConventionRow(_Row):
    code: str = Field(min_length=1, max_length=30)
    office: str
    facility: str
    daily_rate: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    places: int = Field(gt=0)
    valid_from: date
    valid_until: date

    @model_validator(mode="after")
    def _period(self) -> ConventionRow:
        if self.valid_until < self.valid_from:
            raise ValueError("valid_until precedes valid_from")
        return self


class BudgetYearRow(_Row):
    """A year's appropriation (art. 13 co. 1): the bounds `ref load` and `budget split` share;
    what the money columns hold (Numeric(14, 2)), finite, to the cent."""

    year: int = Field(ge=2024, le=2100)
    appropriation: Decimal = Field(
        default=DEFAULT_APPROPRIATION, ge=0, max_digits=14, decimal_places=2, allow_inf_nan=False
    )


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
        raise InvalidInput(f"{where}: {first['msg']}", where) from error


class ReferenceData(_Row):
    offices: list[OfficeRow] = []
    prisons: list[PrisonRow] = []
    facilities: list[FacilityRow] = []
    conventions: list[ConventionRow] = []
    budget_years: list[BudgetYearRow] = []


def parse(document: Any) -> ReferenceData:
    try:
        return ReferenceData.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(f"reference data: {where}: {first['msg']}") from error


def load(ctx: Context, document: Any) -> dict[str, int]:
    """Upsert every row of `document`; return how many rows of each section were given."""
    data = parse(document)
    with ctx.uow() as uow:
        repo = PlacementRepository.of(uow)
        for office in data.offices:
            repo.upsert(Office, {"code": office.code}, office.model_dump(exclude={"code"}))
        for prison in data.prisons:
            repo.upsert(
                Prison,
                {"code": prison.code},
                {"name": prison.name, "office_id": _office_id(repo.office(prison.office), prison)},
            )
        for facility in data.facilities:
            repo.upsert(Facility, {"code": facility.code}, facility.model_dump(exclude={"code"}))
        for convention in data.conventions:
            found = repo.facility(convention.facility)
            if found is None:
                raise UnknownReferenceData(
                    f"convention {convention.code}: unknown facility '{convention.facility}'"
                )
            values = convention.model_dump(exclude={"code", "office", "facility"})
            values["office_id"] = _office_id(repo.office(convention.office), convention)
            values["facility_id"] = found.id
            repo.upsert(Convention, {"code": convention.code}, values)
        for budget in data.budget_years:
            repo.upsert(BudgetYear, {"year": budget.year}, {"appropriation": budget.appropriation})
        uow.commit()
    return {section: len(getattr(data, section)) for section in ReferenceData.model_fields}


def _office_id(office: Office | None, row: PrisonRow | ConventionRow) -> int:
    if office is None:
        raise UnknownReferenceData(f"{row.code}: unknown UIEPE '{row.office}'")
    return office.id
