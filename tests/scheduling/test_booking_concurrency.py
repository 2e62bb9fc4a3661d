"""Two front-desk users book the last slot at the same moment: exactly one appointment exists
afterwards, and the other is told the slot was just taken. Runs on SQLite (a file database,
writers queue on its lock) and on PostgreSQL (row locks)."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from kapflow.core.roles import Role
from kapflow.patients import services as patient_services
from kapflow.scheduling.models import Appointment
from tests.conftest import make_member
from tests.scheduling.helpers import weekday_ahead

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_clients_book_the_same_room_and_time_exactly_one_wins(world):
    second_desk = make_member(world.demo, "fran@demo.test", "Fran Second-Desk", Role.FRONT_DESK)
    other = patient_services.patient_create(
        member=world.frontdesk,
        data={"legal_given_name": "Morgan", "legal_family_name": "Lee", "date_of_birth": "1979-03-03"},
    )
    day = weekday_ahead()
    url = reverse("scheduling:book", kwargs={"clinic": "demo"})
    posts = [
        (world.frontdesk, world.patient),
        (second_desk, other),
    ]
    barrier = threading.Barrier(len(posts))
    results: list[tuple[int, str]] = []
    errors: list[BaseException] = []

    def send(member, patient) -> None:
        try:
            client = Client()
            client.force_login(member.user)
            data = {
                "patient": str(patient.pk),
                "kind": "follow_up",
                "day": day.isoformat(),
                "time": "10:00",
                "room": str(world.room.pk),
                "action": "book",
            }
            barrier.wait()
            response = client.post(url, data)
            results.append((response.status_code, response.content.decode()))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=post) for post in posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(status for status, _page in results) == [302, 409]
    assert Appointment.objects.count() == 1
    loser = next(page for status, page in results if status == 409)
    assert "Dosing room 1 is already booked from 10:00 to 10:30" in loser
