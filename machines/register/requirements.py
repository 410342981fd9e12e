"""What a facility and its operator must have to be on the register (D.M. 24 luglio 2025 n. 128,
arts. 6-9), as dated data: each requirement names its article and the day it holds from, so
that a change of the decree is a change of this table, not of the code that reads it.

`missing(facility, people, today)` names every requirement a facility's case does not meet,
each with its article; an empty list means the facility may be registered."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

DM = "D.M. 128/2025"
DECREE = "D.M. 24 luglio 2025 n. 128"
IN_FORCE = date(2025, 7, 24)  # the decree's date: the rules below hold from it


@dataclass(frozen=True)
class Rule:
    """One requirement: `key` in the case's data, the Italian `label` a refusal names, the
    `article`, and the day it holds from (`since`), with its `source`."""

    key: str
    label: str
    article: str
    since: date = IN_FORCE
    source: str = DECREE


# Operator types (art. 8 co. 1): who may file an expression of interest.
OPERATOR_TYPES: Mapping[str, Rule] = {
    "a": Rule("a", "ente pubblico", f"art. 8 co. 1 a {DM}"),
    "b": Rule("b", "ente locale", f"art. 8 co. 1 b {DM}"),
    "c": Rule("c", "ente del servizio sanitario", f"art. 8 co. 1 c {DM}"),
    "d": Rule("d", "ente od organismo del terzo settore", f"art. 8 co. 1 d {DM}"),
    "e": Rule("e", "soggetti di cui alle lettere a)-d) in forma associata", f"art. 8 co. 1 e {DM}"),
}
THIRD_SECTOR = "d"

# A third-sector body (d, also inside a combination e) must also be registered in RUNTS and
# carry out accommodation or reintegration by statute (art. 8 co. 1 d).
THIRD_SECTOR_RULES = (
    Rule(
        "runts_registered",
        "iscrizione al RUNTS (o all'anagrafe delle ONLUS)",
        f"art. 8 co. 1 d {DM}",
    ),
    Rule(
        "statute_covers_accommodation",
        "attività statutaria di accoglienza residenziale, alloggio sociale, reinserimento "
        "socio-lavorativo o riqualificazione professionale",
        f"art. 8 co. 1 d {DM}",
    ),
)

# The facility itself (arts. 6-7): a community-type structure or a temporary residential activity.
STRUCTURE_TYPES: Mapping[str, Rule] = {
    "community": Rule(
        "community",
        "struttura a carattere comunitario (All. A D.M. 308/2001)",
        f"art. 6 co. 1 a {DM}",
    ),
    "temporary": Rule(
        "temporary",
        "attività residenziale temporanea (art. 5 co. 1 q d.lgs. 117/2017)",
        f"art. 6 co. 1 b {DM}",
    ),
}
FACILITY_RULES = (
    Rule("housing_suitable", "idoneità alloggiativa", f"art. 7 co. 1 {DM}"),
    Rule("hygiene_suitable", "idoneità igienico-sanitaria", f"art. 7 co. 1 {DM}"),
    Rule(
        "residence_registration",
        "possibilità per i residenti di iscriversi all'anagrafe del comune",
        f"art. 7 co. 1 {DM}",
    ),
)
SERVICES = (
    Rule("accommodation", "idonea accoglienza residenziale", f"art. 7 co. 2 a {DM}"),
    Rule("personal_assistance", "servizi di assistenza alla persona", f"art. 7 co. 2 b {DM}"),
    Rule("reintegration", "programmi di reinserimento socio-lavorativo", f"art. 7 co. 2 c {DM}"),
)
# A facility authorised or accredited by the competent territorial bodies is suitable if it
# also provides art. 7 co. 2 (b) and (c) (art. 9 co. 1); its operator still meets art. 8.
AUTHORISED_SERVICES = ("personal_assistance", "reintegration")
AUTHORISED_ARTICLE = f"art. 9 co. 1 {DM}"

# Integrity of each member, associate, director, representative and manager of a third-sector
# operator (art. 8 co. 2 a-g), with the carve-outs of art. 8 co. 3 and of letter (f).
ROLES = {
    "member": "socio",
    "associate": "associato",
    "director": "amministratore",
    "representative": "rappresentante",
    "manager": "responsabile",
}
INTEGRITY = (
    Rule(
        "legal_incapacity",
        "interdizione, inabilitazione o amministrazione di sostegno",
        f"art. 8 co. 2 a {DM}",
    ),
    Rule(
        "conviction",
        "condanna definitiva per delitto non colposo a pena detentiva",
        f"art. 8 co. 2 b {DM}",
    ),
    Rule(
        "plea_with_accessory",
        "sentenza definitiva ex art. 444 co. 2 c.p.p. per delitto non colposo con pene accessorie",
        f"art. 8 co. 2 c {DM}",
    ),
    Rule(
        "pending_proceedings",
        "procedimento penale in corso per delitto non colposo",
        f"art. 8 co. 2 d {DM}",
    ),
    Rule("public_office_ban", "interdizione dai pubblici uffici", f"art. 8 co. 2 e {DM}"),
    Rule("prevention_measure", "misura di prevenzione", f"art. 8 co. 2 f {DM}"),
    Rule("security_measure", "misura di sicurezza personale", f"art. 8 co. 2 f {DM}"),
)
# (b) and (c): saved by rehabilitation or by revocation for abolition of the offence (art. 8
# co. 3, art. 673 co. 1 c.p.p.); (f): a prevention measure is saved by rehabilitation.
SAVED_BY = {
    "conviction": ("rehabilitated", "revoked_for_abolition"),
    "plea_with_accessory": ("rehabilitated", "revoked_for_abolition"),
    "prevention_measure": ("prevention_rehabilitated",),
}
# (g): a disciplinary sanction above the minimum, for members of a professional order, in the
# last five years.
DISCIPLINARY_YEARS = 5
DISCIPLINARY_ARTICLE = f"art. 8 co. 2 g {DM}"


def third_sector(facility: Mapping[str, Any]) -> bool:
    """Whether the operator is, or includes, a third-sector body (art. 8 co. 1 d, e)."""
    kind = facility.get("operator_type")
    return kind == THIRD_SECTOR or (kind == "e" and THIRD_SECTOR in facility.get("members", ()))


def missing(
    facility: Mapping[str, Any], people: Sequence[Mapping[str, Any]], today: date
) -> list[str]:
    """Every requirement of arts. 6-9 the facility's case does not meet, each with its article,
    among the rules in force `today`."""
    gaps = _operator(facility, today) + _structure(facility, today)
    if third_sector(facility):
        gaps += _integrity(people, today)
    return gaps


def _in_force(rules: Sequence[Rule], today: date) -> list[Rule]:
    return [rule for rule in rules if rule.since <= today]


def _named(rule: Rule) -> str:
    return f"{rule.label} ({rule.article})"


def _operator(facility: Mapping[str, Any], today: date) -> list[str]:
    kind = facility.get("operator_type")
    if kind not in OPERATOR_TYPES or OPERATOR_TYPES[str(kind)].since > today:
        return [f"tipologia di ente gestore ammessa (art. 8 co. 1 {DM})"]
    gaps = []
    if kind == "e":
        members = [m for m in facility.get("members", ()) if m in OPERATOR_TYPES and m != "e"]
        if len(members) < 2:
            gaps.append(
                "forma associata di almeno due soggetti di cui alle lettere a)-d) "
                f"(art. 8 co. 1 e {DM})"
            )
    if third_sector(facility):
        gaps += [
            _named(r)
            for r in _in_force(THIRD_SECTOR_RULES, today)
            if facility.get(r.key) is not True
        ]
    return gaps


def _structure(facility: Mapping[str, Any], today: date) -> list[str]:
    services = {rule.key: rule for rule in _in_force(SERVICES, today)}
    if facility.get("territorially_authorised") is True:
        # art. 9 co. 1: suitable if it also provides art. 7 co. 2 (b) and (c)
        return [
            f"{services[key].label} ({services[key].article}; {AUTHORISED_ARTICLE})"
            for key in AUTHORISED_SERVICES
            if key in services and facility.get(key) is not True
        ]
    gaps = []
    structure = STRUCTURE_TYPES.get(str(facility.get("structure_type")))
    if structure is None or structure.since > today:
        gaps.append(
            "struttura a carattere comunitario o attività residenziale temporanea "
            f"(art. 6 co. 1 {DM})"
        )
    gaps += [_named(r) for r in _in_force(FACILITY_RULES, today) if facility.get(r.key) is not True]
    gaps += [_named(r) for r in services.values() if facility.get(r.key) is not True]
    return gaps


def _integrity(people: Sequence[Mapping[str, Any]], today: date) -> list[str]:
    if not people:
        return [
            "dichiarazioni dei soci, associati, amministratori, rappresentanti e responsabili "
            f"(art. 8 co. 2 {DM})"
        ]
    gaps = []
    for number, person in enumerate(people, start=1):
        who = f"persona n. {number} ({ROLES.get(str(person.get('role')), 'ruolo non indicato')})"
        for rule in _in_force(INTEGRITY, today):
            if person.get(rule.key) is True and not any(
                person.get(saving) is True for saving in SAVED_BY.get(rule.key, ())
            ):
                gaps.append(f"{who}: {_named(rule)}")
        sanctioned = person.get("disciplinary_sanction_on")
        if sanctioned and _within_years(
            date.fromisoformat(str(sanctioned)), today, DISCIPLINARY_YEARS
        ):
            gaps.append(
                f"{who}: sanzione disciplinare più grave della minima negli ultimi "
                f"{DISCIPLINARY_YEARS} anni ({DISCIPLINARY_ARTICLE})"
            )
    return gaps


def _within_years(day: date, today: date, years: int) -> bool:
    """Whether `day` falls in the `years` years up to `today` (the same day `years` years
    before is the first day inside; 29 February counts from 28 February)."""
    try:
        first = today.replace(year=today.year - years)
    except ValueError:
        first = today.replace(year=today.year - years, day=28)
    return first <= day <= today
