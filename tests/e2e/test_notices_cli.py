"""Issuing notices from the command line as an office does it (issue 15): reference data loaded
(letterhead, signatory, addressees' PEC), a notice issued under the office's protocol number,
the day's register exported as CSV and PDF, the messages written as .eml files, the person's
identity recorded without ever being printed back."""

from __future__ import annotations

import csv
import email
import hashlib
import io
import json
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from pypdf import PdfReader

from documents.signing import verify_pdf
from tests.e2e.test_cli import AT, Cli, under_review
from tests.support.certificates import authority, office_certificate

PEM = Encoding.PEM

OFFICE_NAME = "Ufficio interdistrettuale di esecuzione penale esterna per il Piemonte"
REFERENCE = f"""
[[letterheads]]
office = "UFFICIO"
name = "{OFFICE_NAME}"
address = "Via Berruti e Ferrero 1, 10135 Torino"
pec = "uiepe.torino@pec.giustizia.example"
phone = "011 0000000"
signer_name = "Maria Rossi"
signer_role = "Il Direttore"
place = "Torino"

[[addressees]]
name = "{OFFICE_NAME}"
pec = "protocollo.uiepe.torino@pec.giustizia.example"
"""


@pytest.fixture
def office(tmp_path: Path) -> Cli:
    """A database with the office's reference data loaded."""
    cli = Cli(f"sqlite:///{tmp_path / 'cli.db'}")
    cli.run("db", "upgrade")
    cli.env["MISURE_OUTBOX_DIR"] = str(tmp_path / "outbox")
    path = tmp_path / "reference.toml"
    path.write_text(REFERENCE, encoding="utf-8")
    assert cli.json("notices", "reference", str(path)) == {"letterheads": 1, "addressees": 1}
    return cli


def words(pdf: bytes) -> str:
    return " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())


def test_a_notice_is_issued_registered_exported_and_written_for_delivery(
    office: Cli, tmp_path: Path
) -> None:
    reference = under_review(office)
    office.run("case", "fire", reference, "grant", *AT)
    rendered = office.json("notices", "render", *AT)
    assert rendered["rendered"] == 1
    assert rendered["documents"][0]["protocol"] == "UFFICIO/2026/0000001"

    listed = office.json("case", "documents", reference, "--out", str(tmp_path / "pdf"))
    [document] = listed["documents"]
    text = words(Path(listed["written"][0]).read_bytes())
    assert "Ministero della Giustizia" in text
    assert "PER IL PIEMONTE" in text  # the office, in the heading's capitals
    assert "PEC uiepe.torino@pec.giustizia.example" in text  # the office's own
    assert "Prot. n. UFFICIO/2026/0000001 del 02/03/2026" in text
    assert "PEC protocollo.uiepe.torino@pec.giustizia.example" in text  # the addressee's
    assert (
        f"Oggetto: Comunicazione di variazione dello stato della pratica – pratica {reference}"
        in text
    )
    assert "Torino, 2 marzo 2026" in text
    assert "Il Direttore Maria Rossi" in text

    register = office.json(
        "notices", "protocol", "--office", "UFFICIO", "--day", "2026-03-02", "--out",
        str(tmp_path / "protocol"),
    )  # fmt: skip
    [entry] = register["entries"]
    assert (entry["label"], entry["reference"], entry["status"]) == (
        "UFFICIO/2026/0000001",
        reference,
        "registered",
    )
    assert entry["sha256"] == document["sha256"]
    csv_path, pdf_path = (Path(name) for name in register["written"])
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    assert [(row["numero"], row["pratica"], row["impronta_sha256"]) for row in rows] == [
        ("1", reference, document["sha256"])
    ]
    assert rows[0]["data_ora_registrazione"] == "02/03/2026 10:00:00"
    register_text = words(pdf_path.read_bytes())
    assert "Registro giornaliero di protocollo" in register_text
    assert "UFFICIO/2026/0000001" in register_text
    shown = office.run("notices", "protocol", "--office", "UFFICIO", "--day", "2026-03-02").stdout
    assert "Registro di protocollo in uscita di UFFICIO, 02/03/2026" in shown
    assert "registrato" in shown and "1 registrazione" in shown  # the status's name, not its code
    empty = office.json("notices", "protocol", "--office", "UFFICIO", "--day", "2026-03-03")
    assert empty["entries"] == []

    sent = office.json("notices", "deliver", *AT)
    assert (sent["smtp"], sent["sent"], sent["failed"]) == (False, 1, 0)
    [eml] = (tmp_path / "outbox").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=default)
    assert isinstance(message, EmailMessage)
    assert message["To"].addresses[0].addr_spec == "protocollo.uiepe.torino@pec.giustizia.example"
    assert message["From"].addresses[0].addr_spec == "uiepe.torino@pec.giustizia.example"
    assert "Prot. n. UFFICIO/2026/0000001" in message["Subject"]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content() == Path(listed["written"][0]).read_bytes()
    assert office.json("notices", "deliver", *AT)["sent"] == 0  # never twice
    [delivery] = office.json("notices", "deliveries", reference)["deliveries"]
    assert delivery["status"] == "sent"


def test_bad_reference_data_is_refused_whole_and_names_the_field(
    office: Cli, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        REFERENCE.replace('office = "UFFICIO"', 'office = "ALTRO"')
        + '\n[[addressees]]\nname = "Tribunale"\npec = "non-una-pec"\n',
        encoding="utf-8",
    )
    line = office.refused("notices", "reference", str(bad))
    assert "addressees.1.pec" in line
    listed = office.json("notices", "letterheads")
    assert [head["office"] for head in listed["letterheads"]] == ["UFFICIO"]  # nothing written
    assert "Tribunale" not in listed["addressees"]
    assert "non è una data" in office.refused(
        "notices", "protocol", "--office", "X", "--day", "ieri"
    )


def test_an_identity_is_recorded_never_printed_back(office: Cli) -> None:
    reference = under_review(office)
    identity = ("--cognome", "Bianchi", "--nome", "Luca", "--nato-il", "1990-05-01")
    line = office.refused(
        "case", "identity", reference, *identity, "--nato-a", "Torino", "--codice-fiscale", "X"
    )
    assert "tax_code" in line and "Bianchi" not in line
    assert "DEM-2026-999999" in office.refused(
        "case", "identity", "DEM-2026-999999", *identity, "--nato-a", "Torino"
    )
    done = office.run("case", "identity", reference, *identity, "--nato-a", "Torino")
    assert "riservati" in done.stdout and "Bianchi" not in done.stdout
    shown = json.dumps(office.json("case", "show", reference, *AT))
    assert "Bianchi" not in shown and "1990-05-01" not in shown


def test_with_the_office_certificate_configured_notices_are_signed(
    office: Cli, tmp_path: Path
) -> None:
    ca = authority()
    signing = office_certificate(tmp_path / "cert", ca, "Maria Rossi")
    office.env |= {
        "MISURE_SIGNING_KEY": str(signing.key),
        "MISURE_SIGNING_CERTIFICATE": str(signing.certificate),
        "MISURE_SIGNING_CHAIN": json.dumps([str(path) for path in signing.chain]),
    }
    reference = under_review(office)
    office.run("case", "fire", reference, "grant", *AT)
    assert office.json("notices", "render", *AT)["rendered"] == 1

    listed = office.json("case", "documents", reference, "--out", str(tmp_path / "pdf"))
    pdf = Path(listed["written"][0]).read_bytes()
    check = verify_pdf(pdf, trust_roots=[ca[0].public_bytes(PEM)])
    assert (check.signed, check.intact, check.valid, check.covers_whole_file) == (
        True,
        True,
        True,
        True,
    )
    assert check.signer == "Maria Rossi"
    assert "Documento firmato digitalmente" in words(pdf)
    assert listed["documents"][0]["sha256"] == hashlib.sha256(pdf).hexdigest()
    tampered = bytearray(pdf)
    tampered[len(pdf) // 3] ^= 0x01
    assert not verify_pdf(bytes(tampered), trust_roots=[ca[0].public_bytes(PEM)]).valid

    office.env["MISURE_SIGNING_KEY"] = str(tmp_path / "missing.pem")
    line = office.refused("notices", "render")
    assert "missing.pem" in line
