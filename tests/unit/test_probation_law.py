"""The rules of MAP (L. 67/2014; DOMAIN.md section 3) as dated data: eligibility, durations,
reports, LPU, terms counted back from a hearing, revocation, art. 657-bis c.p.p.; named legal
cases, then properties."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from machines.calendar import add_months, is_holiday
from machines.lpu.forms import form_in_force
from machines.probation.law import (
    CONNECTED_OFFENCES,
    DAYS_SERVED_MAX,
    LISTS_550,
    MAP_IN_FORCE,
    SHORTEST_MONTH_DAYS,
    ConnectionOverride,
    EarlierProbation,
    NotInForce,
    Offence,
    Outcome,
    RefusalCode,
    article_numbers,
    credit_rate_on,
    duration_refusal,
    eligibility_refusals,
    final_report_last_day,
    list_550_on,
    lpu_days_refusal,
    lpu_hours_refusal,
    max_period,
    probation_credit,
    report_cadence_refusal,
    revocation_cause,
    revocation_causes,
    revocation_notice_refusal,
    rules_on,
)

TODAY = date(2026, 3, 2)
THEFT = Offence("art. 624 c.p.", fine_only=False, max_detention_months=36)
FINE_ONLY = Offence("art. 726 c.p.", fine_only=True, max_detention_months=None)


def detention(months: int, article: str = "art. 999 c.p.", listed: str | None = None) -> Offence:
    return Offence(article, fine_only=False, max_detention_months=months, listed_550=listed)


def codes(
    offence: Offence,
    *,
    on: date = TODAY,
    habitual: bool = False,
    earlier: Sequence[EarlierProbation] = (),
    override: ConnectionOverride | None = None,
) -> list[tuple[RefusalCode, str, str]]:
    """Each refusal as (code, field, article), checking that its message names its article."""
    refusals = eligibility_refusals(
        offence, on, habitual=habitual, earlier=earlier, override=override
    )
    for refusal in refusals:
        assert refusal.article in refusal.message  # every message names its article
        assert str(refusal) == refusal.message
    return [(refusal.code, refusal.field, refusal.article) for refusal in refusals]


# Eligibility: the offence ---------------------------------------------------------------------
LIMIT = (RefusalCode.OFFENCE_LIMIT, "offence.max_detention_months", "art. 168-bis co. 1 c.p.")


@pytest.mark.parametrize(
    ("offence", "expected"),
    [
        (detention(48), []),  # at most 4 years (art. 168-bis co. 1 c.p.)
        (detention(1), []),
        (
            detention(49),
            [LIMIT],
        ),
        (
            detention(72, "art. 624-bis c.p."),
            [LIMIT],
        ),
        (FINE_ONLY, []),  # fine only, whatever the amount
        # art. 550 co. 2 c.p.p.: eligible whatever the penalty
        (detention(72, "artt. 624, 625 co. 1 n. 2 c.p.", "furto_aggravato"), []),
        (detention(96, "art. 648 c.p.", "ricettazione"), []),
        (detention(60, "art. 336 c.p.", "violenza_minaccia_pu"), []),
        (detention(60, "art. 337 c.p.", "resistenza_pu"), []),
        (detention(60, "art. 343 co. 2 c.p.", "oltraggio_magistrato_aggravato"), []),
        (detention(60, "art. 349 co. 2 c.p.", "violazione_sigilli_aggravata"), []),
        (detention(72, "art. 588 co. 2 c.p.", "rissa_aggravata"), []),
        (detention(60, "art. 590-bis c.p.", "lesioni_stradali"), []),  # from 25/03/2016
        # a key outside the list, or one that does not match the charge
        (
            detention(72, "art. 624-bis c.p.", "furto_in_abitazione"),
            [(RefusalCode.NOT_LISTED, "offence.listed_550", "art. 550 co. 2 c.p.p.")],
        ),
        (
            detention(72, "art. 648-bis c.p.", "ricettazione"),  # riciclaggio is not ricettazione
            [(RefusalCode.LISTED_MISMATCH, "offence.listed_550", "art. 550 co. 2 c.p.p.")],
        ),
        (
            detention(36, "art. 624 c.p.", "ricettazione"),  # wrong key, even if within 4 years
            [(RefusalCode.LISTED_MISMATCH, "offence.listed_550", "art. 550 co. 2 c.p.p.")],
        ),
    ],
)  # fmt: skip
def test_the_offence(offence: Offence, expected: list[tuple[RefusalCode, str, str]]) -> None:
    assert codes(offence) == expected


def test_the_list_names_the_offences_of_the_seed_with_their_articles() -> None:
    listed = {key: entry.article for key, entry in list_550_on(TODAY).by_key().items()}
    assert listed == {
        "violenza_minaccia_pu": "art. 336 c.p.",
        "resistenza_pu": "art. 337 c.p.",
        "oltraggio_magistrato_aggravato": "art. 343 co. 2 c.p.",
        "violazione_sigilli_aggravata": "art. 349 co. 2 c.p.",
        "rissa_aggravata": "art. 588 co. 2 c.p.",
        "lesioni_stradali": "art. 590-bis c.p.",
        "furto_aggravato": "art. 625 c.p.",
        "ricettazione": "art. 648 c.p.",
    }
    for version in LISTS_550:
        for entry in version.entries:
            assert entry.description and entry.number in article_numbers(entry.article)


def test_the_list_is_dated_road_injuries_from_2016_and_the_2022_gap_is_said() -> None:
    road = detention(60, "art. 590-bis c.p.", "lesioni_stradali")
    before = eligibility_refusals(road, date(2016, 3, 24), habitual=False)
    assert [refusal.code for refusal in before] == [RefusalCode.NOT_LISTED]
    assert "nell'elenco dal 25/03/2016" in before[0].message
    assert eligibility_refusals(road, date(2016, 3, 25), habitual=False) == []
    assert len(list_550_on(date(2016, 3, 24)).entries) == 7  # the seed's seven
    # after the 2022 reform, an unknown key says the reform's additions are not recorded
    late = eligibility_refusals(detention(72, "art. 1 c.p.", "x"), date(2023, 1, 2), habitual=False)
    assert "d.lgs. 150/2022" in late[0].message and "in vigore il 02/01/2023" in late[0].message
    early = eligibility_refusals(
        detention(72, "art. 1 c.p.", "x"), date(2022, 12, 29), habitual=False
    )
    assert "d.lgs. 150/2022" not in early[0].message


def test_the_threshold_message_names_the_bound_in_years_and_months() -> None:
    [refusal] = eligibility_refusals(detention(49, "art. 640 co. 2 c.p."), TODAY, habitual=False)
    assert "art. 640 co. 2 c.p.: pena detentiva massima di 49 mesi, oltre 4 anni (48 mesi)" in (
        refusal.message
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"article": " ", "fine_only": True, "max_detention_months": None}, "senza articolo"),
        ({"article": "a", "fine_only": True, "max_detention_months": 12}, "sola pena pecuniaria"),
        ({"article": "a", "fine_only": False, "max_detention_months": None}, "indicare la pena"),
        ({"article": "a", "fine_only": False, "max_detention_months": 0}, "0 mesi"),
        (
            {"article": "a", "fine_only": False, "max_detention_months": 5, "listed_550": ""},
            "vuota",
        ),
    ],
)
def test_an_inconsistent_offence_cannot_be_built(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Offence(**kwargs)  # type: ignore[arg-type]


def test_types_are_checked() -> None:
    with pytest.raises(TypeError):
        Offence("a", fine_only=False, max_detention_months=True)
    with pytest.raises(TypeError):
        Offence("a", fine_only=False, max_detention_months=12.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        eligibility_refusals(THEFT, TODAY, habitual=None)  # type: ignore[arg-type]


def test_before_the_law_nothing_is_decided() -> None:
    with pytest.raises(NotInForce, match="17/05/2014"):
        eligibility_refusals(THEFT, date(2014, 5, 16), habitual=False)
    assert eligibility_refusals(THEFT, MAP_IN_FORCE, habitual=False) == []
    assert rules_on(MAP_IN_FORCE).since == MAP_IN_FORCE


# Eligibility: the person ----------------------------------------------------------------------
def test_habitual_professional_or_by_tendency_offenders_are_excluded() -> None:
    assert codes(THEFT, habitual=True) == [
        (
            RefusalCode.HABITUAL,
            "habitual",
            "art. 168-bis co. 5 c.p.; artt. 102, 103, 104, 105 e 108 c.p.",
        )
    ]


NO_RETRY_ARTICLE = "art. 168-bis co. 4 c.p.; art. 464-novies c.p.p."
ONCE = (RefusalCode.ONCE_ONLY, "earlier", "art. 168-bis co. 4 c.p.")
NO_RETRY = (RefusalCode.FAILED_OR_REVOKED, "earlier", NO_RETRY_ARTICLE)


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (Outcome.REQUESTED, []),  # never granted: no benefit
        (Outcome.REFUSED, []),
        (Outcome.ADMITTED, [ONCE]),
        (Outcome.RUNNING, [ONCE]),
        (Outcome.EXTINGUISHED, [ONCE]),
        (Outcome.FAILED, [NO_RETRY]),
        (Outcome.REVOKED, [NO_RETRY]),
    ],
)
def test_each_earlier_outcome(outcome: Outcome, expected: list[tuple[str, str, str]]) -> None:
    assert codes(THEFT, earlier=[EarlierProbation("MAP-2019-7", outcome)]) == expected


def test_once_only_refused_then_lifted_by_an_override_naming_the_connected_probation() -> None:
    earlier = [EarlierProbation("MAP-2023-1", Outcome.EXTINGUISHED)]
    [refusal] = eligibility_refusals(THEFT, TODAY, habitual=False, earlier=earlier)
    assert "già beneficiato della messa alla prova MAP-2023-1" in refusal.message
    assert "Corte cost. sent. 174/2022" in refusal.message  # says how it may be overridden
    override = ConnectionOverride(("MAP-2023-1",), "reato continuato (art. 81 co. 2 c.p.)")
    assert codes(THEFT, earlier=earlier, override=override) == []


def test_the_override_lifts_only_the_probations_it_names() -> None:
    earlier = [
        EarlierProbation("MAP-A", Outcome.EXTINGUISHED),
        EarlierProbation("MAP-B", Outcome.RUNNING),
    ]
    only_a = ConnectionOverride(("MAP-A",), "stesso disegno criminoso")
    refusals = eligibility_refusals(THEFT, TODAY, habitual=False, earlier=earlier, override=only_a)
    assert [(r.code, r.field) for r in refusals] == [(RefusalCode.ONCE_ONLY, "earlier")]
    assert "MAP-B" in refusals[0].message
    both = ConnectionOverride(("MAP-A", "MAP-B"), "stesso disegno criminoso")
    assert codes(THEFT, earlier=earlier, override=both) == []


OVERRIDE_174 = (RefusalCode.OVERRIDE, "override", CONNECTED_OFFENCES.article)


@pytest.mark.parametrize(
    ("earlier", "named", "expected", "said"),
    [
        # a reference the person's history does not hold: refused, and the once-only refusal stays
        (
            [EarlierProbation("MAP-A", Outcome.EXTINGUISHED)],
            "MAP-Z",
            [ONCE, OVERRIDE_174],
            "non è tra quelle precedenti dell'imputato (registrate: MAP-A)",
        ),
        ([], "MAP-Z", [OVERRIDE_174], "(registrate: nessuna)"),
        # a request never granted: nothing to override
        (
            [EarlierProbation("MAP-A", Outcome.REFUSED)],
            "MAP-A",
            [OVERRIDE_174],
            "non è stata concessa (richiesta respinta)",
        ),
        # failed or revoked: never overridable
        (
            [EarlierProbation("MAP-A", Outcome.FAILED)],
            "MAP-A",
            [
                NO_RETRY,
                (RefusalCode.OVERRIDE, "override", NO_RETRY_ARTICLE),
            ],
            "non ammettono deroghe",
        ),
        (
            [EarlierProbation("MAP-A", Outcome.REVOKED)],
            "MAP-A",
            [
                NO_RETRY,
                (RefusalCode.OVERRIDE, "override", NO_RETRY_ARTICLE),
            ],
            "(revocata)",
        ),
    ],
)  # fmt: skip
def test_an_override_that_names_nothing_it_can_lift_is_refused(
    earlier: list[EarlierProbation], named: str, expected: list[tuple[str, str, str]], said: str
) -> None:
    override = ConnectionOverride((named,), "connessione ex art. 12 co. 1 lett. b c.p.p.")
    assert codes(THEFT, earlier=earlier, override=override) == expected
    refusals = eligibility_refusals(
        THEFT, TODAY, habitual=False, earlier=earlier, override=override
    )
    assert said in refusals[-1].message


def test_the_override_lifts_nothing_else() -> None:
    earlier = [EarlierProbation("MAP-A", Outcome.EXTINGUISHED)]
    override = ConnectionOverride(("MAP-A",), "concorso formale")
    assert [code for code, _, _ in codes(detention(49), earlier=earlier, override=override)] == [
        RefusalCode.OFFENCE_LIMIT
    ]
    assert [
        code for code, _, _ in codes(THEFT, habitual=True, earlier=earlier, override=override)
    ] == [RefusalCode.HABITUAL]


def test_the_override_holds_from_the_constitutional_judgment() -> None:
    earlier = [EarlierProbation("MAP-A", Outcome.EXTINGUISHED)]
    override = ConnectionOverride(("MAP-A",), "reato continuato")
    before = CONNECTED_OFFENCES.since - timedelta(days=1)
    assert codes(THEFT, on=before, earlier=earlier, override=override) == [ONCE, OVERRIDE_174]
    assert codes(THEFT, on=CONNECTED_OFFENCES.since, earlier=earlier, override=override) == []


def test_all_refusals_at_once_in_order() -> None:
    earlier = [
        EarlierProbation("MAP-A", Outcome.EXTINGUISHED),
        EarlierProbation("MAP-B", Outcome.REVOKED),
        EarlierProbation("MAP-C", Outcome.REFUSED),
    ]
    refusals = codes(detention(60), habitual=True, earlier=earlier)
    assert [code for code, _, _ in refusals] == [
        RefusalCode.OFFENCE_LIMIT,
        RefusalCode.HABITUAL,
        RefusalCode.ONCE_ONLY,
        RefusalCode.FAILED_OR_REVOKED,
    ]


@pytest.mark.parametrize(
    ("references", "ground", "message"),
    [
        ((), "x", "senza messa alla prova"),
        (("MAP-A", " "), "x", "riferimento vuoto"),
        (("MAP-A", "MAP-A"), "x", "ripetuti"),
        (("MAP-A",), "  ", "senza motivo"),
    ],
)
def test_an_override_must_name_what_it_lifts_and_why(
    references: tuple[str, ...], ground: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ConnectionOverride(references, ground)


def test_earlier_probations_need_distinct_references() -> None:
    with pytest.raises(ValueError, match="senza riferimento"):
        EarlierProbation(" ", Outcome.ADMITTED)
    twice = [EarlierProbation("A", Outcome.REFUSED), EarlierProbation("A", Outcome.ADMITTED)]
    with pytest.raises(ValueError, match="ripetuti"):
        eligibility_refusals(THEFT, TODAY, habitual=False, earlier=twice)


# Durations, cadence, LPU ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("offence", "months", "days", "refused_with"),
    [
        (THEFT, 24, 0, None),  # 2 years for offences punished with detention
        (THEFT, 25, 0, "oltre il massimo di 2 anni per i reati puniti con pena detentiva"),
        (THEFT, 24, 1, "(art. 464-quater co. 5 lett. a c.p.p.)"),
        (THEFT, 23, 28, None),
        (THEFT, 23, 29, "secondo il giorno di inizio può superare il massimo di 2 anni"),
        (FINE_ONLY, 12, 0, None),  # 1 year for fine-only offences
        (FINE_ONLY, 13, 0, "oltre il massimo di 1 anno per i reati puniti con la sola pena"),
        (FINE_ONLY, 12, 1, "(art. 464-quater co. 5 lett. b c.p.p.)"),
        (FINE_ONLY, 0, 15, None),
        (FINE_ONLY, 0, 0, "almeno un giorno"),
        (detention(96, "art. 648 c.p.", "ricettazione"), 24, 0, None),  # listed: still 2 years
        (detention(96, "art. 648 c.p.", "ricettazione"), 25, 0, "2 anni"),
    ],
)
def test_durations_at_and_beyond_each_limit(
    offence: Offence, months: int, days: int, refused_with: str | None
) -> None:
    reason = duration_refusal(offence, months, days)
    if refused_with is None:
        assert reason is None
    else:
        assert reason is not None and refused_with in reason


@pytest.mark.parametrize(
    ("start", "days", "refused"),
    [
        (date(2025, 3, 1), 28, False),  # 01/02/2027 + 28 days = 01/03/2027, the bound's end
        (date(2025, 3, 1), 29, True),
        (date(2025, 1, 31), 31, False),  # 31/12/2026 + 31 = 31/01/2027
        (date(2025, 1, 31), 32, True),
    ],
)
def test_with_the_start_the_duration_is_checked_on_the_calendar(
    start: date, days: int, refused: bool
) -> None:
    reason = duration_refusal(THEFT, 23, days, start=start)
    assert (reason is not None) == refused
    if reason is not None:
        assert f"dal {start:%d/%m/%Y}" in reason and "termina il" in reason


def test_the_bound_depends_on_the_penalty() -> None:
    assert max_period(THEFT).value == 24 and max_period(FINE_ONLY).value == 12
    assert max_period(THEFT, MAP_IN_FORCE).article == "art. 464-quater co. 5 lett. a c.p.p."


@pytest.mark.parametrize(
    ("months", "days", "refused_with"),
    [
        (3, 0, None),
        (1, 0, None),
        (2, 28, None),
        (4, 0, "oltre il massimo di 3 mesi"),
        (3, 1, "(art. 141-ter co. 5 disp. att. c.p.p.)"),
        (2, 29, "secondo il giorno di inizio"),
        (0, 0, "almeno un giorno"),
    ],
)
def test_reports_never_more_than_three_months_apart(
    months: int, days: int, refused_with: str | None
) -> None:
    reason = report_cadence_refusal(months, days)
    if refused_with is None:
        assert reason is None
    else:
        assert reason is not None and refused_with in reason


def test_lpu_part_at_least_ten_days_and_at_most_eight_hours_a_day() -> None:
    assert lpu_days_refusal(10) is None
    assert lpu_days_refusal(9) == (
        "lavoro di pubblica utilità di 9 giorni: almeno 10 giorni, anche non continuativi "
        "(art. 168-bis co. 3 c.p.)"
    )
    assert lpu_hours_refusal(Decimal(8)) is None
    reason = lpu_hours_refusal(Decimal("8.25"))
    assert reason is not None and "al massimo 8 ore (art. 168-bis co. 3 c.p.)" in reason
    with pytest.raises(TypeError, match="mai float"):
        lpu_hours_refusal(7.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        lpu_hours_refusal(Decimal(-1))
    with pytest.raises(ValueError):
        lpu_days_refusal(-1)


def test_the_lpu_part_agrees_with_form_n_of_the_lpu_forms() -> None:
    form_n = form_in_force("N", TODAY)
    rules = rules_on(TODAY)
    assert form_n.duration.min_days == rules.lpu_min_days.value
    assert form_n.hours.day_max is not None
    assert form_n.hours.day_max.hours == rules.lpu_day_max_hours.value
    assert form_n.since == rules.since


def test_counts_are_integers() -> None:
    with pytest.raises(TypeError):
        duration_refusal(THEFT, 12.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        report_cadence_refusal(True)
    with pytest.raises(ValueError, match="negativi"):
        duration_refusal(THEFT, -1)


# Terms counted back from a hearing ------------------------------------------------------------
@pytest.mark.parametrize(
    ("hearing", "last_day"),
    [
        # 10 calendar days before the hearing: hearing - 10
        (date(2026, 3, 20), date(2026, 3, 10)),  # Friday hearing; Tuesday
        (date(2026, 3, 17), date(2026, 3, 7)),  # a Saturday is a working day
        # the day falls on a Sunday: the Saturday before
        (date(2026, 3, 18), date(2026, 3, 7)),  # 08/03/2026 is a Sunday
        # on 25 April (2026: a Saturday): the Friday before
        (date(2026, 5, 5), date(2026, 4, 24)),
        # on 15 August (2026: a Saturday): the Friday before
        (date(2026, 8, 25), date(2026, 8, 14)),
        # on 15 August 2025 (a Friday): Thursday 14
        (date(2025, 8, 25), date(2025, 8, 14)),
        # on Easter Monday 2026 (6 April), after Easter Sunday: Saturday 4 April
        (date(2026, 4, 16), date(2026, 4, 4)),
        # Sunday 27/12/2026, then 26 and 25 December: Thursday 24
        (date(2027, 1, 6), date(2026, 12, 24)),
    ],
)
def test_the_final_report_term_counted_back(hearing: date, last_day: date) -> None:
    assert final_report_last_day(hearing) == last_day


def test_the_free_days_reading_is_one_flag_of_the_data() -> None:
    term = rules_on(TODAY).final_report
    free = replace(term, whole_and_free=True)
    assert term.last_day(date(2026, 3, 21)) == date(2026, 3, 11)  # hearing - 10
    assert free.last_day(date(2026, 3, 21)) == date(2026, 3, 10)  # hearing - 11
    assert free.last_day(date(2026, 3, 19)) == date(2026, 3, 7)  # 08/03 is a Sunday
    assert term.counting() == "giorni di calendario"


@pytest.mark.parametrize(
    ("notified", "refused"),
    [
        (date(2026, 3, 12), True),  # 9 days before the hearing of 21/03
        (date(2026, 3, 11), False),  # 10 days
        (date(2026, 3, 1), False),
        (date(2026, 3, 20), True),
        (date(2026, 3, 21), True),
        (date(2026, 3, 25), True),  # after the hearing
    ],
)
def test_the_revocation_hearing_notice(notified: date, refused: bool) -> None:
    hearing = date(2026, 3, 21)
    reason = revocation_notice_refusal(notified, hearing)
    assert (reason is not None) == refused
    if reason is not None:
        assert f"del 21/03/2026 dato il {notified:%d/%m/%Y}" in reason
        assert "(art. 464-octies co. 2 c.p.p.)" in reason
        assert "ultimo giorno utile 11/03/2026" in reason


def test_the_notice_refusal_names_the_days_and_how_they_are_counted() -> None:
    reason = revocation_notice_refusal(date(2026, 3, 12), date(2026, 3, 21))
    assert reason is not None and "9 giorni" in reason
    assert "giorni di calendario" in reason


# Revocation causes ----------------------------------------------------------------------------
def test_the_causes_of_revocation() -> None:
    causes = revocation_causes(TODAY)
    assert list(causes) == ["breach", "lpu_refused", "new_offence"]
    assert causes["breach"].label.startswith("grave o reiterata trasgressione")
    assert causes["breach"].article == "art. 168-quater n. 1 c.p."
    assert "rifiuto" in causes["lpu_refused"].label
    assert causes["new_offence"].article == "art. 168-quater n. 2 c.p."
    assert "non colposo" in causes["new_offence"].label and "stessa indole" in (
        causes["new_offence"].label
    )
    assert revocation_cause("lpu_refused") == causes["lpu_refused"]
    with pytest.raises(ValueError, match="le cause note sono breach, lpu_refused, new_offence"):
        revocation_cause("ritardo")


# Art. 657-bis c.p.p. --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("served", "detention_days", "fine", "remainder"),
    [
        (0, 0, "0.00", 0),
        (1, 0, "0.00", 1),
        (2, 0, "0.00", 2),
        (3, 1, "250.00", 0),
        (4, 1, "250.00", 1),
        (46, 15, "3750.00", 1),
        (730, 243, "60750.00", 1),  # two years of probation
    ],
)
def test_three_days_of_probation_are_one_day_or_250_euros(
    served: int, detention_days: int, fine: str, remainder: int
) -> None:
    credit = probation_credit(served)
    assert (credit.days_served, credit.detention_days, credit.remainder_days) == (
        served,
        detention_days,
        remainder,
    )
    assert credit.fine == Decimal(fine) and isinstance(credit.fine, Decimal)
    assert "art. 657-bis c.p.p." in credit.detail


def test_the_detail_line() -> None:
    assert probation_credit(46).detail == (
        "46 giorni di prova = 15 giorni di reclusione o arresto, ovvero EUR 3750.00 di multa o "
        "ammenda (3 giorni di prova = 1 giorno o EUR 250, art. 657-bis c.p.p.); 1 giorno residuo, "
        "meno di 3, non è computato"
    )
    assert "2 giorni residui, meno di 3, non sono computati" in probation_credit(5).detail
    assert "residu" not in probation_credit(6).detail


def test_the_rate_is_dated_and_inputs_are_checked() -> None:
    assert credit_rate_on(MAP_IN_FORCE).fine_euros == 250
    with pytest.raises(NotInForce):
        credit_rate_on(date(2014, 5, 16))
    with pytest.raises(NotInForce):
        probation_credit(3, date(2014, 5, 16))
    with pytest.raises(TypeError):
        probation_credit(3.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        probation_credit(-1)
    with pytest.raises(ValueError):
        probation_credit(DAYS_SERVED_MAX + 1)


# Properties -----------------------------------------------------------------------------------
served_days = st.integers(min_value=0, max_value=DAYS_SERVED_MAX)
offences = st.sampled_from([THEFT, FINE_ONLY, detention(96, "art. 648 c.p.", "ricettazione")])
months_ = st.integers(min_value=0, max_value=40)
days_ = st.integers(min_value=0, max_value=400)
starts = st.dates(min_value=date(2014, 5, 17), max_value=date(2090, 12, 31))


@given(served_days)
def test_the_credit_is_whole_groups_of_three(served: int) -> None:
    credit = probation_credit(served)
    assert credit.detention_days == served // 3
    assert credit.remainder_days == served % 3 < 3
    assert credit.fine == 250 * credit.detention_days
    assert 3 * credit.detention_days + credit.remainder_days == served


@given(served_days, served_days)
def test_more_probation_is_never_worth_less(a: int, b: int) -> None:
    low, high = probation_credit(min(a, b)), probation_credit(max(a, b))
    assert low.detention_days <= high.detention_days and low.fine <= high.fine


@given(st.integers(min_value=0, max_value=DAYS_SERVED_MAX // 3 - 1))
def test_three_days_add_exactly_one_day(groups: int) -> None:
    assert probation_credit(3 * groups).detention_days == groups
    assert probation_credit(3 * groups + 3).detention_days == groups + 1


@given(offences, months_, days_)
def test_a_duration_is_refused_exactly_beyond_the_bound(
    offence: Offence, months: int, days: int
) -> None:
    bound = max_period(offence).value
    reason = duration_refusal(offence, months, days)
    if months == 0 and days == 0:
        assert reason is not None
    else:
        fits = months < bound and days <= SHORTEST_MONTH_DAYS * (bound - months)
        assert (reason is None) == (fits or (months == bound and days == 0))
    if reason is not None:
        assert "art. 464-quater co. 5" in reason


@given(offences, months_, days_)
def test_a_longer_duration_is_never_accepted_where_a_shorter_one_is_refused(
    offence: Offence, months: int, days: int
) -> None:
    if duration_refusal(offence, months, days) is not None and (months, days) != (0, 0):
        assert duration_refusal(offence, months + 1, days) is not None
        assert duration_refusal(offence, months, days + 1) is not None


@given(offences, months_, days_, starts)
def test_accepted_without_a_start_means_accepted_from_any_start(
    offence: Offence, months: int, days: int, start: date
) -> None:
    with_start = duration_refusal(offence, months, days, start=start)
    if duration_refusal(offence, months, days) is None:
        assert with_start is None
    bound = max_period(offence).value
    end = add_months(start, months) + timedelta(days=days)
    if (months, days) != (0, 0):
        assert (with_start is None) == (end <= add_months(start, bound))


@given(st.dates(min_value=date(2014, 6, 1), max_value=date(2098, 12, 31)))
def test_the_final_report_day_is_a_working_day_at_least_ten_days_before(hearing: date) -> None:
    last = final_report_last_day(hearing)
    assert not is_holiday(last)
    assert (hearing - last).days >= 10
    # and it is the latest such day
    day = last + timedelta(days=1)
    while (hearing - day).days >= 10:
        assert is_holiday(day)
        day += timedelta(days=1)


@given(
    st.dates(min_value=date(2014, 6, 1), max_value=date(2098, 12, 31)),
    st.integers(min_value=-5, max_value=60),
)
def test_a_notice_is_accepted_exactly_with_ten_days(hearing: date, before: int) -> None:
    reason = revocation_notice_refusal(hearing - timedelta(days=before), hearing)
    assert (reason is None) == (before >= 10)
