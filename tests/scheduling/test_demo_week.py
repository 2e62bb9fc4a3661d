"""The demo clinic has a week of appointments ahead, booked through the same conflict checks
as the front desk's, plus today's appointment of the dosing session in progress."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from kapflow.scheduling.models import Appointment, Kind, Status

pytestmark = pytest.mark.django_db


def test_the_demo_books_a_week_of_appointments_once():
    call_command("demo", stdout=StringIO())
    now = timezone.now()
    ahead = Appointment.objects.filter(starts_at__gte=now, starts_at__lt=now + timedelta(days=8))
    assert ahead.count() >= 12
    assert set(ahead.values_list("kind", flat=True)) >= {Kind.DOSING, Kind.INTEGRATION, Kind.SCREENING}
    assert ahead.filter(kind=Kind.DOSING).values("route").distinct().count() >= 4
    today = Appointment.objects.get(status=Status.CHECKED_IN)
    assert today.dosing_session is not None and today.patient.record_number == "DEMO-0001"
    # No two appointments share a room or an attendee at the same time.
    rows = list(Appointment.objects.exclude(status=Status.CANCELLED).prefetch_related("staff"))
    for a in rows:
        for b in rows:
            if a.pk < b.pk and a.starts_at < b.ends_at and b.starts_at < a.ends_at:
                assert a.room_id != b.room_id or a.room_id is None
                assert not {s.user_id for s in a.staff.all()} & {s.user_id for s in b.staff.all()}
    count = Appointment.objects.count()
    call_command("demo", stdout=StringIO())
    assert Appointment.objects.count() == count
