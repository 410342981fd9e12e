"""Reference data of what leaves an office: each office's letterhead and signatory, each
addressee's certified e-mail (PEC), and the protected identity of a case's person, read only to
make the identification annex for the court and the prison (art. 15 D.M. 128/2025).

Loaded from a TOML file (`[[letterheads]]`, `[[addressees]]`) or set one by one; every entry is
validated whole before anything is written."""

from __future__ import annotations

import hashlib
import re
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from services.context import Context
from services.errors import InvalidInput, UnknownCase
from services.settings import Settings
from storage.models import Addressee, Identity, Letterhead

MINISTRY = "Ministero della Giustizia"
DEPARTMENT = "Dipartimento per la giustizia minorile e di comunità"

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Pec = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=200, pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$"
    ),
]


class LetterheadIn(BaseModel):
    """An office's letterhead and signatory, as given."""

    model_config = ConfigDict(extra="forbid")

    office: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    ministry: Text = MINISTRY
    department: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = (
        DEPARTMENT
    )
    name: Text
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    pec: Pec
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = ""
    signer_name: Text
    signer_role: Text
    place: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class AddresseeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text
    pec: Pec


class IdentityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    surname: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    given_names: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)
    ]
    born_on: date
    born_in: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    tax_code: (
        Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z0-9]{16}$")] | None
    ) = None


class ReferenceFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    letterheads: list[LetterheadIn] = Field(default_factory=list)
    addressees: list[AddresseeIn] = Field(default_factory=list)


@dataclass(frozen=True)
class Loaded:
    letterheads: int
    addressees: int


M = TypeVar("M", bound=BaseModel)


def _valid(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(f"{where}: {first['msg']}", field=where) from None


def load_file(ctx: Context, path: Path) -> Loaded:
    """Load letterheads and addressees from a TOML file: all of them, or none."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidInput(f"file non leggibile: {path}: {error.strerror}", "file") from None
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(f"file TOML non valido: {path}: {error}", "file") from None
    reference = _valid(ReferenceFile, data)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        for letterhead in reference.letterheads:
            uow.outgoing.put_letterhead(Letterhead(**letterhead.model_dump(), updated_at=now))
        for addressee in reference.addressees:
            uow.outgoing.put_addressee(Addressee(**addressee.model_dump(), updated_at=now))
        uow.commit()
    return Loaded(len(reference.letterheads), len(reference.addressees))


def set_letterhead(ctx: Context, data: dict[str, Any]) -> LetterheadIn:
    letterhead = _valid(LetterheadIn, data)
    with ctx.uow() as uow:
        uow.outgoing.put_letterhead(
            Letterhead(**letterhead.model_dump(), updated_at=ctx.clock.now())
        )
        uow.commit()
    return letterhead


def set_addressee(ctx: Context, name: str, pec: str) -> AddresseeIn:
    addressee = _valid(AddresseeIn, {"name": name, "pec": pec})
    with ctx.uow() as uow:
        uow.outgoing.put_addressee(Addressee(**addressee.model_dump(), updated_at=ctx.clock.now()))
        uow.commit()
    return addressee


def set_identity(ctx: Context, reference: str, data: dict[str, Any]) -> None:
    """Record who the person of case `reference` is (protected data: nothing of it is
    returned, logged or put in the case's events)."""
    identity = _valid(IdentityIn, data)
    with ctx.uow() as uow:
        case = uow.repo.case_by_reference(reference)
        if case is None:
            raise UnknownCase(reference)
        uow.outgoing.put_identity(
            Identity(case_id=case.id, **identity.model_dump(), recorded_at=ctx.clock.now())
        )
        uow.commit()


@dataclass(frozen=True)
class LetterheadRecord:
    office: str
    name: str
    pec: str
    signer: str
    place: str


def letterheads(ctx: Context) -> Sequence[LetterheadRecord]:
    with ctx.read() as uow:
        return [
            LetterheadRecord(
                head.office,
                head.name,
                head.pec,
                f"{head.signer_role} {head.signer_name}",
                head.place,
            )
            for head in uow.outgoing.letterheads()
        ]


def addressees(ctx: Context) -> dict[str, str]:
    with ctx.read() as uow:
        return {a.name: a.pec for a in uow.outgoing.all_addressees()}


def fallback_letterhead(code: str, name: str, place: str) -> Letterhead:
    """The letterhead of an office the reference data do not know yet: the Ministry's
    heading, the name and place the case gives, no address nor PEC (the notice says so)."""
    settings = Settings()
    return Letterhead(
        office=code,
        ministry=MINISTRY,
        department=DEPARTMENT,
        name=name or settings.office_name,
        address="indirizzo non registrato",
        pec="",
        phone="",
        signer_name="",
        signer_role="Il funzionario incaricato",
        place=place or settings.office_place,
    )


# offices the data know only by name (a UEPE named by a probation or an LPU placement) -------
CODE_LENGTH = 40  # an office's code, as the protocol register keeps it
_PLACE = re.compile(
    r"(?:\bU(?:I)?EPE|esterna)\s+(?:(?:di|del|della|dello|per\s+il|per\s+la)\s+|"
    r"(?:dell|per\s+l)['’]\s*)(?P<place>.+)$",
    re.IGNORECASE,
)


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z0-9]+", "-", ascii_text.upper()).strip("-")


def office_code(name: str) -> str:
    """A stable code for an office the data know only by name, for its letterhead and its
    protocol register: "UEPE di Torino" -> "UEPE-TORINO" (an interdistrict office "UIEPE-..."),
    any other name its upper-case slug; cut to 40 characters with a digest of the name. One
    rule for every procedure: one UEPE, one register."""
    found = _PLACE.search(name)
    if found is None:
        code = _slug(name) or "UEPE"
    else:
        interdistrict = "UIEPE" in name.upper() or "INTERDISTRETTUALE" in name.upper()
        code = f"{'UIEPE' if interdistrict else 'UEPE'}-{_slug(found['place'])}"
    if len(code) <= CODE_LENGTH:
        return code
    digest = hashlib.sha256(name.encode()).hexdigest()[:8].upper()
    return f"{code[: CODE_LENGTH - 9].rstrip('-')}-{digest}"


def named_office(name: str) -> dict[str, str]:
    """An office known by name as a notice's issuer (`emittente`): its code, its name, and
    where it signs, as its name says ("UEPE di Torino": Torino), else "" (the settings')."""
    found = _PLACE.search(name)
    return {
        "codice": office_code(name),
        "nome": name,
        "sede": "" if found is None else found["place"].strip(),
    }
