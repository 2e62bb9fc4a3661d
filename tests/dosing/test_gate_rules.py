"""The pre-dose gate (kapflow.dosing.gate): every check in a table, and properties of overrides:
a caution passes only with a written reason, a hard stop only if the protocol allows it, and a
missing confirmation or screening blocker never."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapflow.dosing import protocol as rules
from kapflow.dosing.gate import Check, CheckResult, GateResult, PredoseFacts, Pregnancy, State, check

SUBLINGUAL = rules.example("sublingual")  # mg; before: 140/90 caution, 160/100 hard stop
INTRAMUSCULAR = rules.example("intramuscular")  # mg/kg; weight valid 30 days
OVERRIDABLE = replace(SUBLINGUAL, hard_stop_overridable=True)
PREGNANCY_TEST = replace(SUBLINGUAL, pregnancy_test_required=True)

NORMAL = {"systolic": 124, "diastolic": 80, "heart_rate": 72, "spo2": 98}
CAUTION_BP = {"systolic": 150, "diastolic": 85}  # above 140 systolic caution, below 160 hard stop
HARD_STOP_BP = {"systolic": 165, "diastolic": 85}  # above 160 systolic hard stop
REASON = "Anxious on arrival; repeat BP after 10 min rest was similar. Discussed with Dr Shah."


def facts(**changes: Any) -> PredoseFacts:
    """Everything in order for a first dose, with ``changes`` applied."""
    base: dict[str, Any] = {
        "screening_blockers": (),
        "vitals": NORMAL,
        "weight_kg": Decimal("70.0"),
        "weight_age_days": 3,
        "measures_outstanding": (),
        "open_high_alert": False,
        "fasting_confirmed": True,
        "escort_confirmed": True,
        "intentions_reviewed": True,
        "pregnancy": Pregnancy.NOT_DONE,
        "overrides": {},
    }
    base.update(changes)
    return PredoseFacts(**base)


def row(result: GateResult, which: Check) -> CheckResult:
    [found] = [c for c in result.checks if c.check == which]
    return found


def checks_of(result: GateResult) -> list[Check]:
    return [c.check for c in result.checks]


# --- Everything in order ---------------------------------------------------------------------


def test_a_patient_with_everything_in_order_may_be_dosed():
    result = check(SUBLINGUAL, facts())
    assert result.may_administer
    assert result.failing == ()
    assert all(c.state == State.OK and c.passes and c.message for c in result.checks)


def test_the_checks_are_listed_in_a_fixed_order_with_labels():
    result = check(INTRAMUSCULAR, facts())
    assert checks_of(result) == [
        Check.SCREENING,
        Check.VITALS,
        Check.WEIGHT,
        Check.MEASURES,
        Check.SAFETY_ALERT,
        Check.FASTING,
        Check.ESCORT,
        Check.INTENTIONS,
    ]
    assert row(result, Check.WEIGHT).label == "Weight for a mg/kg dose"


# --- Table of each check ---------------------------------------------------------------------

BLOCKERS = [
    pytest.param(
        Check.SCREENING,
        {"screening_blockers": ("Consent is out of date.", "No eligibility decision.")},
        "Consent is out of date. No eligibility decision.",
        id="screening",
    ),
    pytest.param(Check.VITALS, {"vitals": None}, "Record pre-dose vital signs", id="no-vitals"),
    pytest.param(
        Check.VITALS,
        {"vitals": {"heart_rate": 72, "spo2": 98}},
        "at least blood pressure",
        id="no-blood-pressure",
    ),
    pytest.param(
        Check.VITALS,
        {"vitals": {"systolic": 124, "diastolic": None}},
        "at least blood pressure",
        id="no-diastolic",
    ),
    pytest.param(
        Check.MEASURES,
        {"measures_outstanding": ("PHQ-9", "GAD-7")},
        "Still to be completed before dosing: PHQ-9, GAD-7.",
        id="measures",
    ),
    pytest.param(Check.SAFETY_ALERT, {"open_high_alert": True}, "high-risk safety alert is open", id="alert"),
    pytest.param(
        Check.FASTING,
        {"fasting_confirmed": False},
        "Confirm fasting: no food for 4 h and no liquids for 60 min.",
        id="fasting",
    ),
    pytest.param(
        Check.ESCORT, {"escort_confirmed": False}, "Confirm who takes the patient home.", id="escort"
    ),
    pytest.param(
        Check.INTENTIONS, {"intentions_reviewed": False}, "Review the patient's intentions", id="intentions"
    ),
]


@pytest.mark.parametrize(("which", "changes", "message"), BLOCKERS)
def test_each_unmet_requirement_blocks_with_its_reason(which, changes, message):
    result = check(SUBLINGUAL, facts(**changes))
    assert not result.may_administer
    assert [c.check for c in result.failing] == [which]
    found = row(result, which)
    assert found.state == State.BLOCKED
    assert message in found.message
    assert not found.overridable


@pytest.mark.parametrize(("which", "changes", "message"), BLOCKERS)
def test_an_override_reason_never_lifts_a_blocker_that_is_not_overridable(which, changes, message):
    result = check(SUBLINGUAL, facts(**changes, overrides={str(c): REASON for c in Check}))
    assert not result.may_administer
    found = row(result, which)
    assert not found.passes
    assert found.overridden == ""  # the reason is not recorded against it either


# --- Vital signs -----------------------------------------------------------------------------


def test_a_caution_blood_pressure_holds_dosing_until_a_reason_is_given():
    result = check(SUBLINGUAL, facts(vitals=CAUTION_BP))
    vitals = row(result, Check.VITALS)
    assert vitals.state == State.CAUTION
    assert vitals.overridable
    assert "Systolic blood pressure 150 is above the caution level of 140." in vitals.message
    assert "may proceed with a reason" in vitals.message
    assert not result.may_administer


def test_a_caution_blood_pressure_passes_with_a_written_override():
    result = check(SUBLINGUAL, facts(vitals=CAUTION_BP, overrides={"vitals": REASON}))
    vitals = row(result, Check.VITALS)
    assert vitals.state == State.CAUTION  # still shown as a caution
    assert vitals.passes
    assert vitals.overridden == REASON
    assert result.may_administer


def test_the_override_reason_is_stored_without_surrounding_spaces():
    result = check(SUBLINGUAL, facts(vitals=CAUTION_BP, overrides={"vitals": f"  {REASON}\n"}))
    assert row(result, Check.VITALS).overridden == REASON


@pytest.mark.parametrize("blank", ["", " ", "\t", "\n  \n"])
def test_a_blank_override_reason_does_not_count(blank):
    result = check(SUBLINGUAL, facts(vitals=CAUTION_BP, overrides={"vitals": blank}))
    assert not row(result, Check.VITALS).passes
    assert not result.may_administer


def test_an_override_written_for_another_check_does_not_lift_the_vitals_caution():
    result = check(SUBLINGUAL, facts(vitals=CAUTION_BP, overrides={"weight": REASON, "fasting": REASON}))
    assert not result.may_administer


def test_a_hard_stop_blood_pressure_blocks_when_the_protocol_allows_no_override():
    result = check(SUBLINGUAL, facts(vitals=HARD_STOP_BP, overrides={"vitals": REASON}))
    vitals = row(result, Check.VITALS)
    assert vitals.state == State.BLOCKED
    assert not vitals.overridable
    assert "Systolic blood pressure 165 is above the hard stop of 160." in vitals.message
    assert "The protocol does not allow dosing." in vitals.message
    assert not result.may_administer


def test_a_hard_stop_blood_pressure_passes_with_a_reason_when_the_protocol_allows_it():
    without = check(OVERRIDABLE, facts(vitals=HARD_STOP_BP))
    assert row(without, Check.VITALS).overridable
    assert "The protocol allows a written override." in row(without, Check.VITALS).message
    assert not without.may_administer
    with_reason = check(OVERRIDABLE, facts(vitals=HARD_STOP_BP, overrides={"vitals": REASON}))
    assert row(with_reason, Check.VITALS).state == State.BLOCKED
    assert with_reason.may_administer


@pytest.mark.parametrize(
    ("reading", "state"),
    [
        ({"systolic": 140, "diastolic": 90}, State.OK),  # exactly at the caution levels
        ({"systolic": 141, "diastolic": 90}, State.CAUTION),
        ({"systolic": 140, "diastolic": 91}, State.CAUTION),
        ({"systolic": 160, "diastolic": 100}, State.CAUTION),  # exactly at the hard stops
        ({"systolic": 161, "diastolic": 80}, State.BLOCKED),
        ({"systolic": 130, "diastolic": 101}, State.BLOCKED),
        ({"systolic": 124, "diastolic": 80, "spo2": 94}, State.CAUTION),
        ({"systolic": 124, "diastolic": 80, "spo2": 89}, State.BLOCKED),
        ({"systolic": 124, "diastolic": 80, "heart_rate": 39}, State.BLOCKED),
        ({"systolic": 150, "diastolic": 101}, State.BLOCKED),  # the worst level decides
    ],
)
def test_pre_dose_vitals_are_judged_against_the_before_limits(reading, state):
    assert row(check(SUBLINGUAL, facts(vitals=reading)), Check.VITALS).state == state


def test_every_crossed_limit_is_named_in_the_vitals_message():
    result = check(SUBLINGUAL, facts(vitals={"systolic": 150, "diastolic": 95, "spo2": 93}))
    message = row(result, Check.VITALS).message
    assert "Systolic blood pressure 150" in message
    assert "Diastolic blood pressure 95" in message
    assert "Oxygen saturation (low) 93" in message


# --- Weight ----------------------------------------------------------------------------------


def test_weight_is_not_checked_for_a_protocol_dosed_in_mg():
    result = check(SUBLINGUAL, facts(weight_kg=None, weight_age_days=None))
    assert Check.WEIGHT not in checks_of(result)
    assert result.may_administer


def test_a_mg_per_kg_protocol_needs_a_recorded_weight():
    for changes in ({"weight_kg": None}, {"weight_age_days": None}):
        result = check(INTRAMUSCULAR, facts(**changes, overrides={"weight": REASON}))
        weight = row(result, Check.WEIGHT)
        assert weight.state == State.BLOCKED
        assert "Record the patient's weight" in weight.message
        assert not result.may_administer


def test_a_weight_exactly_as_old_as_the_protocol_accepts_passes():
    result = check(INTRAMUSCULAR, facts(weight_age_days=INTRAMUSCULAR.weight_valid_days))
    weight = row(result, Check.WEIGHT)
    assert weight.state == State.OK
    assert weight.message == "70.0 kg, 30 days old."
    assert result.may_administer


def test_a_weight_one_day_too_old_blocks_and_cannot_be_overridden():
    days = INTRAMUSCULAR.weight_valid_days + 1
    result = check(INTRAMUSCULAR, facts(weight_age_days=days, overrides={"weight": REASON}))
    weight = row(result, Check.WEIGHT)
    assert weight.state == State.BLOCKED
    assert not weight.overridable
    assert (
        weight.message
        == "The last weight is 31 days old; the protocol accepts 30 days. Weigh the patient again."
    )
    assert not result.may_administer


def test_a_weight_taken_today_passes():
    assert row(check(INTRAMUSCULAR, facts(weight_age_days=0)), Check.WEIGHT).state == State.OK


# --- Pregnancy -------------------------------------------------------------------------------


@pytest.mark.parametrize("pregnancy", list(Pregnancy))
def test_pregnancy_is_not_checked_when_the_protocol_does_not_require_a_test(pregnancy):
    result = check(SUBLINGUAL, facts(pregnancy=pregnancy))
    assert Check.PREGNANCY not in checks_of(result)
    assert result.may_administer


@pytest.mark.parametrize(
    ("pregnancy", "state", "message"),
    [
        (Pregnancy.NEGATIVE, State.OK, "Negative."),
        (Pregnancy.NOT_APPLICABLE, State.OK, "Not applicable."),
        (Pregnancy.NOT_DONE, State.BLOCKED, "The protocol needs a pregnancy test result today."),
        (Pregnancy.POSITIVE, State.BLOCKED, "The pregnancy test is positive: no dosing."),
    ],
)
def test_a_required_pregnancy_test_is_checked_last(pregnancy, state, message):
    result = check(PREGNANCY_TEST, facts(pregnancy=pregnancy, overrides={"pregnancy": REASON}))
    assert checks_of(result)[-1] == Check.PREGNANCY
    found = row(result, Check.PREGNANCY)
    assert (found.state, found.message, found.overridable) == (state, message, False)
    assert result.may_administer is (state == State.OK)


# --- Several at once -------------------------------------------------------------------------


def test_every_failing_check_is_listed_not_only_the_first():
    result = check(
        PREGNANCY_TEST,
        facts(
            screening_blockers=("No eligibility decision.",),
            vitals=CAUTION_BP,
            fasting_confirmed=False,
            escort_confirmed=False,
            pregnancy=Pregnancy.POSITIVE,
        ),
    )
    assert [c.check for c in result.failing] == [
        Check.SCREENING,
        Check.VITALS,
        Check.FASTING,
        Check.ESCORT,
        Check.PREGNANCY,
    ]


def test_overriding_the_caution_does_not_help_while_another_check_blocks():
    result = check(SUBLINGUAL, facts(vitals=CAUTION_BP, escort_confirmed=False, overrides={"vitals": REASON}))
    assert row(result, Check.VITALS).passes
    assert [c.check for c in result.failing] == [Check.ESCORT]
    assert not result.may_administer


# --- Properties ------------------------------------------------------------------------------

reasons = st.sampled_from(["", " ", "\t\n", "   ", REASON, "ok"])
protocols = st.builds(
    lambda base, overridable, pregnancy, days: replace(
        base, hard_stop_overridable=overridable, pregnancy_test_required=pregnancy, weight_valid_days=days
    ),
    st.sampled_from([rules.example(route) for route in rules.EXAMPLES]),
    st.booleans(),
    st.booleans(),
    st.integers(min_value=1, max_value=60),
)
readings = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "systolic": st.one_of(st.none(), st.integers(90, 190)),
            "diastolic": st.one_of(st.none(), st.integers(50, 120)),
        },
        optional={"heart_rate": st.integers(30, 150), "spo2": st.integers(85, 100)},
    ),
)
predose_facts = st.builds(
    PredoseFacts,
    screening_blockers=st.lists(st.sampled_from(["No consent.", "Not eligible."]), max_size=2).map(tuple),
    vitals=readings,
    weight_kg=st.one_of(st.none(), st.just(Decimal("70.0"))),
    weight_age_days=st.one_of(st.none(), st.integers(0, 90)),
    measures_outstanding=st.lists(st.sampled_from(["PHQ-9", "GAD-7"]), max_size=2).map(tuple),
    open_high_alert=st.booleans(),
    fasting_confirmed=st.booleans(),
    escort_confirmed=st.booleans(),
    intentions_reviewed=st.booleans(),
    pregnancy=st.sampled_from(list(Pregnancy)),
    overrides=st.dictionaries(st.sampled_from([str(c) for c in Check] + ["other"]), reasons),
)


def worst_vitals_level(protocol: rules.Protocol, reading: dict[str, int | None]) -> str:
    """The pre-dose limits, stated again: 'hard', 'caution' or 'ok'."""
    level = "ok"
    for name, limit in protocol.before.items():
        vital, direction = rules.LIMITS[name]
        value = reading.get(vital)
        if value is None:
            continue
        for which, threshold in (("hard", limit.hard_stop), ("caution", limit.caution)):
            if threshold is None:
                continue
            beyond = value > threshold if direction == rules.Direction.ABOVE else value < threshold
            if beyond:
                if which == "hard":
                    return "hard"
                level = "caution"
                break
    return level


def expected_may_administer(protocol: rules.Protocol, f: PredoseFacts) -> bool:
    """The gate, stated again from the brief, one condition per check."""
    reason = f.overrides.get("vitals", "").strip()
    if f.vitals is None or f.vitals.get("systolic") is None or f.vitals.get("diastolic") is None:
        vitals_pass = False
    else:
        level = worst_vitals_level(protocol, dict(f.vitals))
        vitals_pass = (
            level == "ok"
            or (level == "caution" and bool(reason))
            or (level == "hard" and protocol.hard_stop_overridable and bool(reason))
        )
    weight_pass = not protocol.per_kg or (
        f.weight_kg is not None
        and f.weight_age_days is not None
        and f.weight_age_days <= protocol.weight_valid_days
    )
    pregnancy_pass = not protocol.pregnancy_test_required or f.pregnancy in (
        Pregnancy.NEGATIVE,
        Pregnancy.NOT_APPLICABLE,
    )
    return (
        not f.screening_blockers
        and vitals_pass
        and weight_pass
        and not f.measures_outstanding
        and not f.open_high_alert
        and f.fasting_confirmed
        and f.escort_confirmed
        and f.intentions_reviewed
        and pregnancy_pass
    )


@given(protocols, predose_facts)
def test_property_the_gate_agrees_with_an_independent_statement_of_it(protocol, f):
    result = check(protocol, f)
    assert result.may_administer == expected_may_administer(protocol, f)


@given(protocols, predose_facts)
def test_property_may_administer_iff_every_check_is_ok_or_overridable_with_a_reason(protocol, f):
    result = check(protocol, f)
    every = all(
        c.state == State.OK or (c.overridable and f.overrides.get(str(c.check), "").strip() != "")
        for c in result.checks
    )
    assert result.may_administer == every
    assert set(result.failing) == {c for c in result.checks if not c.passes}
    assert all(c.message.strip() for c in result.checks)
    assert (Check.WEIGHT in checks_of(result)) == protocol.per_kg
    assert (Check.PREGNANCY in checks_of(result)) == protocol.pregnancy_test_required
    assert checks_of(result) == sorted(checks_of(result), key=list(Check).index)


@given(protocols, predose_facts, reasons)
def test_property_an_override_never_makes_a_non_overridable_check_pass(protocol, f, reason):
    bare = check(protocol, replace(f, overrides={}))
    overridden = check(protocol, replace(f, overrides={str(c): reason for c in Check}))
    for before, after in zip(bare.checks, overridden.checks, strict=True):
        assert (before.check, before.state, before.overridable) == (
            after.check,
            after.state,
            after.overridable,
        )
        if not before.overridable:
            assert after.passes == before.passes
            assert after.overridden == ""
        if before.state == State.OK:
            assert after.passes
    if not all(c.passes or c.overridable for c in bare.checks):
        assert not overridden.may_administer


@given(protocols, predose_facts, st.sampled_from(["", " ", "\t", "\n", "  \t\n "]))
def test_property_a_blank_or_whitespace_reason_never_counts(protocol, f, blank):
    bare = check(protocol, replace(f, overrides={}))
    blanks = check(protocol, replace(f, overrides={str(c): blank for c in Check}))
    assert [c.passes for c in blanks.checks] == [c.passes for c in bare.checks]
    assert blanks.may_administer == bare.may_administer
    assert all(c.overridden == "" for c in blanks.checks)


@given(protocols, predose_facts)
def test_property_a_hard_stop_blood_pressure_blocks_unless_the_protocol_allows_an_override(protocol, f):
    f = replace(f, vitals=HARD_STOP_BP, overrides={"vitals": REASON})
    vitals = row(check(protocol, f), Check.VITALS)
    assert vitals.state == State.BLOCKED
    assert vitals.passes == protocol.hard_stop_overridable
