"""Discharge (kapflow.dosing.discharge): the protocol's criteria as a checklist, each met or not
with its reason, and when the patient was ready to leave."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapflow.dosing import protocol as rules
from kapflow.dosing.discharge import ITEM_LABELS, DischargeFacts, Item, checklist, observation_end, ready_at
from kapflow.dosing.protocol import DischargeItem

DOSED = datetime(2025, 5, 1, 10, 0, tzinfo=UTC)  # the first administration
DURING = rules.example("sublingual").during  # systolic 160 caution, 180 hard stop; SpO2 94 / 90
ALL = frozenset(DischargeItem)
NORMAL = {"systolic": 124, "diastolic": 80, "heart_rate": 72, "spo2": 98}
CONFIRMED = frozenset(rules.CONFIRMED_ITEMS)


def at(minutes: float, seconds: int = 0) -> datetime:
    return DOSED + timedelta(minutes=minutes, seconds=seconds)


def facts(**changes: Any) -> DischargeFacts:
    """Two hours after the first dose, everything in order, with ``changes`` applied."""
    base: dict[str, Any] = {
        "first_administered_at": DOSED,
        "now": at(125),
        "min_observation_minutes": 120,
        "last_vitals": NORMAL,
        "last_vitals_at": at(118),
        "last_moaas": 5,
        "last_moaas_at": at(119),
        "confirmed": CONFIRMED,
    }
    base.update(changes)
    return DischargeFacts(**base)


def item(which: DischargeItem, f: DischargeFacts) -> Item:
    [found] = [i for i in checklist(ALL, f, DURING) if i.item == which]
    return found


def test_everything_in_order_meets_every_item():
    items = checklist(ALL, facts(), DURING)
    assert [i.item for i in items] == list(DischargeItem)
    assert all(i.met for i in items)
    assert [i.message for i in items] == [
        "120 minutes observed.",
        "Within limits.",
        "5.",
        "Confirmed.",
        "Confirmed.",
        "Confirmed.",
    ]


def test_every_item_has_a_label():
    assert set(ITEM_LABELS) == set(DischargeItem)
    assert item(DischargeItem.MOAAS_5, facts()).label == "MOAA/S 5 (responds readily to name)"


# --- Minimum observation --------------------------------------------------------------------------


def test_observation_is_met_exactly_at_the_minute():
    found = item(DischargeItem.MIN_OBSERVATION, facts(now=at(120)))
    assert found.met
    assert found.message == "120 minutes observed."


def test_observation_is_not_met_one_second_before():
    found = item(DischargeItem.MIN_OBSERVATION, facts(now=at(119, 59)))
    assert not found.met
    assert found.message == "1 more minute of observation needed."


@pytest.mark.parametrize(
    ("now", "left"),
    [
        (at(0), 120),  # right after dosing the whole observation time is left
        (at(60), 60),
        (at(90, 1), 30),  # 29 min 59 s: rounded up
        (at(119), 1),
        (at(119, 30), 1),
    ],
)
def test_the_minutes_left_are_counted_up_to_the_next_whole_minute(now, left):
    found = item(DischargeItem.MIN_OBSERVATION, facts(now=now))
    assert not found.met
    minutes = "1 more minute" if left == 1 else f"{left} more minutes"
    assert found.message == f"{minutes} of observation needed."


def test_the_observation_end_follows_the_protocols_minimum():
    assert observation_end(facts(min_observation_minutes=90)) == at(90)
    assert item(DischargeItem.MIN_OBSERVATION, facts(min_observation_minutes=90, now=at(90))).met


# --- Vital signs ------------------------------------------------------------------------------


def test_vitals_within_the_limits_after_the_dose_meet_the_item():
    found = item(DischargeItem.VITALS_OK, facts())
    assert (found.met, found.message) == (True, "Within limits.")


def test_no_vitals_at_all_is_unmet():
    found = item(DischargeItem.VITALS_OK, facts(last_vitals=None, last_vitals_at=None))
    assert (found.met, found.message) == (False, "Take vital signs before discharge.")


def test_vitals_taken_before_the_first_dose_do_not_count():
    found = item(DischargeItem.VITALS_OK, facts(last_vitals_at=DOSED - timedelta(seconds=1)))
    assert (found.met, found.message) == (False, "Take vital signs before discharge.")


def test_vitals_taken_at_the_moment_of_the_first_dose_count():
    assert item(DischargeItem.VITALS_OK, facts(last_vitals_at=DOSED)).met


def test_vitals_without_a_time_do_not_count():
    assert not item(DischargeItem.VITALS_OK, facts(last_vitals_at=None)).met


@pytest.mark.parametrize(
    "reading",
    [
        {"systolic": 161, "diastolic": 80},  # a caution is enough to hold discharge
        {"systolic": 124, "diastolic": 80, "spo2": 93},
        {"systolic": 190, "diastolic": 115},
    ],
)
def test_vitals_beyond_the_during_limits_are_unmet_and_named(reading):
    found = item(DischargeItem.VITALS_OK, facts(last_vitals=reading))
    assert not found.met
    assert found.message.endswith(" Repeat them later.")
    assert str(reading["systolic"] if reading["systolic"] > 160 else reading["spo2"]) in found.message


def test_vitals_exactly_at_the_caution_level_meet_the_item():
    assert item(DischargeItem.VITALS_OK, facts(last_vitals={"systolic": 160, "diastolic": 100})).met


# --- MOAA/S -----------------------------------------------------------------------------------


def test_no_moaas_is_unmet():
    found = item(DischargeItem.MOAAS_5, facts(last_moaas=None, last_moaas_at=None))
    assert (found.met, found.message) == (False, "Record a MOAA/S score before discharge.")


@pytest.mark.parametrize("score", [0, 1, 2, 3, 4])
def test_a_moaas_below_5_is_unmet(score):
    found = item(DischargeItem.MOAAS_5, facts(last_moaas=score))
    assert (found.met, found.message) == (False, f"The last MOAA/S is {score}; it must be 5.")


def test_a_moaas_of_5_is_met():
    found = item(DischargeItem.MOAAS_5, facts(last_moaas=5))
    assert (found.met, found.message) == (True, "5.")


# --- Confirmed items --------------------------------------------------------------------------


@pytest.mark.parametrize("which", rules.CONFIRMED_ITEMS)
def test_each_confirmed_item_is_unmet_until_the_professional_confirms_it(which):
    found = item(which, facts(confirmed=CONFIRMED - {which}))
    assert (found.met, found.message) == (False, "Confirm before signing.")
    others = [i for i in checklist(ALL, facts(confirmed=CONFIRMED - {which}), DURING) if i.item != which]
    assert all(i.met for i in others)


def test_confirming_an_item_read_from_the_record_does_not_meet_it():
    f = facts(last_moaas=3, confirmed=ALL)
    assert not item(DischargeItem.MOAAS_5, f).met


# --- Which items are listed -------------------------------------------------------------------


def test_only_the_protocols_required_items_are_listed():
    required = frozenset({DischargeItem.NO_DRIVING, DischargeItem.MIN_OBSERVATION})
    items = checklist(required, facts(last_moaas=None, confirmed=frozenset()), DURING)
    assert [i.item for i in items] == [DischargeItem.MIN_OBSERVATION, DischargeItem.NO_DRIVING]


def test_no_required_items_gives_an_empty_checklist():
    assert checklist(frozenset(), facts(), DURING) == []


@given(st.frozensets(st.sampled_from(list(DischargeItem))))
def test_property_the_required_items_are_listed_in_the_fixed_order(required):
    items = checklist(required, facts(), DURING)
    assert [i.item for i in items] == [i for i in DischargeItem if i in required]
    assert all(i.message for i in items)


# --- Ready to leave ---------------------------------------------------------------------------


def test_ready_at_is_the_end_of_observation_when_everything_was_done_before():
    assert ready_at(facts(last_vitals_at=at(100), last_moaas_at=at(110))) == at(120)


def test_ready_at_is_the_last_vitals_when_they_came_after_the_observation_ended():
    assert ready_at(facts(last_vitals_at=at(135), last_moaas_at=at(130))) == at(135)


def test_ready_at_is_the_last_moaas_when_it_came_last():
    assert ready_at(facts(last_vitals_at=at(125), last_moaas_at=at(140))) == at(140)


def test_ready_at_without_readings_is_the_end_of_observation():
    assert ready_at(facts(last_vitals_at=None, last_moaas_at=None)) == at(120)


moments = st.one_of(st.none(), st.integers(min_value=-30, max_value=300).map(at))


@given(moments, moments, st.integers(min_value=15, max_value=240))
def test_property_ready_at_is_the_latest_of_observation_end_and_the_last_readings(
    vitals_at, moaas_at, minimum
):
    f = replace(facts(), last_vitals_at=vitals_at, last_moaas_at=moaas_at, min_observation_minutes=minimum)
    expected = max([at(minimum)] + [m for m in (vitals_at, moaas_at) if m is not None])
    assert ready_at(f) == expected
    assert ready_at(f) >= observation_end(f)
