"""PAdES signatures of notices: signed PDFs validate, stay PDF/A, and any later change shows."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, PdfObject, StreamObject

from documents.render import html_to_pdf
from documents.signing import (
    OfficeCertificate,
    Signer,
    SigningError,
    load_signer,
    sign_pdf,
    verify_pdf,
)
from tests.support.certificates import (
    PEM,
    Authority,
    authority,
    certificate,
    office_certificate,
    private_pem,
)

SIGNED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HTML = """<!doctype html><html lang="it"><head><meta charset="utf-8">
<meta name="dcterms.created" content="2026-03-02T09:00:00Z">
<meta name="dcterms.modified" content="2026-03-02T09:00:00Z">
</head><body><p>Comunicazione di prova</p></body></html>"""


def resolved(obj: PdfObject) -> DictionaryObject:
    value = obj.get_object()
    assert isinstance(value, DictionaryObject)
    return value


def xmp_of(reader: PdfReader) -> str:
    stream = reader.root_object["/Metadata"].get_object()
    assert isinstance(stream, StreamObject)
    return stream.get_data().decode()


@pytest.fixture(scope="module")
def ca() -> Authority:
    return authority()


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory, ca: Authority) -> OfficeCertificate:
    """A throwaway signer certificate issued by a throwaway CA, as PEM files."""
    return office_certificate(tmp_path_factory.mktemp("office"), ca, "UIEPE Roma")


@pytest.fixture(scope="module")
def signer(office: OfficeCertificate) -> Signer:
    return load_signer(office)


@pytest.fixture(scope="module")
def notice() -> bytes:
    return html_to_pdf(HTML)


@pytest.fixture(scope="module")
def signed(notice: bytes, signer: Signer) -> bytes:
    return sign(notice, signer)


def sign(pdf: bytes, signer: Signer, signed_at: datetime = SIGNED_AT) -> bytes:
    return sign_pdf(
        pdf, signer, name="UIEPE Roma", location="Roma", reason="Notifica", signed_at=signed_at
    )


def test_a_signed_notice_validates_against_its_ca(
    signed: bytes, notice: bytes, ca: Authority
) -> None:
    check = verify_pdf(signed, trust_roots=[ca[0].public_bytes(PEM)])
    assert check.signed and check.intact and check.valid and check.covers_whole_file
    assert check.signer == "UIEPE Roma"
    assert signed.startswith(notice)  # an incremental update: the notice's bytes unchanged


def test_trust_needs_a_root_that_vouches_for_the_signer(signed: bytes) -> None:
    assert verify_pdf(signed).valid  # no roots: cryptographically valid
    stranger = certificate("Altra CA", rsa.generate_private_key(65537, 2048))
    check = verify_pdf(signed, trust_roots=[stranger.public_bytes(PEM)])
    assert check.intact and not check.valid


def test_a_byte_changed_inside_the_signed_range_fails(signed: bytes, ca: Authority) -> None:
    at = signed.index(b"stream\n") + 100  # inside the first stream: still a readable PDF
    tampered = signed[:at] + bytes([signed[at] ^ 1]) + signed[at + 1 :]
    check = verify_pdf(tampered, trust_roots=[ca[0].public_bytes(PEM)])
    assert check.signed and not check.intact and not check.valid


def test_bytes_appended_after_signing_are_detected(signed: bytes) -> None:
    check = verify_pdf(signed + b"\n1 0 obj\n(appended)\nendobj\n")
    assert not (check.covers_whole_file and check.valid)


def test_an_unsigned_or_damaged_pdf_is_reported_unsigned(notice: bytes) -> None:
    assert not verify_pdf(notice).signed
    assert not verify_pdf(b"%PDF-1.7\nnot really a PDF").signed


def test_the_signed_notice_is_still_an_archival_pdf(signed: bytes, notice: bytes) -> None:
    """The XMP (PDF/A-3b identification) and the Info dictionary are the notice's, and the
    catalog does not claim PDF 2.0."""
    reader, original = PdfReader(io.BytesIO(signed)), PdfReader(io.BytesIO(notice))
    xmp = xmp_of(reader)
    assert "<pdfaid:part>3</pdfaid:part>" in xmp or 'pdfaid:part="3"' in xmp
    assert xmp == xmp_of(original)
    assert reader.metadata == original.metadata
    assert reader.root_object.get("/Version", "/1.7") == "/1.7"
    assert "/OutputIntents" in reader.root_object


def test_signing_is_deterministic_and_dated_by_signed_at(
    signed: bytes, notice: bytes, signer: Signer
) -> None:
    assert sign(notice, signer) == signed
    assert sign(notice, signer, SIGNED_AT + timedelta(seconds=1)) != signed
    form = resolved(PdfReader(io.BytesIO(signed)).root_object["/AcroForm"])
    (field,) = cast(ArrayObject, form["/Fields"])
    assert str(resolved(resolved(field)["/V"])["/M"]).startswith("D:20260302090000")


def test_naive_signing_times_are_refused(notice: bytes, signer: Signer) -> None:
    with pytest.raises(ValueError, match="naive"):
        sign(notice, signer, datetime(2026, 3, 2, 9, 0))


def test_unusable_signing_material_is_refused(office: OfficeCertificate, tmp_path: Path) -> None:
    with pytest.raises(SigningError, match="cannot read the private key"):
        load_signer(replace(office, key=tmp_path / "missing.pem"))
    with pytest.raises(SigningError, match="does not match"):
        load_signer(replace(office, certificate=office.chain[0]))  # the CA's certificate
    (tmp_path / "ec.pem").write_bytes(private_pem(ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(SigningError, match="not an RSA key"):
        load_signer(replace(office, key=tmp_path / "ec.pem"))


def test_an_encrypted_key_needs_its_passphrase(office: OfficeCertificate, tmp_path: Path) -> None:
    key = serialization.load_pem_private_key(office.key.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    (tmp_path / "key.pem").write_bytes(private_pem(key, passphrase=b"segreto"))
    encrypted = replace(office, key=tmp_path / "key.pem")
    assert load_signer(replace(encrypted, passphrase=b"segreto"))
    with pytest.raises(SigningError, match="not a usable PEM private key"):
        load_signer(encrypted)
    with pytest.raises(SigningError, match="not a usable PEM private key"):
        load_signer(replace(encrypted, passphrase=b"sbagliato"))
