"""The issue's browser acceptance: the therapist writes and signs a preparation note, the
patient sets intentions in the portal, the therapist sees them on the course timeline.
The course and its visit are set up through services; writing, signing, setting the
intention and reading the timeline go through the browser."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kapflow.courses import services as course_services
from kapflow.courses.models import ClinicalNote, Intention, NoteStatus
from tests.courses.course_setup import make_course
from tests.e2e.conftest import sign_in
from tests.e2e.test_measures_portal import sign_in_to_the_portal

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_preparation_note_then_intentions_seen_on_the_timeline(world, portal_user, new_page, screenshot):
    course = make_course(world)
    course_services.visit_create(
        member=world.therapist, course=course, kind="preparation", happened_on=timezone.localdate()
    )
    timeline = f"/c/demo/courses/{course.public_id}/"

    therapist = new_page()
    sign_in(therapist, world.therapist)
    therapist.goto(timeline)
    therapist.get_by_role("link", name="continue writing").click()
    therapist.get_by_label("Intentions and goals").fill("To feel less stuck; to reconnect with music")
    therapist.get_by_label("Safety plan").fill("Call the clinic; partner stays overnight")
    therapist.get_by_label("Readiness").fill("Ready")
    therapist.get_by_role("button", name="Save draft").click()
    therapist.get_by_role("button", name="Sign the note as saved").click()
    expect(therapist.locator("main")).to_contain_text("signed")
    note = ClinicalNote.objects.get()
    assert note.status == NoteStatus.SIGNED
    assert note.content["intentions_and_goals"] == "To feel less stuck; to reconnect with music"

    patient = new_page()
    sign_in_to_the_portal(patient, portal_user.email)
    patient.get_by_role("link", name=re.compile("Set your intentions for your course")).click()
    expect(patient.get_by_role("region", name="Your course")).to_contain_text("Sublingual lozenge or tablet")
    patient.get_by_role("textbox", name=re.compile("Your intention")).fill("Be gentle with myself and listen")
    patient.get_by_role("button", name="Save my intention").click()
    expect(patient.get_by_role("status")).to_contain_text("Your intention is saved")
    patient.get_by_role("textbox", name=re.compile("Your intention")).fill(
        "Be gentle with myself, listen, and let go"
    )
    patient.get_by_role("button", name="Save my revised intention").click()
    assert Intention.objects.count() == 2
    screenshot(patient, "portal-course-intentions")

    therapist.goto(timeline)
    voice = therapist.get_by_role("region", name="In the patient's words")
    expect(voice).to_contain_text("Be gentle with myself, listen, and let go")
    expect(voice).to_contain_text("Be gentle with myself and listen")
    expect(therapist.get_by_role("region", name="Timeline")).to_contain_text("signed")
    screenshot(therapist, "course-timeline-with-intentions")
