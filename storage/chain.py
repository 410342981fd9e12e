"""The trail's hash chain: each event of a case carries the SHA-256 of its predecessor's hash
followed by its own canonical content, so that editing, deleting, inserting or reordering an
event breaks every hash after it. The first event follows the case's genesis, a hash of its
reference. The format is fixed (v1): the write path, the migration that chained the events
written before it and `misure audit verify` all compute it here.

On PostgreSQL the transition statement computes the link itself (`sha256` over the same
text, see storage/repository.py), so the content is the only thing built in Python."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

FORMAT = "misure/v1"
# A rendered document enters its case's chain as an event that changes nothing else.
DOCUMENT_TRIGGER = "document_issued"
DOCUMENT_ACTOR = "sistema"


def canonical(value: Any) -> str:
    """`value` as one canonical JSON text: sorted keys, no spaces, UTF-8 as is. A float with
    no fractional part is written as the integer PostgreSQL's jsonb gives back for it."""
    return json.dumps(
        _normal(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _normal(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(key): _normal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_normal(item) for item in value]
    return value


def instant(value: datetime) -> str:
    """An instant as the chain writes it: UTC, to the microsecond."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def digest(text: str) -> str:
    return digest_bytes(text.encode("utf-8"))


def digest_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def genesis(reference: str) -> str:
    """What the first event of case `reference` follows."""
    return digest(f"{FORMAT}/genesis/{reference}")


def link(previous: str, content: str) -> str:
    """The hash of an event: its predecessor's (64 hex digits) followed by its content."""
    return digest(previous + content)


def event_content(
    *,
    case_id: int,
    sequence: int,
    trigger: str,
    from_state: str | None,
    to_state: str,
    actor: str,
    payload: dict[str, Any],
    legal_basis: str,
    idempotency_key: str | None,
    occurred_at: datetime,
    effective_at: datetime,
) -> str:
    """The canonical content of an event: everything it says, both instants included."""
    return canonical(
        {
            "format": FORMAT,
            "case": case_id,
            "sequence": sequence,
            "trigger": trigger,
            "from": from_state,
            "to": to_state,
            "actor": actor,
            "payload": payload,
            "legal_basis": legal_basis,
            "key": idempotency_key,
            "occurred_at": instant(occurred_at),
            "effective_at": instant(effective_at),
        }
    )


def document_payload(
    document_id: int, template: str, sha256: str, html_sha256: str
) -> dict[str, Any]:
    """What a document's event says of it: the SHA-256 of its PDF and of its HTML."""
    return {
        "document": document_id,
        "template": template,
        "sha256": sha256,
        "html_sha256": html_sha256,
    }


def document_basis(template: str) -> str:
    return f"emissione del documento {template}"
