"""Dose checks (kapflow.dosing.dose): typing errors always refused, the protocol's range for the
first dose, the cumulative maximum for every dose, and overrides only where the protocol allows
them and a reason is written."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapflow.dosing import protocol as rules
from kapflow.dosing.dose import DoseCheck, DoseFacts, check_dose, per_kg

SUBLINGUAL = rules.example("sublingual")  # 100-400 mg, at most 400 mg in a session
INTRAMUSCULAR = rules.example("intramuscular")  # 0.25-1.0 mg/kg, at most 1.0 mg/kg
OVERRIDABLE = replace(SUBLINGUAL, dose_override_allowed=True)
WITH_BOOSTERS = replace(SUBLINGUAL, max_cumulative=Decimal(600))
IM_WITH_BOOSTERS = replace(INTRAMUSCULAR, max_cumulative=Decimal("1.5"))
REASON = "Tolerated 400 mg well last session with little effect; agreed with the prescriber."
NO_OVERRIDE = "The protocol does not allow an override."


def first_dose(
    mg: str | Decimal, protocol: rules.Protocol = SUBLINGUAL, *, weight: str | None = None, reason: str = ""
) -> DoseCheck:
    return check_dose(
        protocol,
        DoseFacts(
            dose_mg=Decimal(mg),
            weight_kg=Decimal(weight) if weight is not None else None,
            given_mg=Decimal(0),
            booster=False,
            override_reason=reason,
        ),
    )


def booster(
    mg: str,
    given: str,
    protocol: rules.Protocol = WITH_BOOSTERS,
    *,
    weight: str | None = None,
    reason: str = "",
) -> DoseCheck:
    return check_dose(
        protocol,
        DoseFacts(
            dose_mg=Decimal(mg),
            weight_kg=Decimal(weight) if weight is not None else None,
            given_mg=Decimal(given),
            booster=True,
            override_reason=reason,
        ),
    )


# --- Typing errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("mg", ["0", "0.00", "-0", "-50", "-0.01"])
def test_a_dose_of_zero_or_less_is_refused(mg):
    result = first_dose(mg)
    assert not result.allowed
    assert result.problems == ("The dose must be more than 0 mg.",)
    assert not result.needs_override


@pytest.mark.parametrize("mg", ["NaN", "-NaN", "sNaN", "Infinity", "-Infinity"])
def test_a_dose_that_is_not_a_number_is_refused_with_a_clear_message(mg):
    result = first_dose(mg)
    assert not result.allowed
    assert result.problems == ("The dose must be a number of milligrams.",)
    assert result.mg_per_kg is None
    assert not result.needs_override


@pytest.mark.parametrize("mg", ["NaN", "sNaN", "Infinity"])
def test_a_dose_that_is_not_a_number_is_refused_even_with_an_override(mg):
    result = first_dose(mg, replace(OVERRIDABLE, max_cumulative=Decimal(1000)), reason=REASON)
    assert not result.allowed


def test_a_dose_of_10000_mg_is_refused_as_a_typing_error():
    result = first_dose("10000")
    assert not result.allowed
    assert result.problems == ("10000 mg is beyond any protocol (over 1000 mg); check the number.",)
    assert result.total_mg == Decimal(10000)


def test_a_dose_just_over_1000_mg_is_refused_even_when_overrides_are_allowed_and_explained():
    generous = replace(OVERRIDABLE, max_cumulative=Decimal(1000))
    assert not first_dose("1000.01", generous, reason=REASON).allowed
    assert first_dose("1000", generous, reason=REASON).allowed  # beyond the range, but overridden


def test_zero_is_refused_even_when_overrides_are_allowed_and_explained():
    assert not first_dose("0", OVERRIDABLE, reason=REASON).allowed


# --- The range of the first dose ---------------------------------------------------------------


@pytest.mark.parametrize("mg", ["100", "100.00", "250", "400"])
def test_a_first_dose_within_the_range_including_both_ends_is_allowed(mg):
    result = first_dose(mg)
    assert result.allowed
    assert result.problems == ()
    assert not result.needs_override
    assert not result.overridden
    assert result.mg_per_kg is None
    assert result.total_mg == Decimal(mg)


@pytest.mark.parametrize("mg", ["99.99", "50", "400.01"])
def test_a_first_dose_just_outside_the_range_is_refused(mg):
    result = first_dose(mg)
    assert not result.allowed
    assert f"{mg} mg is outside the protocol's range of 100-400 mg." in result.problems
    assert result.problems[-1] == NO_OVERRIDE
    assert not result.needs_override


def test_a_first_dose_over_the_range_also_names_the_cumulative_maximum():
    result = first_dose("450")
    assert result.problems == (
        "450 mg is outside the protocol's range of 100-400 mg.",
        "The session total would be 450 mg, above the protocol's maximum of 400 mg (boosters included).",
        NO_OVERRIDE,
    )


# --- mg/kg -----------------------------------------------------------------------------------


def test_a_mg_per_kg_dose_needs_a_weight():
    result = first_dose("50", INTRAMUSCULAR)
    assert not result.allowed
    assert result.problems == ("Record the patient's weight: the protocol doses per kilogram.",)


@pytest.mark.parametrize("weight", ["0", "-70", "NaN", "sNaN", "Infinity", "-Infinity"])
def test_a_weight_that_is_not_a_positive_number_is_treated_as_missing(weight):
    result = first_dose("50", INTRAMUSCULAR, weight=weight)
    assert not result.allowed
    assert result.problems == ("Record the patient's weight: the protocol doses per kilogram.",)


def test_an_infinite_weight_cannot_hide_a_booster_beyond_the_cumulative_maximum():
    result = booster("500", "70", IM_WITH_BOOSTERS, weight="Infinity")
    assert not result.allowed


def test_the_weight_is_ignored_for_a_protocol_dosed_in_mg():
    result = first_dose("200", weight="70")
    assert result.allowed
    assert result.mg_per_kg is None


@pytest.mark.parametrize(
    ("mg", "weight", "ratio"),
    [
        ("50", "70", "0.714"),  # 0.714285...
        ("20", "80", "0.250"),
        ("35.035", "70", "0.501"),  # 0.5005 exactly: rounded half up
        ("35.0349", "70", "0.500"),
        ("52.5", "70", "0.750"),
    ],
)
def test_mg_per_kg_is_computed_and_rounded_to_three_places(mg, weight, ratio):
    result = first_dose(mg, INTRAMUSCULAR, weight=weight)
    assert result.mg_per_kg == Decimal(ratio)
    assert str(result.mg_per_kg) == ratio
    assert per_kg(Decimal(mg), Decimal(weight)) == Decimal(ratio)


@pytest.mark.parametrize(("mg", "allowed"), [("20", True), ("80", True), ("19.9", False), ("80.1", False)])
def test_a_mg_per_kg_first_dose_is_judged_per_kilogram_at_the_ends_of_the_range(mg, allowed):
    result = first_dose(mg, INTRAMUSCULAR, weight="80")  # 0.25-1.0 mg/kg of 80 kg: 20-80 mg
    assert result.allowed is allowed
    if not allowed:
        assert (
            f"{result.mg_per_kg} mg/kg is outside the protocol's range of 0.25-1.0 mg/kg." in result.problems
        )


def test_a_mg_per_kg_cumulative_maximum_is_stated_per_kilogram():
    result = booster("40.1", "80", IM_WITH_BOOSTERS, weight="80")  # 120.1 mg of 80 kg: 1.50125 mg/kg
    assert not result.allowed
    assert (
        "The session total would be 1.501 mg/kg, above the protocol's maximum of 1.5 mg/kg (boosters included)."
        in result.problems
    )
    assert result.total_mg == Decimal("120.1")
    assert booster("40", "80", IM_WITH_BOOSTERS, weight="80").allowed  # exactly 1.5 mg/kg


# --- Boosters --------------------------------------------------------------------------------


def test_a_booster_bringing_the_total_exactly_to_the_maximum_is_allowed():
    result = booster("200", "400")
    assert result.allowed
    assert result.total_mg == Decimal(600)


def test_a_booster_one_hundredth_of_a_mg_over_the_maximum_is_refused():
    result = booster("200.01", "400")
    assert not result.allowed
    assert result.problems == (
        "The session total would be 600.01 mg, above the protocol's maximum of 600 mg (boosters included).",
        NO_OVERRIDE,
    )


def test_a_booster_smaller_than_the_lowest_dose_is_allowed():
    assert booster("50", "200").allowed  # the range applies to the first dose only


def test_a_booster_larger_than_the_highest_single_dose_is_judged_only_by_the_total():
    generous = replace(SUBLINGUAL, max_cumulative=Decimal(1000))
    assert booster("450", "100", generous).allowed


def test_a_booster_when_the_maximum_is_already_reached_is_refused():
    result = booster("50", "400", SUBLINGUAL)  # the example allows 400 mg in a session
    assert not result.allowed
    assert result.total_mg == Decimal(450)


# --- Overrides -------------------------------------------------------------------------------


def test_an_override_is_refused_when_the_protocol_does_not_allow_one_even_with_a_reason():
    result = first_dose("450", reason=REASON)
    assert not result.allowed
    assert result.problems[-1] == NO_OVERRIDE
    assert not result.needs_override


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_an_allowed_override_still_needs_a_written_reason(reason):
    result = first_dose("450", replace(OVERRIDABLE, max_cumulative=Decimal(500)), reason=reason)
    assert not result.allowed
    assert result.needs_override
    assert not result.overridden
    assert result.problems[-1] == "The protocol allows an override only with a written reason."


def test_an_allowed_override_with_a_reason_lets_the_dose_through_and_says_what_it_covers():
    result = first_dose("450", OVERRIDABLE, reason=REASON)
    assert result.allowed
    assert result.needs_override
    assert result.overridden
    assert result.problems == (
        "450 mg is outside the protocol's range of 100-400 mg.",
        "The session total would be 450 mg, above the protocol's maximum of 400 mg (boosters included).",
    )


def test_an_override_reason_is_not_needed_for_a_dose_within_the_protocol():
    result = first_dose("200", OVERRIDABLE, reason=REASON)
    assert result.allowed
    assert not result.needs_override
    assert not result.overridden


def test_a_booster_beyond_the_maximum_may_be_overridden_with_a_reason_when_allowed():
    protocol = replace(WITH_BOOSTERS, dose_override_allowed=True)
    assert not booster("250", "400", protocol).allowed
    assert booster("250", "400", protocol, reason=REASON).overridden


# --- Properties ------------------------------------------------------------------------------

SPECIAL = [Decimal(s) for s in ("NaN", "sNaN", "Infinity", "-Infinity", "0", "-0", "1000", "1000.01")]
doses = st.one_of(
    st.sampled_from(SPECIAL),
    st.decimals(min_value=-10, max_value=1200, places=2, allow_nan=False, allow_infinity=False),
    st.decimals(min_value=-10, max_value=20000, places=3, allow_nan=False, allow_infinity=False),
)
weights = st.one_of(
    st.none(),
    st.sampled_from([Decimal(s) for s in ("NaN", "Infinity", "0", "-1")]),
    st.decimals(min_value="0.1", max_value=300, places=1),
)
protocols = st.builds(
    lambda base, allow, extra: replace(
        base, dose_override_allowed=allow, max_cumulative=base.max_cumulative + extra
    ),
    st.sampled_from([rules.example(route) for route in rules.EXAMPLES]),
    st.booleans(),
    st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(200)]),
)
dose_facts = st.builds(
    DoseFacts,
    dose_mg=doses,
    weight_kg=weights,
    given_mg=st.decimals(min_value=0, max_value=1000, places=2),
    booster=st.booleans(),
    override_reason=st.sampled_from(["", " ", "\t\n", REASON]),
)


def running_total(protocol: rules.Protocol, facts: DoseFacts) -> Decimal:
    """The session total in the protocol's unit, unrounded."""
    total = facts.given_mg + facts.dose_mg
    return total / facts.weight_kg if protocol.per_kg and facts.weight_kg else total


@given(protocols, dose_facts)
def test_property_an_allowed_dose_is_a_real_dose_of_at_most_1000_mg(protocol, facts):
    result = check_dose(protocol, facts)
    if result.allowed:
        assert facts.dose_mg.is_finite()
        assert Decimal(0) < facts.dose_mg <= Decimal(1000)
    else:
        assert result.problems
        assert all(p.strip() for p in result.problems)


@given(protocols, dose_facts)
def test_property_an_allowed_dose_stays_within_the_maximum_unless_overridden_with_a_reason(protocol, facts):
    result = check_dose(protocol, facts)
    if not result.allowed:
        return
    overridden = protocol.dose_override_allowed and bool(facts.override_reason.strip())
    assert result.overridden == result.needs_override
    if result.needs_override:
        assert overridden
    else:
        # within the cumulative maximum, compared unrounded (no slack from rounding)
        assert running_total(protocol, facts) <= protocol.max_cumulative
        if not facts.booster:
            exact = facts.dose_mg / facts.weight_kg if protocol.per_kg and facts.weight_kg else facts.dose_mg
            assert protocol.dose_min <= exact <= protocol.dose_max
    if protocol.per_kg:
        assert facts.weight_kg is not None and facts.weight_kg.is_finite() and facts.weight_kg > 0
        assert result.mg_per_kg == per_kg(facts.dose_mg, facts.weight_kg)
    assert result.total_mg == facts.given_mg + facts.dose_mg


@given(protocols, dose_facts)
def test_property_a_reason_only_matters_when_the_protocol_allows_overrides(protocol, facts):
    with_reason = check_dose(protocol, replace(facts, override_reason=REASON))
    without = check_dose(protocol, replace(facts, override_reason=""))
    if not protocol.dose_override_allowed:
        assert with_reason.allowed == without.allowed
        assert not with_reason.needs_override
    assert without.allowed <= with_reason.allowed  # a reason never takes permission away
    if without.allowed:
        assert with_reason.problems == without.problems == ()
