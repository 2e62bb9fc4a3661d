"""The pure access rules of ``kapflow.core.permissions.decide``, checked against a written table.

The tables below are the specification: they are typed out by hand, not derived from
``ROLE_GRANTS``, so a change to the rules must change this file too.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapflow.core.permissions import Action, Actor, Decision, PatientFacts, decide
from kapflow.core.roles import Role

ME = 7  # the actor's user id
COLLEAGUE = 8  # another clinician
HERE = 1  # the actor's clinic
ELSEWHERE = 2

# Columns, in this order, for every row below.
ROLES = (Role.CLINIC_ADMIN, Role.FRONT_DESK, Role.THERAPIST, Role.PRESCRIBER, Role.NURSE)

# Y = allowed, N = refused (403), H = refused and hidden (404).
#                                      admin desk  ther  presc nurse
CLINIC_WIDE = {
    Action.PATIENT_SEARCH: "Y Y Y Y Y",
    Action.PATIENT_CREATE: "Y Y N N N",
    Action.STAFF_MANAGE: "Y N N N N",
    Action.CLINIC_CONFIGURE: "Y N N N N",
    Action.AUDIT_VIEW: "Y N N N N",
    Action.INTAKE_VIEW: "Y Y N N N",
    Action.INTAKE_MANAGE: "Y Y N N N",
    Action.INSTRUMENT_MANAGE: "Y N N N N",
    Action.STOCK_VIEW: "Y N N Y Y",
    Action.STOCK_MANAGE: "N N N Y Y",
    Action.SCHEDULE_VIEW: "Y Y Y Y Y",
    Action.SCHEDULE_MANAGE: "Y Y Y Y Y",
    Action.OUTCOMES_VIEW: "Y N N Y Y",
    Action.OUTCOMES_EXPORT: "Y N N Y Y",
    Action.BULK_EXPORT: "Y N N N N",
}
# A patient of the actor's clinic whose care team includes the actor.
SAME_CLINIC_ON_TEAM = {
    Action.DEMOGRAPHICS_VIEW: "Y Y Y Y Y",
    Action.DEMOGRAPHICS_EDIT: "Y Y Y Y Y",
    Action.CARE_TEAM_MANAGE: "Y Y N N N",
    Action.CLINICAL_VIEW: "N N Y Y Y",
    Action.CLINICAL_EDIT: "N N Y Y Y",
    Action.PORTAL_INVITE: "Y Y N N N",
    Action.SCREENING_RECORD: "N N N Y Y",
    Action.ELIGIBILITY_DECIDE: "N N N Y N",
    Action.DOSING_MEDICAL: "N N N Y Y",
    Action.DOSE_ADMINISTER: "N N N Y Y",
}
# A patient of the actor's clinic whose care team does not include the actor.
SAME_CLINIC_OFF_TEAM = {
    Action.DEMOGRAPHICS_VIEW: "Y Y Y Y Y",
    Action.DEMOGRAPHICS_EDIT: "Y Y N N N",
    Action.CARE_TEAM_MANAGE: "Y Y N N N",
    Action.CLINICAL_VIEW: "N N N N N",
    Action.CLINICAL_EDIT: "N N N N N",
    Action.PORTAL_INVITE: "Y Y N N N",
    Action.SCREENING_RECORD: "N N N N N",
    Action.ELIGIBILITY_DECIDE: "N N N N N",
    Action.DOSING_MEDICAL: "N N N N N",
    Action.DOSE_ADMINISTER: "N N N N N",
}
# A patient of another clinic: never allowed, and the record's existence stays hidden,
# whether or not the actor's id happens to be in that patient's care team.
OTHER_CLINIC = {action: "H H H H H" for action in SAME_CLINIC_ON_TEAM}


def expand(table: dict[Action, str], team: frozenset[int], clinic: int | None) -> list[Any]:
    cases = []
    for action, row in table.items():
        marks = row.split()
        assert len(marks) == len(ROLES), f"row {action} needs one mark per role"
        for role, mark in zip(ROLES, marks, strict=True):
            facts = None if clinic is None else PatientFacts(clinic_id=clinic, care_team_user_ids=team)
            cases.append(pytest.param(role, action, facts, mark, id=f"{role}-{action}-{mark}"))
    return cases


CASES = [
    *expand(CLINIC_WIDE, frozenset(), None),
    *expand(SAME_CLINIC_ON_TEAM, frozenset({ME, COLLEAGUE}), HERE),
    *expand(SAME_CLINIC_OFF_TEAM, frozenset({COLLEAGUE}), HERE),
    *expand(OTHER_CLINIC, frozenset({ME}), ELSEWHERE),
    *expand(OTHER_CLINIC, frozenset(), ELSEWHERE),
]


def test_the_tables_cover_every_action_and_role():
    assert set(CLINIC_WIDE) | set(SAME_CLINIC_ON_TEAM) == set(Action)
    assert set(SAME_CLINIC_ON_TEAM) == set(SAME_CLINIC_OFF_TEAM) == set(OTHER_CLINIC)
    assert set(ROLES) == set(Role)
    # 15 clinic-wide actions + 10 patient actions x 4 situations, for each of 5 roles
    assert len(CLINIC_WIDE) == 15
    assert len(SAME_CLINIC_ON_TEAM) == 10
    assert len(CASES) == 5 * (15 + 10 * 4)


@pytest.mark.parametrize(("role", "action", "facts", "mark"), CASES)
def test_decision_matches_the_written_table(role, action, facts, mark):
    decision = decide(Actor(user_id=ME, clinic_id=HERE, role=role), action, facts)
    assert isinstance(decision, Decision)
    assert bool(decision) is (mark == "Y")
    assert decision.allowed is (mark == "Y")
    assert decision.hide is (mark == "H")
    assert decision.reason


def test_a_patient_of_another_clinic_is_hidden_so_the_answer_is_404():
    admin = Actor(user_id=ME, clinic_id=HERE, role=Role.CLINIC_ADMIN)
    decision = decide(admin, Action.DEMOGRAPHICS_VIEW, PatientFacts(ELSEWHERE, frozenset()))
    assert not decision.allowed
    assert decision.hide
    assert "another clinic" in decision.reason


@pytest.mark.parametrize("action", [Action.CLINICAL_VIEW, Action.CLINICAL_EDIT])
def test_front_desk_never_gets_clinical_access_even_if_listed_on_the_care_team(action):
    desk = Actor(user_id=ME, clinic_id=HERE, role=Role.FRONT_DESK)
    decision = decide(desk, action, PatientFacts(HERE, frozenset({ME})))
    assert not decision.allowed
    assert not decision.hide  # a refusal the user may see (403), not a hidden record


@pytest.mark.parametrize("role", [Role.THERAPIST, Role.PRESCRIBER, Role.NURSE])
def test_clinicians_off_the_care_team_are_refused_clinical_access_with_a_reason(role):
    clinician = Actor(user_id=ME, clinic_id=HERE, role=role)
    facts = PatientFacts(HERE, frozenset({COLLEAGUE}))
    for action in (Action.CLINICAL_VIEW, Action.CLINICAL_EDIT):
        decision = decide(clinician, action, facts)
        assert not decision.allowed
        assert "care team" in decision.reason


@pytest.mark.parametrize(
    "action",
    [
        Action.DEMOGRAPHICS_VIEW,
        Action.DEMOGRAPHICS_EDIT,
        Action.CARE_TEAM_MANAGE,
        Action.CLINICAL_VIEW,
        Action.CLINICAL_EDIT,
        Action.DOSING_MEDICAL,
        Action.DOSE_ADMINISTER,
    ],
)
def test_a_patient_action_without_the_patients_facts_raises_value_error(action):
    with pytest.raises(ValueError, match="pass the patient's facts"):
        decide(Actor(user_id=ME, clinic_id=HERE, role=Role.CLINIC_ADMIN), action)


def test_a_therapist_on_the_care_team_may_not_record_a_dose():
    therapist = Actor(user_id=ME, clinic_id=HERE, role=Role.THERAPIST)
    decision = decide(therapist, Action.DOSE_ADMINISTER, PatientFacts(HERE, frozenset({ME, COLLEAGUE})))
    assert not decision.allowed
    assert not decision.hide  # a refusal the user may see (403)
    assert decision.reason == (
        "As a therapist you may not record a medication administration "
        "(medical professionals only) (dose.administer)."
    )
    # the same therapist may still read and write the rest of the clinical record
    assert decide(therapist, Action.CLINICAL_EDIT, PatientFacts(HERE, frozenset({ME}))).allowed


@pytest.mark.parametrize("role", [Role.PRESCRIBER, Role.NURSE])
@pytest.mark.parametrize("action", [Action.DOSING_MEDICAL, Action.DOSE_ADMINISTER])
def test_medical_professionals_off_the_care_team_may_not_run_a_dosing_session(role, action):
    medic = Actor(user_id=ME, clinic_id=HERE, role=role)
    decision = decide(medic, action, PatientFacts(HERE, frozenset({COLLEAGUE})))
    assert not decision.allowed
    assert "care team" in decision.reason
    assert decide(medic, action, PatientFacts(HERE, frozenset({ME}))).allowed


def test_the_stock_ledger_is_clinic_wide_and_needs_no_patient():
    admin = Actor(user_id=ME, clinic_id=HERE, role=Role.CLINIC_ADMIN)
    assert decide(admin, Action.STOCK_VIEW).allowed
    refused = decide(admin, Action.STOCK_MANAGE)
    assert not refused.allowed
    assert "record controlled-substance stock" in refused.reason


user_ids = st.integers(min_value=1, max_value=50)
clinic_ids = st.integers(min_value=1, max_value=4)
patient_actions = st.sampled_from(sorted(SAME_CLINIC_ON_TEAM))


@given(
    role=st.sampled_from(list(Role)),
    action=patient_actions,
    me=user_ids,
    my_clinic=clinic_ids,
    patient_clinic=clinic_ids,
    others=st.frozensets(user_ids, max_size=6),
)
def test_property_only_whether_i_am_on_the_team_and_in_the_clinic_matters(
    role, action, me, my_clinic, patient_clinic, others
):
    """For any care team: other members do not change my answer, joining the team never
    takes access away, and another clinic's patient is always refused and hidden."""
    actor = Actor(user_id=me, clinic_id=my_clinic, role=role)
    team_without_me = others - {me}
    off = decide(actor, action, PatientFacts(patient_clinic, team_without_me))
    on = decide(actor, action, PatientFacts(patient_clinic, team_without_me | {me}))
    alone_off = decide(actor, action, PatientFacts(patient_clinic, frozenset()))
    alone_on = decide(actor, action, PatientFacts(patient_clinic, frozenset({me})))

    assert off.allowed == alone_off.allowed
    assert on.allowed == alone_on.allowed
    assert on.allowed or not off.allowed  # on the team >= off the team
    if patient_clinic != my_clinic:
        assert not on.allowed and on.hide
        assert not off.allowed and off.hide
    else:
        assert not on.hide and not off.hide
    if role == Role.FRONT_DESK and action in (Action.CLINICAL_VIEW, Action.CLINICAL_EDIT):
        assert not on.allowed


def test_refusals_are_worded_for_people_and_name_the_action():
    actor = Actor(user_id=1, clinic_id=1, role=Role.FRONT_DESK)
    facts = PatientFacts(clinic_id=1, care_team_user_ids=frozenset())
    reason = decide(actor, Action.CLINICAL_VIEW, facts).reason
    assert reason.startswith("As front desk staff you may not read clinical information")
    nurse = Actor(user_id=2, clinic_id=1, role=Role.NURSE)
    assert "care team" in decide(nurse, Action.CLINICAL_VIEW, facts).reason
