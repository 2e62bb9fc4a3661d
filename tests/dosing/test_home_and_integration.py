"""What a dosing session puts on home pages: the session in progress for its care team, and
an integration visit overdue for the course's therapist once the due window has passed."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from kapflow.courses import services as course_services
from kapflow.courses.selectors import overdue_integrations
from kapflow.dosing.models import DosingSession, SessionStatus
from tests.dosing.helpers import checked_in, make_ready

HOME = reverse("clinic_home", kwargs={"clinic": "demo"})


def test_a_session_in_progress_is_on_the_care_teams_home_page_only(world, login):
    course = make_ready(world)
    checked_in(world, course)
    assert "Dosing sessions in progress" in login(world.therapist).get(HOME).content.decode()
    assert "Dosing sessions in progress" in login(world.prescriber).get(HOME).content.decode()
    assert (
        "Dosing sessions in progress" not in login(world.nurse).get(HOME).content.decode()
    )  # not on the team
    assert "Dosing sessions in progress" not in login(world.frontdesk).get(HOME).content.decode()


def discharged_days_ago(world, days: int) -> DosingSession:
    course = make_ready(world)
    session = checked_in(world, course)
    at = timezone.now() - timedelta(days=days)
    DosingSession.objects.filter(pk=session.pk).update(
        status=SessionStatus.DISCHARGED, checked_in_at=at, first_administered_at=at, discharged_at=at
    )
    return session


def test_an_integration_visit_is_overdue_after_the_clinics_window(world, login):
    session = discharged_days_ago(world, world.demo.integration_due_days + 1)
    overdue = overdue_integrations(world.therapist)
    assert [o.course for o in overdue] == [session.course]
    assert "Integration visits overdue" in login(world.therapist).get(HOME).content.decode()
    # The integration visit after the session clears it.
    course_services.visit_create(
        member=world.therapist, course=session.course, kind="integration", happened_on=timezone.localdate()
    )
    assert overdue_integrations(world.therapist) == []


def test_within_the_window_nothing_is_overdue(world):
    discharged_days_ago(
        world, world.demo.integration_due_days - 1 if world.demo.integration_due_days > 1 else 0
    )
    assert overdue_integrations(world.therapist) == []
    assert overdue_integrations(world.prescriber) == []  # not a therapist of the course
