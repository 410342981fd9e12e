"""PAdES signatures of notices' PDFs with pyHanko, and their verification.

Pure: no database. The office's key and certificate are PEM files.

A signature is PAdES baseline B: a CMS detached signature (SHA-256) in an invisible field
"Firma", added as an incremental update, so the signed bytes are the notice's bytes unchanged
followed by the signature. The update leaves the document metadata alone: pyHanko would write
its own producer and the wall clock into the Info dictionary and the XMP, and not the same
values in both, which PDF/A forbids. The XMP (PDF/A-3b identification) is kept as WeasyPrint
wrote it.

Only RSA keys: pyHanko marks a PDF signed with an ECDSA or EdDSA key as PDF 2.0 (ISO/TS 32002),
which a PDF/A-3 file (PDF 1.7) cannot be.

The signature is deterministic: the signing time (`/M` of the signature dictionary; PAdES puts
no signing time in the CMS) is `signed_at`, the second file identifier is derived from the
document and that time, and RSA PKCS#1 v1.5 signatures do not vary. The same notice signed at
the same instant with the same key gives the same bytes.

pyHanko's synchronous calls run their own event loop (`asyncio.run`): call these functions
from synchronous code (or a worker thread), not from inside a running event loop.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from asn1crypto import keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.general import SigningError as PyhankoSigningError
from pyhanko.sign.signers.pdf_signer import PdfSigningSession
from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

FIELD = "Firma"
DER = serialization.Encoding.DER


class SigningError(ValueError):
    """The office's key or certificate cannot be used, or the PDF cannot be signed."""


@dataclass(frozen=True)
class OfficeCertificate:
    """Where the office's signing material is: PEM private key, certificate, and the
    intermediate certificates up to the root (included in the signature)."""

    key: Path
    certificate: Path
    chain: tuple[Path, ...] = ()
    passphrase: bytes | None = None


@dataclass(frozen=True)
class Signer:
    """The office's key and certificate, loaded and checked: ready to sign."""

    pyhanko: signers.SimpleSigner


@dataclass(frozen=True)
class SignatureCheck:
    """What `verify_pdf` found: `intact` (the signed bytes match the digest), `valid` (the
    signature checks out, and the certificate chains to a trust root when some are given),
    `covers_whole_file` (nothing was added after the signature)."""

    signed: bool
    intact: bool
    valid: bool
    covers_whole_file: bool
    signer: str | None


NOT_SIGNED = SignatureCheck(
    signed=False, intact=False, valid=False, covers_whole_file=False, signer=None
)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise SigningError(f"cannot read the {what} {path}: {error.strerror}") from error


def _certificates(path: Path, what: str) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(_read(path, what))
    except ValueError as error:
        raise SigningError(f"{path} is not a PEM {what}: {error}") from error


def load_signer(cert: OfficeCertificate) -> Signer:
    """Load and check the office's signing material (readable, RSA, the key matches the
    certificate); `SigningError` says which file is wrong."""
    try:
        key = serialization.load_pem_private_key(
            _read(cert.key, "private key"), password=cert.passphrase
        )
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise SigningError(f"{cert.key} is not a usable PEM private key: {error}") from error
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SigningError(f"{cert.key} is not an RSA key: PDF/A-3 signatures need RSA")
    own, *bundled = _certificates(cert.certificate, "certificate")
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if own.public_key().public_bytes(DER, spki) != key.public_key().public_bytes(DER, spki):
        raise SigningError(f"the key {cert.key} does not match the certificate {cert.certificate}")
    chain = bundled + [c for path in cert.chain for c in _certificates(path, "chain certificate")]
    pkcs8 = key.private_bytes(DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    store = SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
        asn1_x509.Certificate.load(c.public_bytes(DER)) for c in chain
    )
    return Signer(
        signers.SimpleSigner(
            signing_cert=asn1_x509.Certificate.load(own.public_bytes(DER)),
            signing_key=keys.PrivateKeyInfo.load(pkcs8),
            cert_registry=store,
        )
    )


class _Update(IncrementalPdfFileWriter):
    """An incremental update that keeps the metadata and takes a given second file id."""

    def __init__(self, pdf: bytes, second_id: bytes) -> None:
        super().__init__(io.BytesIO(pdf))
        first_id = self._document_id[0]
        self._document_id = generic.ArrayObject([first_id, generic.ByteStringObject(second_id)])

    def _update_meta(self) -> None:
        """pyHanko stamps its producer and the current time here: not on a PDF/A notice."""


class _PdfSigner(signers.PdfSigner):
    """pyHanko's signer with the signing time given rather than read from the clock."""

    def __init__(
        self, meta: signers.PdfSignatureMetadata, signer: Signer, signed_at: datetime
    ) -> None:
        super().__init__(meta, signer.pyhanko)
        self.signed_at = signed_at

    def init_signing_session(
        self, pdf_out: BasePdfFileWriter, existing_fields_only: bool = False
    ) -> PdfSigningSession:
        session = super().init_signing_session(pdf_out, existing_fields_only)
        session.system_time = self.signed_at
        return session


def sign_pdf(
    pdf: bytes, signer: Signer, *, name: str, location: str, reason: str, signed_at: datetime
) -> bytes:
    """`pdf` with a PAdES-B signature appended, signed at the aware instant `signed_at`."""
    if signed_at.tzinfo is None:
        raise ValueError("naive datetime: give an aware instant")
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        name=name,
        location=location,
        reason=reason,
    )
    second_id = hashlib.sha256(pdf + signed_at.isoformat().encode()).digest()[:16]
    try:
        writer = _Update(pdf, second_id)
        signed = _PdfSigner(meta, signer, signed_at).sign_pdf(writer)
    except (PdfError, PyhankoSigningError) as error:
        raise SigningError(f"cannot sign the PDF: {error}") from error
    assert isinstance(signed, io.BytesIO)
    return signed.getvalue()


def verify_pdf(
    pdf: bytes, trust_roots: Sequence[bytes | asn1_x509.Certificate] = ()
) -> SignatureCheck:
    """Check the last signature of `pdf` (the one covering the most). Without trust roots
    `valid` means cryptographically valid only. A damaged file is reported, never raised: one
    that cannot be read at all as not signed."""
    roots = [
        c
        for root in trust_roots
        for c in (load_certs_from_pemder_data(root) if isinstance(root, bytes) else [root])
    ]
    try:
        embedded = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    except Exception:  # a damaged file can fail pyHanko's reader anywhere (zlib, xref...)
        return NOT_SIGNED
    if not embedded:
        return NOT_SIGNED
    try:
        status = validate_pdf_signature(
            embedded[-1], ValidationContext(trust_roots=roots, allow_fetching=False)
        )
    except Exception:  # a damaged signature makes pyHanko fail anywhere: it is invalid
        return SignatureCheck(
            signed=True, intact=False, valid=False, covers_whole_file=False, signer=None
        )
    return SignatureCheck(
        signed=True,
        intact=status.intact,
        valid=status.intact and status.valid and (status.trusted or not roots),
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer=status.signing_cert.subject.native.get("common_name"),
    )
