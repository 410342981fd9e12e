"""`misure notices deliver|deliveries|incidents|receipt`: the notices sent by certified e-mail
(PEC), what became of each message, and the receipts that settle them."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cli.common import COUNT_MAX, JsonOption, NowOption, emit, err, make_context, out, refusals
from cli.common import rome as rome_time
from services import delivery
from services.errors import InvalidInput
from services.settings import Settings


def register(notices_app: typer.Typer) -> None:
    """Add the delivery commands to the `misure notices` group."""
    notices_app.command("deliver")(notices_deliver)
    notices_app.command("deliveries")(notices_deliveries)
    notices_app.command("incidents")(notices_incidents)
    notices_app.command("receipt")(notices_receipt)


def notices_deliver(
    limit: Annotated[
        int | None, typer.Option(min=1, max=COUNT_MAX, help="Al massimo questo numero di messaggi.")
    ] = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Invia ogni messaggio dovuto (ogni comunicazione a ogni destinatario, via PEC).

    Al più una volta ciascuno; un messaggio rifiutato è ritentato più tardi e, dopo l'ultimo
    tentativo, è un incidente."""
    with refusals(as_json):
        settings = Settings()
        transport = delivery.transport_from(settings)
        report = delivery.deliver_pending(
            make_context(now), transport, delivery.DeliveryPolicy.from_settings(settings), limit
        )
    fallback = isinstance(transport, delivery.EmlDirectory) and transport.note is not None
    if as_json:
        emit(
            {
                "transport": report.transport,
                "smtp": not fallback,
                "sent": report.sent,
                "retried": report.retried,
                "failed": report.failed,
                "uncertain": report.uncertain,
                "delivered": [_json(record) for record in report.delivered],
                "retries": [_json(record) for record in report.retries],
                "incidents": [_json(record) for record in report.incidents],
            }
        )
        return
    if fallback:
        err.print(f"[yellow]attenzione:[/] {escape(report.transport)}", highlight=False)
    through = "" if fallback else f" ({report.transport})"
    out.print(
        f"{report.sent} inviate, {report.retried} da ritentare, {report.failed} non "
        f"recapitate, {report.uncertain} con esito incerto{escape(through)}",
        highlight=False,
    )
    for record in report.incidents:
        err.print(f"[red]incidente:[/] {escape(_line(record))}", highlight=False, soft_wrap=True)


def notices_deliveries(reference: str, as_json: JsonOption = False) -> None:
    """I messaggi delle comunicazioni della pratica REFERENCE: a chi, dove, con quale esito."""
    with refusals(as_json):
        found = delivery.deliveries_of(make_context(), reference)
    if as_json:
        emit({"reference": reference, "deliveries": [_json(record) for record in found]})
        return
    table = Table(
        "id", "protocollo", "destinatario", "PEC", "stato", "tentativi",
        "inviata / prossimo tentativo", "ultimo errore", title=f"Invii della pratica {reference}",
    )  # fmt: skip
    for record in found:
        table.add_row(*map(escape, (
            str(record.id), record.protocol or "-", f"{record.addressee} ({record.role_label})",
            record.address or "non registrato", record.status_label, str(record.attempts),
            _when(record), record.last_error or "",
        )))  # fmt: skip
    out.print(table)


def notices_incidents(as_json: JsonOption = False) -> None:
    """I messaggi che richiedono l'intervento di una persona.

    Non recapitati dopo ogni tentativo o senza indirizzo (falliti), o lasciati a metà invio da
    un arresto anomalo (incerti: controllare le ricevute PEC)."""
    with refusals(as_json):
        found = delivery.delivery_incidents(make_context())
    if as_json:
        emit({"incidents": [_json(record) for record in found]})
        return
    if not found:
        out.print("nessun incidente negli invii")
        return
    table = Table(
        "pratica", "protocollo", "destinatario", "PEC", "stato", "motivo", "Message-ID",
        title="Incidenti negli invii",
    )  # fmt: skip
    for record in found:
        table.add_row(*map(escape, (
            record.reference, record.protocol or "-", record.addressee,
            record.address or "non registrato", record.status_label, record.reason,
            record.message_id,
        )))  # fmt: skip
    out.print(table)


def notices_receipt(
    message_id: Annotated[str, typer.Argument(help="Il Message-ID del messaggio, <...>.")],
    delivered: Annotated[
        bool | None,
        typer.Option(
            "--consegna/--mancata-consegna",
            help="Una ricevuta di consegna, o un avviso di mancata consegna.",
            show_default=False,
        ),
    ] = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Registra una ricevuta PEC per un messaggio inviato (all'istante --now, o adesso).

    Una ricevuta di consegna chiude un messaggio incerto, un avviso di mancata consegna ne fa
    un incidente."""
    with refusals(as_json):
        if delivered is None:
            raise InvalidInput("indicare --consegna o --mancata-consegna", field="kind")
        ctx = make_context(now)
        kind: delivery.ReceiptKind = "consegna" if delivered else "mancata_consegna"
        receipt = delivery.record_receipt(ctx, message_id, kind, ctx.clock.now())
    if as_json:
        emit({"kind": receipt.kind, "replayed": receipt.replayed, **_json(receipt.delivery)})
        return
    record = receipt.delivery
    what = "ricevuta di consegna" if receipt.kind == "consegna" else "avviso di mancata consegna"
    again = " (già registrata)" if receipt.replayed else ""
    out.print(
        escape(
            f"{record.reference}: {what} registrata{again} per {record.addressee}, prot. "
            f"{record.protocol or '-'}: ora {record.status_label}"
        ),
        highlight=False,
    )


def _json(record: delivery.DeliveryRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "reference": record.reference,
        "protocol": record.protocol,
        "document_id": record.document_id,
        "role": record.role,
        "addressee": record.addressee,
        "address": record.address,
        "identity_annex": record.identity_annex,
        "status": record.status,
        "attempts": record.attempts,
        "next_attempt_at": record.next_attempt_at.isoformat(),
        "last_error": record.last_error,
        "message_id": record.message_id,
        "sent_at": None if record.sent_at is None else record.sent_at.isoformat(),
        "created_at": record.created_at.isoformat(),
    }


def _when(record: delivery.DeliveryRecord) -> str:
    if record.sent_at is not None:
        return f"inviata {rome_time(record.sent_at)}"
    if record.status == "pending":
        return f"prossimo {rome_time(record.next_attempt_at)}"
    return ""


def _line(record: delivery.DeliveryRecord) -> str:
    return (
        f"{record.reference} prot. {record.protocol or '-'} a {record.addressee} "
        f"({record.address or 'PEC non registrata'}): {record.status_label}, {record.reason}"
    )
