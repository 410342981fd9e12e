"""A procedure plugs into the shared services with one declaration (ARCHITECTURE.md: one
package per procedure in each layer). The shared code (engine, timers, notices, the CLI root,
the API app, the stack) reads these declarations and names no procedure; which procedures run
is configuration (`MISURE_PROCEDURES`: modules exposing `PROCEDURE`).

What lives above the services (its CLI commands, its API router, its flows) is named by import
path, so that the services never import those layers; the layer that needs it imports it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from machines.spec import CaseMachine
from services.applied import Effect, Facts, Reaction, Summary

if TYPE_CHECKING:
    from datetime import datetime

    from services.context import Context
    from storage.models import Case, CaseEvent
    from storage.unit_of_work import UnitOfWork

NoticeContext = Callable[["UnitOfWork", "Case", "CaseEvent", "datetime"], dict[str, Any]]
"""What the notices of a kind need beyond the case and its event: `emittente` (the issuing
office: {"codice", "nome", "sede"}, whose letterhead and signatory the reference data give),
`parti` (role -> the name of that party in this case, None where it has none yet) and what its
templates print."""

PARTIES: Mapping[str, str] = {
    "court": "Autorità giudiziaria",
    "prison": "Direzione dell'istituto penitenziario",
    "facility": "Struttura residenziale",
    "office": "Ufficio di esecuzione penale esterna",
    "directorate": "Direzione generale per la giustizia di comunità",
    "host_entity": "Ente ospitante",
}
"""The parties a notice may be addressed to (Italian names); each is reached at the certified
e-mail the reference data give for its name."""

IDENTITY_PARTIES = frozenset({"court", "prison"})
"""The parties entitled to the person's identity: their messages carry the identification
annex (art. 15 D.M. 128/2025: the notice's body names only the pseudonymous reference)."""


@dataclass(frozen=True)
class NoticeType:
    """What a notice is, for the protocol register and its delivery: its subject line
    (Italian; the case's reference is added) and the parties it is addressed to, in order
    (keys of `PARTIES`; a party the case has not got yet is left out)."""

    subject: str
    addressees: tuple[str, ...]

    def __post_init__(self) -> None:
        unknown = [role for role in self.addressees if role not in PARTIES]
        if unknown or not self.addressees:
            raise ValueError(f"notice {self.subject!r}: addressees {unknown or '()'} unknown")


@dataclass(frozen=True)
class SignalHandler:
    """What serves a signal (an outbox topic) at once: the deployment that does it where
    Prefect runs (`flow-name/deployment-name`), and the service that does it in the process
    otherwise, returning the rows of what it did (for an artifact or a log line)."""

    deployment: str
    run: Callable[[Context], list[dict[str, Any]]]
    label: str = ""  # Italian: what it does, for artifacts and messages


@dataclass(frozen=True)
class Procedure:
    """One procedure, as the shared code sees it.

    - `machines`: its case kinds;
    - `effects`: kind -> trigger -> what the transition writes in the procedure's own tables,
      in the transition's transaction, whoever fires it;
    - `facts`: kind -> what its guards may read beyond the case row; `summaries`: kind -> what
      a clerk reads of a case (`case show`);
    - `notice_context`: kind -> the data its notices need; `templates`: their folder;
      `notices`: template -> its subject and addressees (every template its machines or
      services put in the outbox);
    - `signals`: topic -> what serves it at once;
    - `announces`: the topics its effects announce on (`Applied.announce`), in the transaction
      of the change; `reactions`: topic -> what it does when any procedure announces on it, in
      that same transaction (the register announces a facility's standing; placements release
      the places of a cancelled facility). Topics are the interface: no procedure imports
      another;
    - `tables`: the modules declaring its tables (imported before the schema is migrated);
      `migrations`: its own Alembic version folder, if its tables are not in the shared chain;
    - `provides`: name -> a service other procedures may call where this one runs, by name
      (the register's enrolment of a demo's fictional facilities);
    - `cli`: `module:function` adding its commands to the CLI root, given a Typer
      (`cli.common.Commands`): at once, as on any Typer, or by name with one line of help
      (`Commands.lazy`), each imported only when it runs. The root reads `cli` from this
      declaration's source without running it (a string literal; otherwise it imports the
      module) and imports the module it names to list the commands: keep that module cheap
      (`cli/placements/__init__.py`), and `misure --help` imports no procedure;
      `api`: `module:function` returning its FastAPI router; `deployments`: its prefect.yaml
      fragment;
    - `demo`: `module:function` loading its demo data into an empty database.
    """

    name: str
    machines: tuple[CaseMachine, ...]
    effects: Mapping[str, Mapping[str, Effect]] = field(default_factory=dict)
    facts: Mapping[str, Facts] = field(default_factory=dict)
    summaries: Mapping[str, Summary] = field(default_factory=dict)
    notice_context: Mapping[str, NoticeContext] = field(default_factory=dict)
    templates: Path | None = None
    notices: Mapping[str, NoticeType] = field(default_factory=dict)
    signals: Mapping[str, SignalHandler] = field(default_factory=dict)
    announces: tuple[str, ...] = ()
    reactions: Mapping[str, Reaction] = field(default_factory=dict)
    provides: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    tables: tuple[str, ...] = ()
    migrations: Path | None = None
    cli: str | None = None
    api: str | None = None
    token_roles: Mapping[str, str] = field(default_factory=dict)
    deployments: Path | None = None
    demo: str | None = None


def load_procedures(modules: Iterable[str]) -> tuple[Procedure, ...]:
    """The procedures declared by `modules` (each exposes `PROCEDURE`), names and kinds
    unique."""
    found: list[Procedure] = []
    for name in modules:
        procedure = getattr(import_module(name), "PROCEDURE", None)
        if not isinstance(procedure, Procedure):
            raise ValueError(f"module {name} has no PROCEDURE of type Procedure")
        if procedure.name in {p.name for p in found}:
            raise ValueError(f"procedure {procedure.name} is declared twice")
        found.append(procedure)
    return tuple(found)


def attribute(path: str) -> Any:
    """The object at `module:name` (a procedure's CLI registration, API router, demo)."""
    module, _, name = path.partition(":")
    return getattr(import_module(module), name)
