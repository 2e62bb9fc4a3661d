"""Administrations at the same moment: two nurses drawing the last of one lot for two
patients, and two entries of the same dose for one patient. The ledger stays right."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connections
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from kapflow.dosing.models import Administration, LedgerEntry, StockLot
from tests.dosing.helpers import checked_in, make_lot, make_ready, second_patient

pytestmark = pytest.mark.django_db(transaction=True)


def post_at_once(world, posts: list[tuple[str, dict[str, str]]]) -> list[int]:
    barrier = threading.Barrier(len(posts))
    statuses: list[int] = []
    errors: list[BaseException] = []

    def send(url: str, data: dict[str, str]) -> None:
        try:
            client = Client()
            client.force_login(world.prescriber.user)
            barrier.wait()
            statuses.append(client.post(url, data).status_code)
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
    return statuses


def post(session, lot, dose: str) -> tuple[str, dict[str, str]]:
    url = reverse("dosing:administer", kwargs={"clinic": "demo", "session_id": session.public_id})
    return url, {"dose-dose_mg": dose, "dose-lot": str(lot.pk), "dose-version": str(session.version)}


def assert_ledger_matches(lot: StockLot) -> None:
    lot.refresh_from_db()
    total = LedgerEntry.objects.filter(lot=lot).aggregate(t=Sum("quantity_mg"))["t"]
    assert lot.balance_mg == total >= 0
    given = Administration.objects.filter(lot=lot).aggregate(t=Sum("dose_mg"))["t"] or Decimal(0)
    assert lot.received_mg - given == lot.balance_mg


def test_two_patients_dosed_from_the_last_of_one_lot_at_once(world):
    lot = make_lot(world, quantity="300")
    jordan = checked_in(world, make_ready(world))
    morgan = checked_in(world, make_ready(world, patient=second_patient(world)))
    statuses = post_at_once(world, [post(jordan, lot, "200"), post(morgan, lot, "200")])
    assert sorted(statuses) == [302, 400]  # the second is told the stock does not hold it
    assert Administration.objects.count() == 1
    assert_ledger_matches(lot)
    assert lot.balance_mg == Decimal("100")


def test_the_same_dose_entered_twice_at_once_is_recorded_once(world):
    lot = make_lot(world)
    session = checked_in(world, make_ready(world))
    statuses = post_at_once(world, [post(session, lot, "200")] * 3)
    assert sorted(statuses) == [302, 409, 409]
    assert Administration.objects.count() == 1
    assert_ledger_matches(lot)
    assert lot.balance_mg == Decimal("1800")


def test_sequential_administrations_from_one_lot_keep_the_ledger_equal_to_receipts_minus_doses(world):
    lot = make_lot(world, quantity="300")
    jordan = checked_in(world, make_ready(world))
    morgan = checked_in(world, make_ready(world, patient=second_patient(world)))
    client = Client()
    client.force_login(world.prescriber.user)
    url, data = post(jordan, lot, "200")
    assert client.post(url, data).status_code == 302
    url, data = post(morgan, lot, "200")
    response = client.post(url, data)
    assert response.status_code == 400 and "more than the stock holds" in response.content.decode()
    assert_ledger_matches(lot)
