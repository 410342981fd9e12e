"""Every notice a procedure puts in the outbox is declared (issue 15): its subject and its
addressees (`Procedure.notices`), for the protocol register and the deliveries. Table-driven
over the procedures `misure.toml` enables: the templates its machines name (transitions and
reminders), the templates its services write in the outbox, the declared ones; each declared
template is a file that extends the shared base (which prints the addressees, so the template
prints none of its own), and is addressed to known parties its cases can have."""

from __future__ import annotations

import ast
import inspect
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from documents.render import TEMPLATES as SHARED_TEMPLATES
from services.procedure import PARTIES, NoticeType, Procedure, load_procedures

ROOT = Path(__file__).resolve().parents[2]
MODULES = tomllib.loads((ROOT / "misure.toml").read_text(encoding="utf-8"))["procedures"]
PROCEDURES = load_procedures(MODULES)
BY_NAME = {procedure.name: procedure for procedure in PROCEDURES}


def machine_templates(procedure: Procedure) -> set[str]:
    """What its machines ask for: each transition's notices and each reminder's notice."""
    return {
        template
        for machine in procedure.machines
        for template in (
            *(notice for transition in machine.transitions for notice in transition.notices),
            *(reminder.notice for reminder in machine.reminders),
        )
    }


def _package(procedure: Procedure, modules: list[str]) -> Path:
    """The folder of the services package that declares `procedure`."""
    module = next(
        sys.modules[name]
        for name in modules
        if getattr(sys.modules[name], "PROCEDURE", None) is procedure
    )
    assert module.__file__ is not None
    return Path(module.__file__).parent


def _outbox_calls(tree: ast.AST) -> Iterator[ast.Call]:
    """Calls `NewOutbox(NOTICE_TOPIC, ...)`: a notice put in the outbox."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "NewOutbox"
            and node.args
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id == "NOTICE_TOPIC"
        ):
            yield node


def service_templates(procedure: Procedure) -> set[str]:
    """The templates its services write in the outbox themselves (a reassignment, a facility
    cancelled under a placed person), read from their source: a template that is not a
    literal cannot be checked, and fails."""
    found: set[str] = set()
    for path in sorted(_package(procedure, MODULES).rglob("*.py")):
        for call in _outbox_calls(ast.parse(path.read_text(encoding="utf-8"))):
            payload = call.args[1] if len(call.args) > 1 else None
            assert isinstance(payload, ast.Dict), f"{path}:{call.lineno}: payload not a dict"
            values = {
                key.value: value
                for key, value in zip(payload.keys, payload.values, strict=True)
                if isinstance(key, ast.Constant)
            }
            template = values.get("template")
            assert isinstance(template, ast.Constant) and isinstance(template.value, str), (
                f"{path}:{call.lineno}: the notice's template is not a literal"
            )
            found.add(template.value)
    return found


def emitted(procedure: Procedure) -> set[str]:
    return machine_templates(procedure) | service_templates(procedure)


def party_roles(procedure: Procedure) -> set[str]:
    """The parties its cases can have: what the modules of its notice contexts declare
    (`PARTY_ROLES`, the keys of the `parti` they return)."""
    modules = {inspect.getmodule(context) for context in procedure.notice_context.values()}
    roles: set[str] = set()
    for module in modules:
        assert isinstance(module, ModuleType)
        declared = getattr(module, "PARTY_ROLES", None)
        assert declared, f"{module.__name__} declares no PARTY_ROLES"
        roles |= set(declared)
    return roles


def template_file(procedure: Procedure, template: str) -> Path | None:
    """Where the renderer finds `template`: the procedure's folder, then the shared one."""
    folders = [f for f in (procedure.templates, SHARED_TEMPLATES) if f is not None]
    return next(
        (f / f"{template}.html" for f in folders if (f / f"{template}.html").is_file()), None
    )


DECLARED = [
    pytest.param(procedure.name, template, notice, id=f"{procedure.name}-{template}")
    for procedure in PROCEDURES
    for template, notice in sorted(procedure.notices.items())
]


def test_the_procedures_of_the_installation_are_checked() -> None:
    assert {"placements", "register", "lpu", "probation"} <= set(BY_NAME)
    # The source scan finds what the placements' services put in the outbox themselves.
    assert {"riassegnazione", "struttura_cancellata_collocamento"} <= service_templates(
        BY_NAME["placements"]
    )


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_notice_a_procedure_issues_is_declared(name: str) -> None:
    procedure = BY_NAME[name]
    missing = emitted(procedure) - set(procedure.notices)
    assert not missing, f"{name}: notices without subject nor addressees: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_a_procedure_declares_no_notice_it_never_issues(name: str) -> None:
    procedure = BY_NAME[name]
    stale = set(procedure.notices) - emitted(procedure)
    assert not stale, f"{name}: declared, never put in the outbox: {sorted(stale)}"


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_each_kind_with_notices_says_who_issues_them(name: str) -> None:
    procedure = BY_NAME[name]
    for machine in procedure.machines:
        asks = {n for t in machine.transitions for n in t.notices} | {
            r.notice for r in machine.reminders
        }
        if asks:
            assert machine.kind in procedure.notice_context, (
                f"{name}: kind {machine.kind} issues notices without a notice context"
            )


@pytest.mark.parametrize(("name", "template", "notice"), DECLARED)
def test_a_declared_notice_is_a_template_on_the_shared_base(
    name: str, template: str, notice: NoticeType
) -> None:
    path = template_file(BY_NAME[name], template)
    assert path is not None, f"{name}: no template {template}.html"
    text = path.read_text(encoding="utf-8")
    assert '{% extends "base.html" %}' in text, f"{path.name}: not on the shared base"
    # The base prints the addressees, the subject and the place and date: not the template.
    for own in ('class="destinatari"', "{{ ufficio }}", "{{ numero }}", "{{ luogo_data }}"):
        assert own not in text, f"{path.name}: prints {own} itself"
    assert "<strong>Oggetto:</strong>" not in text, f"{path.name}: a second subject line"


@pytest.mark.parametrize(("name", "template", "notice"), DECLARED)
def test_a_declared_notice_goes_to_parties_its_cases_can_have(
    name: str, template: str, notice: NoticeType
) -> None:
    assert notice.subject.strip() == notice.subject and len(notice.subject) > 20
    assert notice.addressees, f"{template}: nobody to send it to"
    assert len(set(notice.addressees)) == len(notice.addressees), f"{template}: a role twice"
    assert set(notice.addressees) <= set(PARTIES), f"{template}: unknown role"
    cannot = set(notice.addressees) - party_roles(BY_NAME[name])
    assert not cannot, f"{name}: {template} addressed to {sorted(cannot)}, no party of its cases"
