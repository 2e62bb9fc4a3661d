"""Own patient and other patient: the pages of the authorization matrix once the care team
changes, and the portal of a second patient.

The main matrix (tests/test_authorization_matrix.py) is "own patient" for the therapist and
the prescriber (Theo and Priya are on Jordan's care team) and "other patient" for the nurse
(Nico is not). Here the same routes are requested after the team changed: the front desk took
Theo and Priya off Jordan's team (``care_team_remove``, as the chart's Remove button does) and
added Nico. Jordan is now a patient Theo and Priya do not look after, and Nico's own.

HOW TO DECLARE A ROUTE. Every route of MATRIX that addresses a patient's record is checked here
(an object route whose kwargs builder is not in NOT_PATIENT_KWARGS, every route with a patient
id in its address, and those in DATA_NAMES_THE_PATIENT, whose form names him):

* Off the team, Theo and Priya keep the status of the main table on the routes of CLINIC_WIDE
  (patient routes any staff member of the clinic may use whatever the team: the chart,
  demographics, scheduling...). On every other patient route, what they were allowed becomes
  403 and what they were refused stays refused with the same status. A route that differs
  from this rule is declared in OFF_TEAM with the reason.
* On the team, Nico gets the status of the main table's "nurse" column, except on the routes
  of NURSE_ON_TEAM (the rows where being on the team makes a difference to her).
* Each of the three also POSTs the row's data (rolled back after each): a refusal has the
  GET's status and changes nothing; an allowed POST answers 302 and changes something, unless
  NURSE_ON_TEAM_POST says otherwise. The data and the URL are built before the team changes
  (a builder may need Theo on the team).

A route with both a patient's id and a record's id in its address (MIXED_ROUTES) is also
requested with Casey's id (a patient on Nico's team) and the id of one of Jordan's records:
nothing is found (404) and a POST changes nothing.

A second patient of Demo, Morgan, has a portal account of her own: every portal route that
carries one of Jordan's record ids answers her 404 and a POST changes nothing; the portal
routes without ids show her her own record, never Jordan's name or records, and her POSTs
change nothing of Jordan's. On every staff route she is refused as the "patient" persona is
(checked by the main matrix's GET and POST refusal tests, which have the URL at hand).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.urls import reverse

from kapflow.courses.portal_services import intention_set, journal_write
from kapflow.patients.models import CareTeamMember
from kapflow.patients.services import care_team_add, care_team_remove, patient_create
from kapflow.portal.models import PortalAccount
from tests.test_authorization_matrix import (
    ALLOWED,
    MATRIX,
    OBJECT_ROUTES,
    PERSONAS,
    REFUSED,
    all_routes,
    another_portal_patient,
    appointment_request,
    calendar_feed,
    client_for,
    closure,
    consent_published,
    demo,
    domain_state,
    invitation,
    location,
    measure_trend,
    nothing,
    portal_appointment,
    portal_consent_signature,
    portal_course,
    portal_questionnaire,
    post_in_savepoint,
    request_note,
    room,
    safety_alert,
    staff_member,
    staff_member_hours,
    staff_member_with_device,
    stock_lot,
)

# Object routes whose object is not a patient's record: staff, the clinic's places, requests
# made before anyone is a patient, the ledger, a person's own calendar feed.
NOT_PATIENT_KWARGS = (
    staff_member,
    staff_member_with_device,
    staff_member_hours,
    invitation,
    location,
    room,
    appointment_request,
    request_note,
    stock_lot,
    calendar_feed,
    closure,
)
# Not object routes of the main matrix, but about Jordan all the same: his scores by instrument
# (the Other clinic's admin is refused the action before the id is looked up), and the routes
# whose form names him (booking posts his id).
DATA_NAMES_THE_PATIENT = ("scheduling:book",)
PATIENT_ROUTES = sorted(
    [n for n in OBJECT_ROUTES if MATRIX[n].kwargs not in NOT_PATIENT_KWARGS]
    + [n for n, r in MATRIX.items() if r.kwargs is measure_trend]
    + list(DATA_NAMES_THE_PATIENT)
)
TEAM_PERSONAS = ("therapist", "prescriber", "nurse")
PATIENT = PERSONAS.index("patient")

# Patient routes that any staff member of the clinic uses whatever the care team: the chart and
# its print (demographics), the consent form's PDF and its witnessing (anyone who may see the
# chart), and scheduling (names, kinds and times, never clinical detail).
CLINIC_WIDE = frozenset(
    {
        "patients:chart",
        "patients:print",
        "consent:pdf",
        "consent:witness",
        "scheduling:book",
        "scheduling:appointment",
        "scheduling:cancel",
        "scheduling:check_in",
        "scheduling:complete",
        "scheduling:move",
        "scheduling:no_show",
        "scheduling:patient",
        "scheduling:plan",
    }
)

# Off the team, where the rule above does not hold: {route: {persona: status}}, with the reason.
# (None: even the author of a psychotherapy note loses it with the patient.)
OFF_TEAM: dict[str, dict[str, int]] = {}

# On the team, where Nico's status differs from the main table's "nurse" column: a nurse on the
# team is a clinician and a medical professional (clinical pages, screening, dosing), but she
# never decides eligibility (prescribers) nor keeps psychotherapy notes (therapists).
NURSE_ON_TEAM: dict[str, int] = {
    **dict.fromkeys(
        (
            "patients:edit",
            "patients:clinical",
            "measures:overview",
            "measures:assign",
            "measures:enter",
            "measures:response",
            "measures:correct",
            "measures:alert",
            "measures:trajectory",
            "measures:trajectory_svg",
            "screening:overview",
            "screening:new",
            "courses:patient",
            "courses:new",
            "courses:course",
            "courses:visit_new",
            "courses:note",
            "outcomes:course_chart",
            "outcomes:course_pdf",
            "dosing:patient",
            "dosing:check_in",
            "dosing:session",
            "dosing:live",
            "dosing:pdf",
        ),
        200,
    ),
    **dict.fromkeys(  # POST-only: the GET is answered 405 once access was granted
        (
            "measures:stop",
            "consent:withdraw",
            "courses:status",
            "courses:autosave",
            "courses:sign",
            "courses:addendum",
            "dosing:predose",
            "dosing:reading",
            "dosing:override",
            "dosing:administer",
            "dosing:cancel",
            "dosing:discharge",
            "dosing:event",
            "dosing:addendum",
            "dosing:guide_note",
        ),
        405,
    ),
}


# Her POST, where it is not the usual 302: only a draft's author (Theo) changes or signs it.
NURSE_ON_TEAM_POST = {"courses:note": 403, "courses:sign": 403}


def expected_after_team_change(name: str) -> dict[str, int]:
    route = MATRIX[name]
    on_team = dict(zip(PERSONAS, route.get, strict=True))
    expected = {}
    for persona in ("therapist", "prescriber"):
        status = on_team[persona]
        if name not in CLINIC_WIDE and status in ALLOWED:
            status = 403
        expected[persona] = OFF_TEAM.get(name, {}).get(persona, status)
    expected["nurse"] = NURSE_ON_TEAM.get(name, on_team["nurse"])
    return expected


def change_the_team(world) -> None:
    """Theo and Priya leave Jordan's care team; Nico joins it (as the chart's buttons do)."""
    for clinician in (world.therapist, world.prescriber):
        row = CareTeamMember.objects.get(patient=world.patient, user=clinician.user, removed_at__isnull=True)
        care_team_remove(member=world.frontdesk, patient=world.patient, row_id=row.pk)
    care_team_add(member=world.frontdesk, patient=world.patient, membership_id=world.nurse.pk)


def test_every_route_with_a_patient_in_its_address_is_a_patient_route():
    with_patient = {name for name, pattern in all_routes() if "patient_id>" in pattern and name in MATRIX}
    assert with_patient and sorted(with_patient - set(PATIENT_ROUTES)) == []


def test_every_declared_route_is_a_patient_route():
    declared = CLINIC_WIDE | set(OFF_TEAM) | set(NURSE_ON_TEAM)
    assert sorted(declared - set(PATIENT_ROUTES)) == []


@pytest.mark.parametrize("name", PATIENT_ROUTES)
def test_off_the_team_and_on_it(world, portal_user, name):
    route = MATRIX[name]
    path = reverse(name, kwargs=route.kwargs(world))
    data = route.data(world) if route.data else None
    change_the_team(world)
    expected = expected_after_team_change(name)
    clients = {persona: client_for(world, persona) for persona in TEAM_PERSONAS}
    actual = {persona: clients[persona].get(path).status_code for persona in TEAM_PERSONAS}
    assert actual == expected, f"{name}: got {actual}, declared {expected}"

    # The POST: refused as the GET (nothing changes); where allowed, the row's data works.
    posted, declared = {}, {}
    for persona, status in expected.items():
        if status in REFUSED:
            posted[persona] = post_in_savepoint(clients[persona], path, data or {})
            declared[persona] = (status, False)
        elif data is not None:
            posted[persona] = post_in_savepoint(clients[persona], path, data)
            status = NURSE_ON_TEAM_POST.get(name, 302) if persona == "nurse" else 302
            declared[persona] = (status, status == 302)
    assert posted == declared, f"{name}: POST got {posted}, declared {declared}"


# Routes that carry a patient's id AND the id of one of the patient's records: a clinician may
# use them on a patient of their own, but never with the id of another patient's record.
MIXED_ROUTES = sorted(
    name
    for name, pattern in all_routes()
    if name in MATRIX and "patient_id>" in pattern and pattern.count("<uuid:") + pattern.count("<int:") > 1
)
MIXED_PERSONA = {"patients:care_team_remove": "frontdesk"}  # else Nico, on Casey's team
# The POST's answer where it is not 404: Casey's team has no such row, so the chart says "That
# person is no longer on the care team" (302 back to it) and nothing changes.
MIXED_POST = {"patients:care_team_remove": 302}


@pytest.mark.parametrize("name", MIXED_ROUTES)
def test_jordans_record_cannot_be_reached_under_another_patients_address(world, portal_user, name):
    """Casey is Nico's patient, Jordan is not: Casey's id in the address and the id of one of
    Jordan's records after it find nothing (404), and a POST changes nothing."""
    route = MATRIX[name]
    kwargs = route.kwargs(world)
    data = route.data(world) if route.data else {}
    casey = patient_create(
        member=world.frontdesk,
        data={"legal_given_name": "Casey", "legal_family_name": "Lee", "date_of_birth": date(1990, 5, 5)},
    )
    care_team_add(member=world.frontdesk, patient=casey, membership_id=world.nurse.pk)
    persona = MIXED_PERSONA.get(name, "nurse")
    client = client_for(world, persona)
    caseys = reverse("measures:overview", kwargs={"clinic": "demo", "patient_id": casey.public_id})
    assert client.get(caseys).status_code == (403 if persona == "frontdesk" else 200)  # Casey is theirs

    path = reverse(name, kwargs=dict(kwargs, patient_id=casey.public_id))
    post_only = 405 in route.get  # may answer a GET 405 before looking anything up
    assert client.get(path).status_code in ({404, 405} if post_only else {404}), path
    assert post_in_savepoint(client, path, data) == (MIXED_POST.get(name, 404), False), path


def test_the_clinic_home_lists_jordan_to_his_care_team_only(world, portal_user):
    """A clinician's home lists the patients (and the open safety alerts) of their care teams;
    the patient search finds Jordan for any staff member."""
    safety_alert(world)
    pages = {
        "home": reverse("clinic_home", kwargs=demo(world)),
        "search": reverse("patients:list", kwargs=demo(world)),
    }

    def shown() -> dict[tuple[str, str], bool]:
        return {
            (page, persona): b"Rivera" in client_for(world, persona).get(path, {"q": "Rivera"}).content
            for page, path in pages.items()
            for persona in TEAM_PERSONAS
        }

    team = {"therapist", "prescriber"}
    assert shown() == {(page, p): page == "search" or p in team for page in pages for p in TEAM_PERSONAS}
    change_the_team(world)
    team = {"nurse"}
    assert shown() == {(page, p): page == "search" or p in team for page in pages for p in TEAM_PERSONAS}


# --- another patient in the portal --------------------------------------------------------------
# The pages a signed-in patient uses (Jordan's "patient" column allows them); those whose URL
# carries a record id, and those without (the portal shows the signed-in patient's own record).
PATIENT_PAGES = sorted(n for n, r in MATRIX.items() if r.get[PATIENT] in ALLOWED and r.get[0] == 302)
ID_FREE_KWARGS = (nothing, portal_course, consent_published)
PORTAL_RECORD_ROUTES = [n for n in PATIENT_PAGES if MATRIX[n].kwargs not in ID_FREE_KWARGS]
OWN_RECORD_ROUTES = [n for n in PATIENT_PAGES if MATRIX[n].kwargs in ID_FREE_KWARGS]


def jordans_rows(world) -> dict[str, list[dict[str, Any]]]:
    """Every row that is Jordan's: his record and every row that points at it."""
    mine = {}
    for label, rows in domain_state().items():
        if label == "patients.Patient":
            found = [row for row in rows if row["id"] == world.patient.pk]
        else:
            found = [row for row in rows if row.get("patient_id") == world.patient.pk]
        if found:
            mine[label] = found
    return mine


@pytest.mark.parametrize("name", PORTAL_RECORD_ROUTES)
def test_another_patient_cannot_reach_jordans_records_in_the_portal(world, portal_user, name):
    route = MATRIX[name]
    path = reverse(name, kwargs=route.kwargs(world))
    data = route.data(world) if route.data else None
    morgan = another_portal_patient(world)
    post_only = route.get[PATIENT] == 405  # may answer 405 before looking the id up
    assert morgan.get(path).status_code in ({404, 405} if post_only else {404}), path
    if data is not None:
        before = domain_state()
        assert morgan.post(path, data).status_code == 404, path
        assert domain_state() == before


def test_another_patient_sees_her_own_record_in_the_portal_never_jordans(world, portal_user):
    """Jordan has an appointment, a course, a signed consent and a questionnaire due; Morgan's
    pages show none of it, and what she posts changes nothing of Jordan's."""
    portal_course(world)
    portal_consent_signature(world)
    jordan_user = PortalAccount.objects.get(patient=world.patient).user
    intention_set(user=jordan_user, patient=world.patient, text="Intention-of-Jordan")
    journal_write(user=jordan_user, patient=world.patient, text="Journal-of-Jordan", shared=True)
    jordans = [
        "Jordan",
        "Rivera",
        "Intention-of-Jordan",
        "Journal-of-Jordan",
        str(portal_appointment(world)["appointment_id"]),
        str(portal_questionnaire(world)["request_id"]),
    ]
    jordan, morgan = client_for(world, "patient"), another_portal_patient(world)
    seen_by_jordan = seen_by_morgan = b""
    for name in OWN_RECORD_ROUTES:
        path = reverse(name, kwargs=MATRIX[name].kwargs(world))
        his, hers = jordan.get(path), morgan.get(path)
        assert hers.status_code == his.status_code == MATRIX[name].get[PATIENT], path
        assert [marker for marker in jordans if marker.encode() in hers.content] == [], path
        seen_by_jordan += his.content
        seen_by_morgan += hers.content
    assert [marker for marker in jordans if marker.encode() not in seen_by_jordan] == [], (
        "the pages show Jordan his own"
    )
    assert b"Morgan" in seen_by_morgan, "the pages show Morgan her own"

    before = jordans_rows(world)
    for name in OWN_RECORD_ROUTES:
        route = MATRIX[name]
        if route.data is not None:
            morgan.post(reverse(name, kwargs=route.kwargs(world)), route.data(world))
    assert jordans_rows(world) == before
