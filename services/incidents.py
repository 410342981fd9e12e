"""Incidents a person can act on: what failed every attempt on a case (a timer, a notice that
could not be issued, a message refused) is put back to work once its cause is removed, and
served at once; what is still failing afterwards is said. `misure case retry REF` and the
`retry-incident` deployment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services import delivery, notices, timers
from services.context import Context
from services.errors import UnknownCase
from services.inspection import RETRIED
from services.pages import incident_label
from storage.pages import PageRepository
from storage.repository import NewOutbox
from storage.unit_of_work import UnitOfWork


# incidents -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Retried:
    """What `retry_incidents` put back to work on a case."""

    reference: str
    timers: tuple[str, ...]
    notices: tuple[str, ...]
    deliveries: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.timers) + len(self.notices) + len(self.deliveries)


def retry_incidents(ctx: Context, reference: str, actor: str) -> Retried:
    """Put back to work what failed every attempt on case `reference`, once its cause is
    removed: its failed timers (due for the sweep at once: a term still takes effect at its
    legal instant), its notices that could not be issued (as new messages: a number given to
    the failed one stays annulled, art. 54 D.P.R. 445/2000) and its refused messages. A message
    whose outcome is uncertain is not sent again: its receipt decides. Recorded on the case."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        case = uow.repo.case_by_reference(reference)
        if case is None:
            raise UnknownCase(reference)
        pages = PageRepository(uow.session, uow.postgresql)
        timers = pages.retry_timers(case.id, now)
        notices = _renew_notices(uow, pages, case.id, now)
        names = sorted({d.addressee for d in pages.failed_deliveries(case.id)})
        deliveries = pages.retry_deliveries(case.id, uow.outgoing.addressees(names), now)
        retried = Retried(reference, tuple(timers), tuple(notices), tuple(deliveries))
        if retried.count:
            uow.repo.record_on_case(
                case.id,
                RETRIED,
                actor,
                {"timers": timers, "notices": notices, "deliveries": deliveries},
                "ripresa dopo un incidente",
                now,
            )
        uow.commit()
    return retried


def _renew_notices(
    uow: UnitOfWork, pages: PageRepository, case_id: int, now: datetime
) -> list[str]:
    renewed = []
    for message in pages.failed_notices(case_id):
        again = NewOutbox(message.topic, dict(message.payload or {}))
        uow.repo.add_outbox(message.case_id, message.event_id, again, now)
        pages.supersede(message, now)
        renewed.append(str((message.payload or {}).get("template", message.topic)))
    return renewed


@dataclass(frozen=True)
class Outcome:
    retried: Retried
    left: tuple[str, ...]  # the incidents still open, in Italian

    @property
    def summary(self) -> str:
        r = self.retried
        done = (
            f"ripresi: {_count(len(r.timers), 'termine', 'termini')}, "
            f"{_count(len(r.notices), 'comunicazione', 'comunicazioni')}, "
            f"{_count(len(r.deliveries), 'consegna', 'consegne')}"
        )
        return done + (f"; ancora aperti: {'; '.join(self.left)}" if self.left else "")


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def retry(
    ctx: Context,
    reference: str,
    actor: str,
    office: notices.Office,
    transport: delivery.Transport,
    policy: delivery.DeliveryPolicy,
) -> Outcome:
    """Retry the incidents of case `reference` and serve them now: the sweep fires its retried
    timers (each at its legal instant), its notices are issued, its messages sent."""
    retried = retry_incidents(ctx, reference, actor)
    if retried.timers:
        timers.sweep(ctx, ctx.clock.now())
    if retried.notices:
        notices.render_pending_notices(ctx, office)
    if retried.notices or retried.deliveries:
        delivery.deliver_pending(ctx, transport, policy)
    return Outcome(retried, open_incidents(ctx, reference))


def open_incidents(ctx: Context, reference: str) -> tuple[str, ...]:
    with ctx.read() as uow:
        case = uow.repo.case_by_reference(reference)
        if case is None:
            raise UnknownCase(reference)
        found = PageRepository(uow.session, uow.postgresql).incidents([case.id])
    return tuple(f"{incident_label(i)} ({i.detail})" for i in found)
