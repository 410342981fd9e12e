"""Throwaway signing material for the tests: a CA and an office's RSA certificate it issued,
as PEM files (documents/signing.py signs with RSA only: PDF/A-3 cannot carry ECDSA)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from documents.signing import OfficeCertificate

PEM = serialization.Encoding.PEM
VALID_FROM = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)  # valid ten years from then

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
Authority = tuple[x509.Certificate, rsa.RSAPrivateKey]


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate(subject: str, key: Key, issuer: Authority | None = None) -> x509.Certificate:
    """A certificate for `key`: a CA's, signed by itself, without `issuer`; a signer's (with
    nonRepudiation, which pyHanko wants of a signer) otherwise."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    is_ca = issuer is None
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=not is_ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=is_ca,
        crl_sign=is_ca,
        encipher_only=False,
        decipher_only=False,
    )
    issuer_name, signing_key = (name, key) if issuer is None else (issuer[0].subject, issuer[1])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(VALID_FROM)
        .not_valid_after(VALID_FROM + timedelta(days=3651))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(signing_key, hashes.SHA256())
    )


def private_pem(key: Key, passphrase: bytes | None = None) -> bytes:
    encryption = (
        serialization.NoEncryption()
        if passphrase is None
        else serialization.BestAvailableEncryption(passphrase)
    )
    return key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, encryption)


def authority(subject: str = "CA di prova") -> Authority:
    """A self-signed CA and its key."""
    key = rsa_key()
    return certificate(subject, key), key


def office_certificate(folder: Path, ca: Authority, subject: str) -> OfficeCertificate:
    """An office's key and certificate issued by `ca`, with the CA as its chain, written as
    PEM files in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    key = rsa_key()
    (folder / "key.pem").write_bytes(private_pem(key))
    (folder / "cert.pem").write_bytes(certificate(subject, key, ca).public_bytes(PEM))
    (folder / "ca.pem").write_bytes(ca[0].public_bytes(PEM))
    return OfficeCertificate(
        key=folder / "key.pem", certificate=folder / "cert.pem", chain=(folder / "ca.pem",)
    )
