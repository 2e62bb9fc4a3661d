"""The patient's course in the portal: intentions, the integration journal, the next step."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kapflow.core.models import AccessLogEntry
from kapflow.courses.models import CourseStatus, Intention, JournalEntry
from kapflow.courses.voice_selectors import patient_voice
from kapflow.portal.next_steps import PortalFacts, Step, next_steps
from tests.courses.course_setup import make_course

COURSE = reverse("portal_courses:course")
INTENTION = reverse("portal_courses:intention")
JOURNAL = reverse("portal_courses:journal")


@pytest.fixture
def patient_client(portal_user) -> Client:
    client = Client()
    client.force_login(portal_user)
    return client


def test_without_an_open_course_a_friendly_page(world, patient_client):
    make_course(world, status=CourseStatus.COMPLETED)
    response = patient_client.get(COURSE)
    assert response.status_code == 200
    assert "Your clinic has not started a treatment course with you yet" in response.content.decode()
    refused = patient_client.post(INTENTION, {"intention-text": "Be kinder to myself"})
    assert refused.status_code == 400 and "nothing was saved" in refused.content.decode()
    assert not Intention.objects.exists()


def test_intentions_are_revised_as_new_rows_newest_first(world, patient_client, portal_user):
    course = make_course(world, status=CourseStatus.PLANNED)
    assert patient_client.post(INTENTION, {"intention-text": "Be kinder to myself"}).status_code == 302
    assert patient_client.post(INTENTION, {"intention-text": "Reconnect with my brother"}).status_code == 302
    assert list(course.intentions.values_list("text", flat=True)) == [
        "Reconnect with my brother",
        "Be kinder to myself",
    ]
    body = patient_client.get(COURSE).content.decode()
    assert "Sublingual lozenge or tablet" in body and "Planned" in body
    assert body.index("Reconnect with my brother") < body.index("Be kinder to myself")
    created = AccessLogEntry.objects.filter(action="create", user_id=portal_user.pk, patient=world.patient)
    assert created.count() == 2
    assert all("Be kinder" not in entry.detail for entry in created)


def test_journal_entries_private_or_shared_and_the_care_team_sees_only_shared(world, patient_client):
    course = make_course(world)
    patient_client.post(JOURNAL, {"journal-text": "Only for me", "journal-shared": ""})
    patient_client.post(JOURNAL, {"journal-text": "For my therapist", "journal-shared": "on"})
    assert dict(JournalEntry.objects.values_list("text", "shared")) == {
        "Only for me": False,
        "For my therapist": True,
    }
    body = patient_client.get(COURSE).content.decode()
    assert "private" in body and "shared" in body

    voice = patient_voice(member=world.therapist, course=course)
    assert [entry.text for entry in voice["shared_journal"]] == ["For my therapist"]


def test_a_journal_entry_of_100000_characters_is_refused_and_nothing_saved(world, patient_client):
    make_course(world)
    response = patient_client.post(JOURNAL, {"journal-text": "x" * 100_000, "journal-shared": "on"})
    assert response.status_code == 400
    assert "at most 10000 characters" in response.content.decode()
    assert not JournalEntry.objects.exists()
    assert patient_client.post(JOURNAL, {"journal-text": "x" * 10_000}).status_code == 302


def test_the_patient_sees_their_own_course_only(world, patient_client):
    from datetime import date

    from kapflow.courses.models import TreatmentCourse
    from kapflow.patients.services import patient_create

    casey = patient_create(
        member=world.frontdesk,
        data={"legal_given_name": "Casey", "legal_family_name": "Lee", "date_of_birth": date(1990, 5, 5)},
    )
    TreatmentCourse.objects.create(
        clinic=world.demo, patient=casey, route="nasal", planned_dosing_sessions=2, starts_on=date(2026, 1, 1)
    )
    assert "has not started a treatment course" in patient_client.get(COURSE).content.decode()
    patient_client.post(INTENTION, {"intention-text": "Mine"})
    assert not Intention.objects.exists()


@pytest.mark.parametrize("persona", ["admin", "therapist", "prescriber"])
def test_staff_get_404_on_portal_course_pages(world, persona):
    client = Client()
    client.force_login(world.member(persona).user)
    assert client.get(COURSE).status_code == 404


def test_the_care_team_voice_is_checked_and_logged(world):
    from django.core.exceptions import PermissionDenied

    course = make_course(world)
    Intention.objects.create(clinic=world.demo, course=course, patient=world.patient, text="Be present")
    with pytest.raises(PermissionDenied):
        patient_voice(member=world.frontdesk, course=course)
    assert AccessLogEntry.objects.filter(outcome="denied", user_id=world.frontdesk.user_id).exists()
    assert [i.text for i in patient_voice(member=world.prescriber, course=course)["intentions"]] == [
        "Be present"
    ]


def test_the_next_step_asks_for_intentions_while_an_open_course_has_none(world, patient_client):
    base = {"has_care_team": True, "has_phone": True, "has_two_factor": True}
    assert Step.SET_INTENTIONS in next_steps(PortalFacts(**base, intentions_to_set=True))
    assert Step.SET_INTENTIONS not in next_steps(PortalFacts(**base))

    assert (
        "Set your intentions for your course"
        not in patient_client.get(reverse("portal:home")).content.decode()
    )
    make_course(world)
    home = patient_client.get(reverse("portal:home")).content.decode()
    assert "Set your intentions for your course" in home and COURSE in home
    patient_client.post(INTENTION, {"intention-text": "Be present"})
    assert (
        "Set your intentions for your course"
        not in patient_client.get(reverse("portal:home")).content.decode()
    )


def test_the_portal_home_links_to_the_course_while_one_is_open(world, patient_client):
    assert (
        "Your intentions and integration journal"
        not in patient_client.get(reverse("portal:home")).content.decode()
    )
    make_course(world)
    patient_client.post(INTENTION, {"intention-text": "Be present"})
    home = patient_client.get(reverse("portal:home")).content.decode()
    assert "Your intentions and integration journal" in home and f'href="{COURSE}"' in home
