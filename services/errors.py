"""Typed domain errors: each refusal the services give, with the HTTP status it maps to."""

from __future__ import annotations

from datetime import date, datetime

from machines.calendar import ROME


class DomainError(Exception):
    """A refusal a user can act on; `status` is the HTTP answer (404, 409 or 422)."""

    status = 422
    code = "invalid"
    # The transitions that overdue terms caused before this refusal, in the same transaction:
    # they stand, and the caller commits them (engine.fire_in); `signals` are what they emitted
    # (a lapse frees a place), for the entry point to act on as after any change.
    caught_up: tuple[str, ...] = ()
    signals: tuple[str, ...] = ()


class UnknownCase(DomainError):
    status = 404
    code = "unknown_case"

    def __init__(self, reference: str) -> None:
        super().__init__(f"nessuna pratica con riferimento {reference}")
        self.reference = reference


class UnknownKind(DomainError):
    status = 422
    code = "unknown_kind"

    def __init__(self, kind: str, known: tuple[str, ...]) -> None:
        listed = ", ".join(known) or "nessuno configurato"
        super().__init__(f"tipo di pratica '{kind}' sconosciuto (noti: {listed})")


class TransitionNotAllowed(DomainError):
    status = 409
    code = "transition_not_allowed"


class GuardFailed(DomainError):
    """A guard of the machine refused. One that judges a field of the input (a decision's
    date, its court) answers 422 naming it; one that judges the case or its procedure (a stop
    on new applications) 409."""

    status = 409
    code = "guard_failed"

    def __init__(self, message: str, reasons: tuple[str, ...], field: str | None = None) -> None:
        super().__init__(message)
        self.reasons, self.field = reasons, field
        if field is not None:
            self.status = 422


class StaleVersion(DomainError):
    status = 409
    code = "stale_version"

    def __init__(self, reference: str, attempts: int) -> None:
        super().__init__(
            f"altre operazioni hanno modificato {reference} in tutti i {attempts} tentativi: "
            "nulla è stato scritto"
        )


class IdempotencyConflict(DomainError):
    status = 409
    code = "idempotency_conflict"


class InvalidInput(DomainError):
    """Bad input; `field` names the input at fault, when there is one."""

    status = 422
    code = "invalid_input"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class UnknownReferenceData(DomainError):
    """A prison, UIEPE, facility or convention code that is not in the reference data."""

    status = 422
    code = "unknown_reference_data"


class NotCovered(DomainError):
    """The UIEPE's allocation cannot cover the maximum cost of a place (art. 13 co. 6)."""

    status = 409
    code = "not_covered"


class OutOfProtocolOrder(DomainError):
    """An earlier application of the same UIEPE is still waiting (art. 12 co. 5)."""

    status = 409
    code = "out_of_protocol_order"


class PlaceUnavailable(DomainError):
    status = 409
    code = "place_unavailable"


class LateDecision(DomainError):
    """A court decision for an attestation that no longer waits for one: recorded in the case
    history, never applied (art. 12 co. 9-10)."""

    status = 409
    code = "late_decision"

    def __init__(self, reference: str, state: str, since: str, since_at: str) -> None:
        """`since`: the Italian date the case entered `state` in law; `since_at`: that
        instant (a lapse: 00:00 after the attestation's last day)."""
        day = date.fromisoformat(since)
        instant = datetime.fromisoformat(since_at).astimezone(ROME)
        super().__init__(
            f"decisione su {reference} non applicata: la pratica è nello stato '{state}' "
            f"dal {day:%d/%m/%Y} (con effetto dalle {instant:%H:%M} del {instant:%d/%m/%Y}, "
            "ora italiana); registrata come messaggio tardivo"
        )
        self.reference, self.state, self.since, self.since_at = reference, state, since, since_at


class BudgetRefused(DomainError):
    status = 409
    code = "budget_refused"


class UnknownMessage(DomainError):
    """A certified-mail receipt for a Message-ID no delivery of a notice carries."""

    status = 404
    code = "unknown_message"

    def __init__(self, message_id: str) -> None:
        super().__init__(f"nessuna comunicazione inviata con Message-ID {message_id}")
        self.message_id = message_id
