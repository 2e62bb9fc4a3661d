"""The portal home lists the questionnaires due, and the next steps say how many."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from kapflow.measures import services
from kapflow.patients.services import care_team_add
from kapflow.portal.next_steps import PortalFacts, Step, next_steps, step_text
from tests.measures.portal.conftest import answer, answer_url, submit_url

HOME = "/portal/"

facts = st.builds(
    PortalFacts,
    has_care_team=st.booleans(),
    has_phone=st.booleans(),
    has_two_factor=st.booleans(),
    questionnaires_due=st.integers(min_value=0, max_value=20),
)


@pytest.mark.django_db
def test_the_home_lists_each_due_questionnaire_as_a_link_with_its_date(world, patient_client, assign):
    phq9 = assign("phq9")
    gad7 = assign("gad7")
    page = patient_client.get(HOME).content.decode()
    assert "Questionnaires to fill in" in page
    day = timezone.localtime(phq9.due_at, world.demo.tzinfo).strftime("%-d %b")
    assert f'<a href="{answer_url(phq9)}"><span>PHQ-9: due since {day}' in page
    assert f'<a href="{answer_url(gad7)}"><span>GAD-7: due since {day}' in page
    assert "You have 2 questionnaires to fill in." in page
    # the step is the first one, and leads to the first questionnaire
    assert page.index("You have 2 questionnaires") < page.index("Your care team has been chosen")
    assert f'<a href="{answer_url(phq9)}">You have 2 questionnaires to fill in.</a>' in page


@pytest.mark.django_db
def test_a_started_questionnaire_says_so_and_a_submitted_one_leaves_the_list(world, patient_client, assign):
    request = assign("phq9")
    answer(patient_client, request, "q1", 1)
    assert "(started)" in patient_client.get(HOME).content.decode()
    for n in range(2, 10):
        answer(patient_client, request, f"q{n}", 0)
    patient_client.post(submit_url(request))
    page = patient_client.get(HOME).content.decode()
    assert "Questionnaires to fill in" not in page
    assert "questionnaire to fill in" not in page


@pytest.mark.django_db
def test_a_questionnaire_set_to_start_later_is_not_listed_before_it_is_due(world, patient_client):
    later = timezone.localdate(timezone=world.demo.tzinfo) + timedelta(days=3)
    services.assignment_create(
        member=world.therapist, patient=world.patient, instrument_key="gad7", schedule="once", starts_on=later
    )
    page = patient_client.get(HOME).content.decode()
    assert "GAD-7" not in page
    assert "questionnaire to fill in" not in page


@pytest.mark.django_db
def test_another_patients_questionnaires_are_not_listed(world, patient_client, assign):
    care_team_add(
        member=world.other_admin, patient=world.other_patient, membership_id=world.other_therapist.pk
    )
    assign("phq9", patient=world.other_patient)
    page = patient_client.get(HOME).content.decode()
    assert "Questionnaires to fill in" not in page


def test_questionnaires_due_come_first_in_the_next_steps():
    steps = next_steps(
        PortalFacts(has_care_team=True, has_phone=False, has_two_factor=True, questionnaires_due=1)
    )
    assert steps == [Step.FILL_IN_QUESTIONNAIRES, Step.GIVE_PHONE_NUMBER, Step.CARE_TEAM_WILL_CONTACT]


def test_the_step_counts_the_questionnaires():
    one = PortalFacts(has_care_team=True, has_phone=True, has_two_factor=True, questionnaires_due=1)
    three = PortalFacts(has_care_team=True, has_phone=True, has_two_factor=True, questionnaires_due=3)
    assert step_text(Step.FILL_IN_QUESTIONNAIRES, one) == "You have 1 questionnaire to fill in."
    assert step_text(Step.FILL_IN_QUESTIONNAIRES, three) == "You have 3 questionnaires to fill in."


@given(facts)
def test_the_questionnaire_step_appears_exactly_when_some_are_due(f):
    assert (Step.FILL_IN_QUESTIONNAIRES in next_steps(f)) is (f.questionnaires_due > 0)


@given(facts)
def test_every_step_has_words_with_the_numbers_filled_in(f):
    for step in next_steps(f):
        text = step_text(step, f)
        assert text and "%(" not in text
