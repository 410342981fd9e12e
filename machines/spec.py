"""Machines as data: how a case kind declares its states, transitions, guards and terms.

Each kind builds ONE `CaseMachine` at import time. It wraps a module-level `transitions.Machine`
(model=None, auto_transitions=False, send_event=True, model_attribute="state") and fires events
on a thin subject that holds the state of a case as the kind's Enum. Callbacks have no side
effects: guards only answer, and everything a transition causes (event, timers, outbox) is
written by the service in the same transaction as the new state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails
from transitions import Machine
from transitions.core import EventData, MachineError

from machines.calendar import TermRule, Unit, lapse_instant


@dataclass(frozen=True)
class CaseView:
    """What a guard may read of a case: pseudonymous, read-only."""

    reference: str
    state: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class GuardInput:
    """`facts`: what the procedure knows of the case beyond its row (an attestation's issue
    date, a stop on new applications), read on demand from its own tables."""

    case: CaseView
    payload: Mapping[str, Any]
    now: datetime
    facts: Mapping[str, Any] = field(default_factory=dict)


class Payload(BaseModel):
    """Base of the payload schemas: unknown fields are refused, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class NoPayload(Payload):
    """A transition that takes nothing."""


class TimerPayload(Payload):
    """What a term's timer says when it fires its transition."""

    timer: str
    due_at: datetime
    term: str


GuardCheck = Callable[[GuardInput], str | None]


@dataclass(frozen=True)
class Guard:
    """A condition on a transition: `check` returns None to allow, or the reason it refuses."""

    name: str
    check: GuardCheck
    article: str = ""
    field: str | None = None  # the payload field it judges, named in its refusal

    def refusal(self, given: GuardInput) -> str | None:
        reason = self.check(given)
        if reason is None:
            return None
        return f"{reason} ({self.article})" if self.article else reason


@dataclass(frozen=True)
class Transition:
    """`trigger` moves a case from any of `sources` to `dest` when every guard allows it.

    `article` is the legal basis written on the event; `notices` are templates to render and
    `signals` other outbox topics (e.g. a reallocation) written in the same transaction;
    `records` are payload fields kept on the case (a protocol number, a decision date) for
    later guards and documents. `private` are payload fields that are personal data (art. 15
    D.M. 128/2025: an assessment, an income): the guards judge them, the case's data keeps
    them for its notices, and the event carries only their names and a salted digest.
    `restarts` are terms of the state it stays in that it starts again (a periodic report
    filed: the next one is due a cadence after it).
    """

    trigger: str
    sources: tuple[Enum, ...]
    dest: Enum
    article: str
    guards: tuple[Guard, ...] = ()
    notices: tuple[str, ...] = ()
    signals: tuple[str, ...] = ()
    records: tuple[str, ...] = ()
    schema: type[Payload] = NoPayload
    private: tuple[str, ...] = ()
    restarts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Term:
    """Entering `state` starts timer `name`, due when `rule` lapses; it then fires `fires`.

    The timer keeps running while the case moves among `state` and the `through` states (an
    attestation's validity runs from its issue across its transmission to the court, art. 12
    co. 6 D.M. 128/2025); leaving them cancels it.

    A term counts from the day the transition entering `state` took effect, or from the date
    in field `starts_on` of its payload or of the case's data (an administrative term runs from
    the operator's receipt of the notice, whose date is recorded). `days_from` names the field
    holding its length in days when an officer chooses it within bounds the transition's
    schema sets (a defence term of 15 to 45 days, art. 5 co. 3 D.M. 128/2025); `rule` then
    gives its unit, holiday extension and article. `ends`, where the law fixes the last day
    otherwise (a probation of months and days from the record's signature; a report due ten
    days before a hearing, counted backwards), computes it from the payload over the case's data
    and the day counting starts; `rule` then gives the article."""

    state: Enum
    name: str
    rule: TermRule
    fires: str
    through: tuple[Enum, ...] = ()
    starts_on: str | None = None
    days_from: str | None = None
    ends: Callable[[Mapping[str, Any], date], date] | None = None

    @property
    def span(self) -> tuple[Enum, ...]:
        return (self.state, *self.through)

    def rule_for(self, values: Mapping[str, Any]) -> TermRule:
        """The rule as it applies to a case whose payload and data are `values`."""
        if self.days_from is None:
            return self.rule
        return replace(self.rule, amount=int(values[self.days_from]), unit=Unit.DAYS)

    def last_day_for(self, values: Mapping[str, Any], took_effect: date) -> date:
        """The term's last day for a case whose payload and data are `values`."""
        start = self.start_for(values, took_effect)
        if self.ends is not None:
            return self.ends(values, start)
        return self.rule_for(values).last_day(start)

    def start_for(self, values: Mapping[str, Any], took_effect: date) -> date:
        """The day the term counts from: `starts_on`'s date, else the day it took effect."""
        if self.starts_on is None:
            return took_effect
        return date.fromisoformat(str(values[self.starts_on]))


@dataclass(frozen=True)
class Reminder:
    """`days` before timer `of` is due, notice `notice` is issued; the case does not move. It
    starts, runs and is cancelled with that timer (e.g. the warning 30 days before the end of
    a funded stay)."""

    of: str
    name: str
    days: int
    notice: str

    def due_at(self, rule: TermRule, start: date) -> datetime:
        """00:00 Europe/Rome `days` civil days before its term's own due instant (the term's
        `rule` as it applies to the case)."""
        return self.due_before(rule.last_day(start))

    def due_before(self, last_day: date) -> datetime:
        """00:00 Europe/Rome `days` civil days before the instant a term ending on `last_day`
        lapses."""
        return lapse_instant(last_day - timedelta(days=self.days))


@dataclass(frozen=True)
class Verdict:
    """Whether `trigger` may fire now; `reasons` say why not."""

    trigger: str
    allowed: bool
    dest: str | None
    reasons: tuple[str, ...] = ()


class MachineRefusal(Exception):
    """Base of the refusals a machine gives; the services map them to domain errors."""


class TriggerNotAllowed(MachineRefusal):
    def __init__(self, trigger: str, state: str, known: bool) -> None:
        self.trigger, self.state, self.known = trigger, state, known
        if known:
            super().__init__(f"trigger '{trigger}' non consentito dallo stato '{state}'")
        else:
            super().__init__(
                f"trigger '{trigger}' non previsto per questo tipo di pratica (stato '{state}')"
            )


class GuardRefused(MachineRefusal):
    def __init__(self, trigger: str, reasons: tuple[str, ...], field: str | None = None) -> None:
        self.trigger, self.reasons, self.field = trigger, reasons, field
        super().__init__(f"trigger '{trigger}' rifiutato: " + "; ".join(reasons))


class PayloadRefused(MachineRefusal):
    """A payload that does not fit its transition's schema; `field` is the first one at
    fault (dotted), or None when the payload as a whole is wrong. `error` is pydantic's
    account of it, for the services to word `reason` in Italian (`payload_refusal`)."""

    def __init__(
        self, trigger: str, field: str | None, reason: str, error: ErrorDetails | None = None
    ) -> None:
        self.trigger, self.field, self.reason, self.error = trigger, field, reason, error
        super().__init__(payload_refusal(trigger, field, reason))


def payload_refusal(trigger: str, field: str | None, reason: str) -> str:
    """What a user reads of a payload refused: the trigger, the field and why."""
    where = f", campo '{field}'" if field else ""
    return f"dati di '{trigger}'{where}: {reason}"


class TermNotLapsed(MachineRefusal):
    """A transition that only a term's lapse may cause, asked for by someone else."""

    def __init__(self, trigger: str, term: str) -> None:
        self.trigger, self.term = trigger, term
        super().__init__(
            f"trigger '{trigger}' applicato solo dal timer, alla scadenza del termine '{term}'"
        )


@dataclass
class _Subject:
    """What `transitions` sees: the state as the kind's Enum, and the guard input."""

    state: Enum
    given: GuardInput
    refusals: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)  # of the guards that refused


@dataclass(frozen=True)
class Fired:
    source: Enum
    dest: Enum
    transition: Transition


class CaseMachine:
    """One kind's machine: states, transitions and terms as data, fired through `transitions`."""

    def __init__(
        self,
        kind: str,
        prefix: str,
        states: type[Enum],
        initial: Enum,
        transitions: tuple[Transition, ...],
        terms: tuple[Term, ...] = (),
        labels: Mapping[str, str] | None = None,
        reminders: tuple[Reminder, ...] = (),
        opening: type[Payload] = NoPayload,
        opening_guards: tuple[Guard, ...] = (),
        awaits: Mapping[Enum, str] | None = None,
    ) -> None:
        """`labels`: the Italian names of the kind, its states and triggers, for documents.
        `opening`: the schema of the data a case is opened with; `opening_guards` judge it.
        `awaits`: state -> the party whose act the case waits for there (`office`, `court`,
        `prison`, `facility`, `directorate`, `host_entity`): what puts it in a work queue."""
        self.kind, self.prefix, self.states, self.initial = kind, prefix, states, initial
        self.awaits = {state.value: party for state, party in (awaits or {}).items()}
        self.transitions, self.terms, self.reminders = transitions, terms, reminders
        self.opening, self.opening_guards = opening, opening_guards
        self.labels = dict(labels or {})
        self._check_declaration()
        self._engine = Machine(
            model=None,
            states=states,
            initial=None,
            auto_transitions=False,
            send_event=True,
            model_attribute="state",
        )
        for transition in transitions:
            self._engine.add_transition(
                transition.trigger,
                list(transition.sources),
                transition.dest,
                conditions=[_condition(guard) for guard in transition.guards],
            )

    def _check_declaration(self) -> None:
        seen: set[tuple[str, Enum]] = set()
        for transition in self.transitions:
            for source in transition.sources:
                key = (transition.trigger, source)
                if key in seen:
                    raise ValueError(f"{self.kind}: {key} declared twice")
                seen.add(key)
            if not transition.article:
                raise ValueError(f"{self.kind}: transition {transition.trigger} has no article")
        triggers = self.triggers
        for term in self.terms:
            if term.fires not in triggers:
                raise ValueError(f"{self.kind}: term {term.name} fires unknown {term.fires}")
            # A state the term runs through is entered only from within its span: the timer is
            # then always running there.
            for transition in self.transitions:
                outside = [s for s in transition.sources if s not in term.span]
                if transition.dest in term.through and outside:
                    raise ValueError(
                        f"{self.kind}: {transition.trigger} enters {transition.dest.value}, "
                        f"which term {term.name} runs through, from outside it"
                    )
        declared = {name for t in self.transitions for name in t.schema.model_fields}
        declared |= set(self.opening.model_fields)
        for term in self.terms:
            for name in (term.starts_on, term.days_from):
                if name is not None and name not in declared:
                    raise ValueError(f"{self.kind}: term {term.name} counts on undeclared {name}")
            if term.days_from is not None and term.rule.unit is not Unit.DAYS:
                raise ValueError(f"{self.kind}: term {term.name} takes its days, not months")
        for trigger in self.triggers:
            schemas = {t.schema for t in self.transitions if t.trigger == trigger}
            if len(schemas) != 1:
                raise ValueError(f"{self.kind}: the transitions of {trigger} differ in schema")
        names = [term.name for term in self.terms] + [r.name for r in self.reminders]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.kind}: two terms or reminders share a name")
        for state in self.awaits:
            if state not in {s.value for s in self.states}:
                raise ValueError(f"{self.kind}: awaits names unknown state {state}")
        for reminder in self.reminders:
            if reminder.of not in names or reminder.days < 1:
                raise ValueError(f"{self.kind}: reminder {reminder.name} needs a term and days")

    @property
    def triggers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.trigger for t in self.transitions))

    def state(self, value: str) -> Enum:
        return self.states(value)

    def schema_of(self, trigger: str) -> type[Payload]:
        """The payload schema of `trigger` as a person or a service fires it (a term's timer
        always says `TimerPayload`)."""
        return next((t.schema for t in self.transitions if t.trigger == trigger), NoPayload)

    def validate(
        self, trigger: str, payload: Mapping[str, Any], by_timer: bool = False
    ) -> dict[str, Any]:
        """The payload as its schema reads it (dates as ISO text), or `PayloadRefused`."""
        schema = TimerPayload if by_timer else self.schema_of(trigger)
        return _validated(schema, trigger, payload)

    def validate_opening(self, data: Mapping[str, Any]) -> dict[str, Any]:
        return _validated(self.opening, "open", data)

    def judge_opening(self, given: GuardInput) -> None:
        """`GuardRefused` if an opening guard refuses the data."""
        _judge("open", self.opening_guards, given)

    def judge_guards(self, trigger: str, given: GuardInput) -> None:
        """`GuardRefused` if a guard of `trigger` refuses, whatever the state the case is in
        (a message kept without being applied must still pass them)."""
        transition = next((t for t in self.transitions if t.trigger == trigger), None)
        if transition is not None:
            _judge(trigger, transition.guards, given)

    def term_firing(self, trigger: str, source: Enum) -> Term | None:
        """The term whose lapse alone causes `trigger` from `source`, if any: a trigger that
        no transition declares outside its term's span (a lapse, the end of a funded stay).
        Nobody but its timer fires it: the law makes it happen at the term's instant."""
        sources = {s for t in self.transitions if t.trigger == trigger for s in t.sources}
        return next(
            (
                term
                for term in self.terms
                if term.fires == trigger and source in term.span and sources <= set(term.span)
            ),
            None,
        )

    def label(self, name: str) -> str:
        """The Italian label of the kind, a state or a trigger (its name if none is declared)."""
        return self.labels.get(name, name.replace("_", " "))

    def terms_of(self, state: Enum) -> tuple[Term, ...]:
        """The terms that entering `state` starts."""
        return tuple(term for term in self.terms if term.state == state)

    def kept_terms(
        self, source: Enum, dest: Enum, restarts: tuple[str, ...] = ()
    ) -> tuple[str, ...]:
        """Names of the timers (terms and their reminders) that keep running when a case moves
        from `source` to `dest`, less the terms the transition `restarts`."""
        kept = tuple(
            t.name
            for t in self.terms
            if source in t.span and dest in t.span and t.name not in restarts
        )
        return kept + tuple(r.name for r in self.reminders if r.of in kept)

    def starting_terms(
        self, source: Enum | None, dest: Enum, restarts: tuple[str, ...] = ()
    ) -> tuple[Term, ...]:
        """The terms a move into `dest` starts (not those already running since `source`,
        unless the transition `restarts` them)."""
        kept = () if source is None else self.kept_terms(source, dest, restarts)
        return tuple(term for term in self.terms_of(dest) if term.name not in kept)

    def reminders_of(self, term: Term) -> tuple[Reminder, ...]:
        return tuple(r for r in self.reminders if r.of == term.name)

    def reminder(self, name: str) -> Reminder:
        return next(r for r in self.reminders if r.name == name)

    def runs_in(self, timer: str, state: str) -> bool:
        """Whether timer `timer` (a term or a reminder) is still meant to run in `state`."""
        term = next((r.of for r in self.reminders if r.name == timer), timer)
        return any(t.name == term and self.state(state) in t.span for t in self.terms)

    def dest_of(self, trigger: str, state: str) -> str | None:
        """Where `trigger` leads from `state`, guards aside; None if it is not declared there."""
        transition = self._transition(trigger, self.state(state))
        return None if transition is None else transition.dest.value

    def _transition(self, trigger: str, source: Enum) -> Transition | None:
        for transition in self.transitions:
            if transition.trigger == trigger and source in transition.sources:
                return transition
        return None

    def fire(self, trigger: str, given: GuardInput) -> Fired:
        """Fire `trigger` on a case in `given.case.state`; raise a `MachineRefusal` if refused."""
        source = self.state(given.case.state)
        transition = self._transition(trigger, source)
        if transition is None:
            raise TriggerNotAllowed(trigger, source.value, trigger in self.triggers)
        subject = _Subject(state=source, given=given)
        try:
            moved = self._engine.events[trigger].trigger(subject)
        except MachineError as error:  # pragma: no cover - _transition() checked it
            raise TriggerNotAllowed(trigger, source.value, True) from error
        if not moved:
            first_field = subject.fields[0] if subject.fields else None
            raise GuardRefused(trigger, tuple(subject.refusals), first_field)
        return Fired(source=source, dest=subject.state, transition=transition)

    def verdicts(self, given: GuardInput) -> tuple[Verdict, ...]:
        """What can happen now: every trigger, allowed or not, and why not."""
        source = self.state(given.case.state)
        verdicts = []
        for trigger in self.triggers:
            transition = self._transition(trigger, source)
            if transition is None:
                reason = f"non consentito dallo stato '{source.value}'"
                verdicts.append(Verdict(trigger, False, None, (reason,)))
                continue
            reasons = tuple(
                refusal for guard in transition.guards if (refusal := _safe_refusal(guard, given))
            )
            verdicts.append(Verdict(trigger, not reasons, transition.dest.value, reasons))
        return tuple(verdicts)


def _judge(trigger: str, guards: tuple[Guard, ...], given: GuardInput) -> None:
    refusing = [(g, r) for g in guards if (r := g.refusal(given)) is not None]
    if refusing:
        fields = [guard.field for guard, _ in refusing if guard.field]
        reasons = tuple(reason for _, reason in refusing)
        raise GuardRefused(trigger, reasons, fields[0] if fields else None)


def _validated(schema: type[Payload], trigger: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return schema.model_validate(dict(payload)).model_dump(mode="json", exclude_unset=True)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or None
        raise PayloadRefused(trigger, where, str(first.get("msg")), first) from None


def _safe_refusal(guard: Guard, given: GuardInput) -> str | None:
    """A guard that crashes cannot allow anything: say so instead of failing the whole answer."""
    try:
        return guard.refusal(given)
    except Exception as error:
        return f"regola {guard.name} non verificabile: {type(error).__name__}: {error}"


def _condition(guard: Guard) -> Callable[[EventData], bool]:
    def check(event: EventData) -> bool:
        subject = event.model
        assert isinstance(subject, _Subject)
        refusal = guard.refusal(subject.given)
        if refusal is not None:
            subject.refusals.append(refusal)
            if guard.field is not None:
                subject.fields.append(guard.field)
        return refusal is None

    check.__name__ = f"guard_{guard.name}"
    return check
