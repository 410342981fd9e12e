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
"""What the notices of a kind need beyond the case and its event (who signs them, the place)."""


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
    - `cli`: `module:function` adding its commands to the CLI root; `api`: `module:function`
      returning its FastAPI router; `deployments`: its prefect.yaml fragment;
    - `demo`: `module:function` loading its demo data into an empty database.
    """

    name: str
    machines: tuple[CaseMachine, ...]
    effects: Mapping[str, Mapping[str, Effect]] = field(default_factory=dict)
    facts: Mapping[str, Facts] = field(default_factory=dict)
    summaries: Mapping[str, Summary] = field(default_factory=dict)
    notice_context: Mapping[str, NoticeContext] = field(default_factory=dict)
    templates: Path | None = None
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
