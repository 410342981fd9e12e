"""What makes a notice an act an office can sign and send (issue 15), for the tests: the shared
keys services/notices.py adds to every notice's context (to render a template by hand, without a
database), and one check of a rendered PDF read back with pypdf: the letterhead, the protocol
number, the addressees, the subject, the place and date, the signature block, the PDF/A-3b
identification and every font embedded."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pypdf import PdfReader
from pypdf.generic import DictionaryObject, StreamObject

from documents.render import data_breve, data_it
from machines.calendar import rome_date
from services.letterheads import DEPARTMENT, MINISTRY
from services.procedure import PARTIES, NoticeType

PRINTED_SIGNATURE = (
    "Firma autografa sostituita a mezzo stampa ai sensi dell’art. 3, comma 2, del d.lgs. "
    "12 febbraio 1993, n. 39"
)
DIGITAL_SIGNATURE = (
    "Documento firmato digitalmente ai sensi del d.lgs. 7 marzo 2005, n. 82 (Codice "
    "dell’amministrazione digitale)"
)
NO_ADDRESS = "indirizzo non registrato"  # the letterhead of an office the data do not know
NO_PEC = "indirizzo PEC non registrato"  # an addressee the data have no PEC for
CLERK = "Il funzionario incaricato"  # who signs where the office's signatory is not known


# the shared context, by hand --------------------------------------------------------------------
def addressees(
    notice: NoticeType, parties: Mapping[str, str | None], pecs: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """`destinatari` as the renderer gives them: the notice's roles the case has, in order."""
    return [
        {
            "role": role,
            "ruolo": PARTIES[role],
            "nome": parties[role],
            "pec": (pecs or {}).get(str(parties[role])),
        }
        for role in notice.addressees
        if parties.get(role)
    ]


def act_context(
    *,
    issuer: str,
    place: str,
    notice: NoticeType,
    parties: Mapping[str, str | None],
    reference: str,
    day: date,
    registered_at: datetime,
    number: str = "UFFICIO/2026/0000001",
    pecs: Mapping[str, str] | None = None,
    digital: bool = False,
) -> dict[str, Any]:
    """The keys services/notices.py adds to a notice's context, for an office without a
    registered letterhead (its name and place as the case gives them): `intestazione`,
    `protocollo`, `destinatari`, `oggetto`, `luogo_data`, `firma`, `emesso_il`, `reference`."""
    return {
        "intestazione": {
            "ministero": MINISTRY,
            "dipartimento": DEPARTMENT,
            "ufficio": issuer,
            "indirizzo": NO_ADDRESS,
            "telefono": "",
            "pec": "",
        },
        "protocollo": {"numero": number, "registrato_il": registered_at},
        "destinatari": addressees(notice, parties, pecs),
        "oggetto": f"{notice.subject} – pratica {reference}",
        "luogo_data": f"{place}, {data_it(day)}",
        "firma": {"qualifica": CLERK, "nome": "", "digitale": digital},
        "emesso_il": registered_at,
        "reference": reference,
    }


def with_act(
    context: Mapping[str, Any],
    notice: NoticeType,
    *,
    registered_at: datetime | None = None,
    number: str | None = None,
    pecs: Mapping[str, str] | None = None,
    digital: bool = False,
) -> dict[str, Any]:
    """A kind's notice context (with its `emittente`, `parti`, `reference` and `event`) and
    the shared keys, as services/notices.py merges them: the act dated the day its event took
    effect, numbered at `registered_at` (by default that instant) in its issuer's register."""
    effective = context["event"]["effective_at"]
    issuer = context["emittente"]
    return {
        **context,
        **act_context(
            issuer=issuer["nome"],
            place=issuer["sede"],
            notice=notice,
            parties=context["parti"],
            reference=context["reference"],
            day=rome_date(effective),
            registered_at=registered_at or effective,
            number=number or f"{issuer['codice']}/{rome_date(effective).year}/0000001",
            pecs=pecs,
            digital=digital,
        ),
    }


# reading a PDF back -----------------------------------------------------------------------------
def pdf_text(pdf: bytes) -> str:
    """The PDF's text on one line, whitespace normalised; a word broken after a hyphen at the
    end of a line ("464-" / "octies") joined."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    text = " ".join(" ".join(page.extract_text().split()) for page in pages)
    return re.sub(r"(\w)- (\w)", r"\1-\2", text)


def flat(text: str) -> str:
    """`text` as `pdf_text` gives it: whitespace normalised."""
    return " ".join(text.split())


def _dictionary(value: Any) -> DictionaryObject:
    found = value.get_object()
    assert isinstance(found, DictionaryObject), found
    return found


def xmp(pdf: bytes) -> str:
    root = PdfReader(io.BytesIO(pdf)).root_object
    stream = root["/Metadata"].get_object()
    assert isinstance(stream, StreamObject)
    return stream.get_data().decode()


def is_pdfa3b(pdf: bytes) -> bool:
    """Identified as PDF/A-3b in its XMP metadata, with an output intent."""
    found = xmp(pdf)
    part = "<pdfaid:part>3</pdfaid:part>" in found or 'pdfaid:part="3"' in found
    conformance = (
        "<pdfaid:conformance>B</pdfaid:conformance>" in found or 'pdfaid:conformance="B"' in found
    )
    return part and conformance and "/OutputIntents" in PdfReader(io.BytesIO(pdf)).root_object


def _fonts(reader: PdfReader) -> Iterator[DictionaryObject]:
    for page in reader.pages:
        resources = _dictionary(page["/Resources"])
        fonts = _dictionary(resources.get("/Font", DictionaryObject()))
        for font in fonts.values():
            yield _dictionary(font)


def unembedded_fonts(pdf: bytes) -> list[str]:
    """The fonts of the PDF's pages without an embedded font program (none, for PDF/A); fails
    if the pages use no font at all."""
    fonts = list(_fonts(PdfReader(io.BytesIO(pdf))))
    assert fonts, "no font on any page"
    missing = []
    for font in fonts:
        descriptors = [font.get("/FontDescriptor")] + [
            d.get_object().get("/FontDescriptor") for d in font.get("/DescendantFonts", [])
        ]
        embedded = [d.get_object() for d in descriptors if d is not None]
        if not any(k in d for d in embedded for k in ("/FontFile", "/FontFile2", "/FontFile3")):
            missing.append(str(font.get("/BaseFont")))
    return missing


@dataclass(frozen=True)
class Addressee:
    """Whom a notice is for: the name of the party in the case, its role (a key of PARTIES),
    its certified e-mail if the reference data have one."""

    role: str
    name: str
    pec: str | None = None

    def printed(self) -> str:
        """How the "Destinatari" block prints it."""
        pec = f"PEC {self.pec}" if self.pec else NO_PEC
        return flat(f"{self.name} {PARTIES[self.role]} {pec}")


@dataclass(frozen=True)
class Official:
    """What a notice must show to be an act of its office."""

    office: str  # the issuing office's name, in the letterhead
    protocol: str  # "OFFICE/YEAR/0000001"
    registered_on: date
    addressees: Sequence[Addressee]
    subject: str  # the notice type's subject, without the reference
    reference: str
    place: str
    day: date  # the act's date (not the rendering's)
    signature: str = PRINTED_SIGNATURE
    # the letterhead's contact line: the office's address, phone, PEC (or the fallback's)
    letterhead: tuple[str, ...] = (NO_ADDRESS,)
    signer: tuple[str, ...] = (CLERK,)  # the signatory's role and name
    ministry: str = MINISTRY
    department: str = DEPARTMENT


def check_official(pdf: bytes, expected: Official) -> str:
    """Fail unless `pdf` is the act `expected` describes, as an archival PDF; its text."""
    text = pdf_text(pdf)
    assert "Destinatari" in text and "Oggetto:" in text, text
    head = text[: text.index("Prot. n.")]
    for part in (expected.ministry, expected.department, expected.office, *expected.letterhead):
        # the office's name is printed in capitals (a style)
        assert flat(part).casefold() in head.casefold(), f"letterhead without {part!r}: {head!r}"
    number = f"Prot. n. {expected.protocol} del {data_breve(expected.registered_on)}"
    assert number in text, f"no {number!r}"
    assert f"Rif. pratica {expected.reference}" in text
    block = text[text.index("Destinatari") : text.index("Oggetto:")]
    for addressee in expected.addressees:
        assert addressee.printed() in block, f"{addressee.printed()!r} not in {block!r}"
    names = [block.index(a.printed()) for a in expected.addressees]
    assert names == sorted(names), f"addressees out of their declared order: {block!r}"
    # each addressee ends with its PEC or the lack of one: nobody else is printed
    printed = re.findall(rf"{NO_PEC}|(?<!indirizzo )PEC \S+@\S+", block)
    assert len(printed) == len(expected.addressees), f"addressees {printed} in {block!r}"
    subject = flat(f"Oggetto: {expected.subject} – pratica {expected.reference}")
    assert subject in text, f"no {subject!r}"
    dated = f"{expected.place}, {data_it(expected.day)}"
    assert dated in text, f"no {dated!r}"
    signature = text[text.rindex(dated) :]
    for part in expected.signer:
        assert flat(part) in signature, f"no signer {part!r} in {signature!r}"
    assert flat(expected.signature) in signature, f"no {expected.signature!r}"
    other = PRINTED_SIGNATURE if expected.signature == DIGITAL_SIGNATURE else DIGITAL_SIGNATURE
    assert flat(other) not in text
    assert is_pdfa3b(pdf), "not identified as PDF/A-3b"
    assert not unembedded_fonts(pdf), unembedded_fonts(pdf)
    return text
