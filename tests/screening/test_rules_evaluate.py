"""evaluate(): every rule at its boundary, each seeded condition, and the order of findings."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapflow.screening.rules import (
    DEFAULT_RULES,
    Condition,
    Finding,
    Level,
    MedClass,
    RuleSet,
    ScreeningFacts,
    evaluate,
)

CLEAN = ScreeningFacts(
    conditions=frozenset(),
    med_classes=frozenset(),
    substance_use_active=False,
    pregnant_or_breastfeeding=False,
    psychosis_history=False,
    psychosis_family_history=False,
    bipolar=False,
    mood_stabiliser=False,
    adequate_trials=2,
    psychotherapy_tried=True,
    systolic=120,
    diastolic=80,
)


def facts(**changes: Any) -> ScreeningFacts:
    return replace(CLEAN, **changes)


def ids(found: tuple[Finding, ...]) -> list[str]:
    return [finding.rule_id for finding in found]


def only(found: tuple[Finding, ...], rule_id: str) -> Finding:
    matching = [finding for finding in found if finding.rule_id == rule_id]
    assert len(matching) == 1, ids(found)
    return matching[0]


def test_a_clean_screening_has_no_findings():
    assert evaluate(CLEAN, DEFAULT_RULES) == ()


def test_the_shipped_rules_are_a_labelled_example():
    assert DEFAULT_RULES.version == "example-1"
    assert DEFAULT_RULES.example is True
    assert DEFAULT_RULES.bp_caution == (140, 90)
    assert DEFAULT_RULES.bp_hard_stop == (180, 110)
    assert DEFAULT_RULES.min_adequate_trials == 2
    assert DEFAULT_RULES.caution_med_classes == frozenset(MedClass)


SEEDED = [
    ("aneurysmal_vascular_disease", Level.HARD_STOP, "Spravato"),
    ("intracerebral_haemorrhage", Level.HARD_STOP, "Spravato"),
    ("ketamine_hypersensitivity", Level.HARD_STOP, "Ketalar"),
    ("uncontrolled_hypertension", Level.HARD_STOP, "Ketalar"),
    ("hepatic_impairment", Level.CAUTION, "Spravato"),
    ("cystitis_history", Level.CAUTION, "Spravato"),
]


def test_the_seeded_conditions_are_exactly_these():
    assert [c.key for c in DEFAULT_RULES.conditions] == [key for key, _, _ in SEEDED]


@pytest.mark.parametrize(("key", "level", "cited"), SEEDED)
def test_each_seeded_condition_gives_its_level_and_source(key, level, cited):
    condition = DEFAULT_RULES.condition(key)
    found = evaluate(facts(conditions=frozenset({key})), DEFAULT_RULES)
    assert found == (Finding(level, f"condition:{key}", found[0].message, condition.source),)
    assert cited in found[0].source
    assert condition.label in found[0].message
    assert condition.label and condition.source


def test_condition_messages_say_what_the_level_means():
    found = evaluate(facts(conditions=frozenset({"hepatic_impairment"})), DEFAULT_RULES)
    assert found[0].message == "Hepatic impairment is recorded; a caution: weigh it before deciding."
    found = evaluate(facts(conditions=frozenset({"intracerebral_haemorrhage"})), DEFAULT_RULES)
    assert found[0].message == (
        "History of intracerebral haemorrhage is recorded; "
        "a hard stop: do not dose unless a prescriber justifies it in writing."
    )


def test_a_clinic_condition_at_info_level():
    rules = RuleSet("c-1", (Condition("asthma", "Asthma", Level.INFO, "clinic list"),))
    found = evaluate(facts(conditions=frozenset({"asthma"})), rules)
    assert found == (
        Finding(Level.INFO, "condition:asthma", "Asthma is recorded; for information.", "clinic list"),
    )


def test_a_condition_unknown_to_the_rule_set_is_a_caution_to_review_by_hand():
    found = evaluate(facts(conditions=frozenset({"gout"})), DEFAULT_RULES)
    assert found == (
        Finding(
            Level.CAUTION,
            "condition:gout",
            "Condition 'gout' is recorded but is not in rule set example-1; review it by hand.",
            "rule set example-1",
        ),
    )


def test_condition_lookup_by_key():
    assert DEFAULT_RULES.condition("cystitis_history").level == Level.CAUTION
    with pytest.raises(KeyError):
        DEFAULT_RULES.condition("nope")


@pytest.mark.parametrize(
    ("change", "rule_id", "level", "cited"),
    [
        ({"psychosis_history": True}, "psychosis", Level.HARD_STOP, "clinic exclusion lists"),
        ({"psychosis_family_history": True}, "psychosis_family", Level.CAUTION, "some clinics"),
        ({"substance_use_active": True}, "substance_use", Level.HARD_STOP, "Sanacora"),
        ({"pregnant_or_breastfeeding": True}, "pregnancy", Level.HARD_STOP, "Spravato"),
        ({"bipolar": True, "mood_stabiliser": False}, "bipolar_unstabilised", Level.CAUTION, "clinic"),
        ({"bipolar": True, "mood_stabiliser": True}, "bipolar", Level.INFO, "clinic"),
        ({"psychotherapy_tried": False}, "no_psychotherapy", Level.INFO, "Sanacora"),
    ],
)
def test_each_fact_rule_alone(change, rule_id, level, cited):
    found = evaluate(facts(**change), DEFAULT_RULES)
    assert ids(found) == [rule_id]
    assert found[0].level == level
    assert cited in found[0].source
    assert found[0].message


def test_a_mood_stabiliser_without_bipolar_disorder_gives_nothing():
    assert evaluate(facts(mood_stabiliser=True), DEFAULT_RULES) == ()


@pytest.mark.parametrize("med", list(MedClass))
def test_each_interacting_medication_class_is_a_caution(med):
    found = evaluate(facts(med_classes=frozenset({med})), DEFAULT_RULES)
    assert ids(found) == [f"med:{med.value}"]
    assert found[0].level == Level.CAUTION
    assert "interacts with ketamine" in found[0].message
    assert "Spravato" in found[0].source


def test_medication_classes_are_reported_in_a_fixed_order():
    found = evaluate(facts(med_classes=frozenset(MedClass)), DEFAULT_RULES)
    assert ids(found) == [f"med:{med.value}" for med in MedClass]


def test_a_class_the_clinic_does_not_list_gives_nothing():
    rules = replace(DEFAULT_RULES, caution_med_classes=frozenset({MedClass.MAOI}))
    found = evaluate(facts(med_classes=frozenset({MedClass.MAOI, MedClass.OPIOID})), rules)
    assert ids(found) == ["med:maoi"]


@pytest.mark.parametrize(
    ("systolic", "diastolic", "expected"),
    [
        (140, 90, []),
        (141, 90, ["bp_caution"]),
        (140, 91, ["bp_caution"]),
        (141, 91, ["bp_caution"]),
        (179, 109, ["bp_caution"]),
        (179, 80, ["bp_caution"]),
        (120, 109, ["bp_caution"]),
        (180, 80, ["bp_hard_stop"]),
        (180, 109, ["bp_hard_stop"]),
        (120, 110, ["bp_hard_stop"]),
        (179, 110, ["bp_hard_stop"]),
        (200, 120, ["bp_hard_stop"]),
        (90, 60, []),
    ],
)
def test_blood_pressure_at_each_threshold(systolic, diastolic, expected):
    assert ids(evaluate(facts(systolic=systolic, diastolic=diastolic), DEFAULT_RULES)) == expected


def test_blood_pressure_messages_and_sources():
    caution = evaluate(facts(systolic=141, diastolic=90), DEFAULT_RULES)[0]
    assert caution.message == "Blood pressure 141/90 is above 140/90; consider delaying dosing."
    assert caution.source == "Spravato (esketamine) label (consider delaying dosing if BP > 140/90)"
    stop = evaluate(facts(systolic=120, diastolic=110), DEFAULT_RULES)[0]
    assert stop.message == "Blood pressure 120/110 is at or above the clinic's hard stop of 180/110."
    assert stop.source == "clinic setting"


def test_blood_pressure_thresholds_follow_the_clinic_setting():
    rules = replace(DEFAULT_RULES, bp_caution=(130, 85), bp_hard_stop=(160, 100))
    assert ids(evaluate(facts(systolic=130, diastolic=85), rules)) == []
    assert ids(evaluate(facts(systolic=131, diastolic=85), rules)) == ["bp_caution"]
    assert ids(evaluate(facts(systolic=130, diastolic=86), rules)) == ["bp_caution"]
    assert ids(evaluate(facts(systolic=160, diastolic=60), rules)) == ["bp_hard_stop"]
    assert ids(evaluate(facts(systolic=110, diastolic=100), rules)) == ["bp_hard_stop"]


def test_missing_blood_pressure_is_information():
    found = evaluate(facts(systolic=None, diastolic=None), DEFAULT_RULES)
    assert found == (
        Finding(
            Level.INFO,
            "bp_missing",
            "Blood pressure not recorded (systolic and diastolic are both needed).",
            "Spravato (esketamine) label",
        ),
    )


@pytest.mark.parametrize(
    ("systolic", "diastolic", "expected"),
    [
        (120, None, ["bp_missing"]),
        (None, 80, ["bp_missing"]),
        (141, None, ["bp_caution", "bp_missing"]),
        (None, 91, ["bp_caution", "bp_missing"]),
        (180, None, ["bp_hard_stop", "bp_missing"]),
        (None, 110, ["bp_hard_stop", "bp_missing"]),
    ],
)
def test_half_a_blood_pressure_is_still_checked_and_reported_missing(systolic, diastolic, expected):
    assert ids(evaluate(facts(systolic=systolic, diastolic=diastolic), DEFAULT_RULES)) == expected


def test_half_a_blood_pressure_shows_the_missing_value():
    found = evaluate(facts(systolic=None, diastolic=115), DEFAULT_RULES)
    assert found[0].message == "Blood pressure ?/115 is at or above the clinic's hard stop of 180/110."


@pytest.mark.parametrize(("trials", "expected"), [(0, ["few_trials"]), (1, ["few_trials"]), (2, []), (5, [])])
def test_adequate_trials_at_the_minimum(trials, expected):
    assert ids(evaluate(facts(adequate_trials=trials), DEFAULT_RULES)) == expected


def test_few_trials_message_and_clinic_minimum():
    found = evaluate(facts(adequate_trials=1), DEFAULT_RULES)
    assert found[0] == Finding(
        Level.INFO,
        "few_trials",
        "1 adequate antidepressant trial(s) recorded; ketamine is usually considered after at least 2.",
        "Sanacora et al., JAMA Psychiatry 2017;74(4):399-405",
    )
    rules = replace(DEFAULT_RULES, min_adequate_trials=3)
    assert ids(evaluate(facts(adequate_trials=2), rules)) == ["few_trials"]
    assert ids(evaluate(facts(adequate_trials=3), rules)) == []
    assert ids(evaluate(facts(adequate_trials=0), replace(DEFAULT_RULES, min_adequate_trials=0))) == []


EVERYTHING = ScreeningFacts(
    conditions=frozenset({"cystitis_history", "intracerebral_haemorrhage", "aneurysmal_vascular_disease"}),
    med_classes=frozenset({MedClass.THEOPHYLLINE, MedClass.MAOI}),
    substance_use_active=True,
    pregnant_or_breastfeeding=True,
    psychosis_history=True,
    psychosis_family_history=True,
    bipolar=True,
    mood_stabiliser=False,
    adequate_trials=0,
    psychotherapy_tried=False,
    systolic=None,
    diastolic=112,
)


def test_findings_are_ordered_hard_stop_caution_info_then_by_rule():
    assert ids(evaluate(EVERYTHING, DEFAULT_RULES)) == [
        "condition:aneurysmal_vascular_disease",
        "condition:intracerebral_haemorrhage",
        "psychosis",
        "substance_use",
        "pregnancy",
        "bp_hard_stop",
        "condition:cystitis_history",
        "psychosis_family",
        "bipolar_unstabilised",
        "med:maoi",
        "med:theophylline",
        "bp_missing",
        "few_trials",
        "no_psychotherapy",
    ]


def test_every_finding_names_its_rule_and_source():
    for finding in evaluate(EVERYTHING, DEFAULT_RULES):
        assert finding.rule_id and finding.source.strip() and finding.message.strip()


@given(
    systolic=st.one_of(st.none(), st.integers(40, 300)),
    diastolic=st.one_of(st.none(), st.integers(20, 200)),
    trials=st.integers(0, 10),
    conditions=st.frozensets(st.sampled_from([c.key for c in DEFAULT_RULES.conditions])),
    meds=st.frozensets(st.sampled_from(list(MedClass))),
)
def test_findings_are_sorted_and_blood_pressure_has_at_most_one_level(
    systolic, diastolic, trials, conditions, meds
):
    found = evaluate(
        facts(
            systolic=systolic,
            diastolic=diastolic,
            adequate_trials=trials,
            conditions=conditions,
            med_classes=meds,
        ),
        DEFAULT_RULES,
    )
    order = [Level.HARD_STOP, Level.CAUTION, Level.INFO]
    assert [order.index(f.level) for f in found] == sorted(order.index(f.level) for f in found)
    assert len(set(ids(found))) == len(found)
    assert not {"bp_hard_stop", "bp_caution"} <= set(ids(found))
    over_stop = (systolic or 0) >= 180 or (diastolic or 0) >= 110
    over_caution = (systolic or 0) > 140 or (diastolic or 0) > 90
    assert ("bp_hard_stop" in ids(found)) == over_stop
    assert ("bp_caution" in ids(found)) == (over_caution and not over_stop)
    assert ("bp_missing" in ids(found)) == (systolic is None or diastolic is None)
    assert ("few_trials" in ids(found)) == (trials < 2)
