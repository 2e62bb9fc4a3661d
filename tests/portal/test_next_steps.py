"""next_steps: a pure function of plain facts, the most important step first."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kapflow.portal.next_steps import STEP_LINK, STEP_TEXT, PortalFacts, Step, next_steps

facts = st.builds(
    PortalFacts, has_care_team=st.booleans(), has_phone=st.booleans(), has_two_factor=st.booleans()
)


def test_a_new_patient_without_a_care_team_waits_for_the_clinics_call():
    steps = next_steps(PortalFacts(has_care_team=False, has_phone=True, has_two_factor=False))
    assert steps == [Step.CLINIC_WILL_CONTACT, Step.SET_UP_TWO_FACTOR]


def test_with_a_care_team_the_care_team_will_contact_them():
    steps = next_steps(PortalFacts(has_care_team=True, has_phone=True, has_two_factor=True))
    assert steps == [Step.CARE_TEAM_WILL_CONTACT]


def test_a_missing_phone_number_comes_first():
    steps = next_steps(PortalFacts(has_care_team=False, has_phone=False, has_two_factor=True))
    assert steps == [Step.GIVE_PHONE_NUMBER, Step.CLINIC_WILL_CONTACT]


@given(facts)
def test_exactly_one_step_says_who_will_call_about_screening(f):
    steps = next_steps(f)
    said = [s for s in steps if s in {Step.CLINIC_WILL_CONTACT, Step.CARE_TEAM_WILL_CONTACT}]
    assert said == [Step.CARE_TEAM_WILL_CONTACT if f.has_care_team else Step.CLINIC_WILL_CONTACT]


@given(facts)
def test_two_factor_is_suggested_exactly_when_it_is_off(f):
    assert (Step.SET_UP_TWO_FACTOR in next_steps(f)) is (not f.has_two_factor)


@given(facts)
def test_steps_never_repeat_and_all_have_words(f):
    steps = next_steps(f)
    assert len(steps) == len(set(steps))
    assert all(str(STEP_TEXT[s]) for s in steps)


def test_every_step_has_words_and_links_name_known_steps():
    assert set(STEP_TEXT) == set(Step)
    assert set(STEP_LINK) <= set(Step)
