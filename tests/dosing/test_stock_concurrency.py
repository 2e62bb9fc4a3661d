"""Two people drawing from the last of a lot at the same moment: the lot's row lock lets one
through at a time, so the balance never goes below zero and the ledger always adds up. The
database constraint refuses a negative balance even if the service's check were bypassed."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connections, transaction
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from kapflow.dosing.models import LedgerEntry, LedgerKind, StockLot
from tests.dosing.helpers import make_lot


def waste_at_once(world, lot: StockLot, wastes: list[tuple[object, object, str]]) -> list[int]:
    """POST each (actor, witness, mg) waste from its own thread, all released together by a
    barrier; the statuses, in the order given."""
    url = reverse("stock:waste", kwargs={"clinic": "demo", "lot_id": lot.public_id})
    barrier = threading.Barrier(len(wastes))
    statuses: list[int] = [0] * len(wastes)
    errors: list[BaseException] = []

    def waste(index: int, actor, witness, mg: str) -> None:
        try:
            client = Client()
            client.force_login(actor.user)
            data = {
                "waste-quantity_mg": mg,
                "waste-witness": str(witness.user_id),
                "waste-reason": f"Waste {index}",
            }
            barrier.wait()
            statuses[index] = client.post(url, data).status_code
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=waste, args=(n, actor, witness, mg))
        for n, (actor, witness, mg) in enumerate(wastes)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return statuses


def assert_ledger_adds_up(lot: StockLot) -> None:
    """The entries sum to the balance; in the order written each balance follows from the one
    before and is never negative; and their times are in that same order."""
    lot.refresh_from_db()
    entries = list(lot.entries.order_by("id"))
    assert entries == list(lot.entries.order_by("at", "id"))
    assert sum((e.quantity_mg for e in entries), Decimal(0)) == lot.balance_mg
    assert lot.entries.aggregate(t=Sum("quantity_mg"))["t"] == lot.balance_mg
    running = Decimal(0)
    for entry in entries:
        running += entry.quantity_mg
        assert entry.balance_after_mg == running >= 0, entry


@pytest.mark.django_db(transaction=True)
def test_two_wastes_of_70_mg_from_100_mg_at_once_let_exactly_one_through(world):
    lot = make_lot(world, quantity="100")

    statuses = waste_at_once(
        world, lot, [(world.prescriber, world.nurse, "70"), (world.nurse, world.prescriber, "70")]
    )

    assert sorted(statuses) == [302, 400]
    lot.refresh_from_db()
    assert lot.balance_mg == Decimal(30)
    assert lot.entries.filter(kind=LedgerKind.WASTE).count() == 1
    assert_ledger_adds_up(lot)


@pytest.mark.django_db(transaction=True)
def test_ten_wastes_of_5_mg_from_40_mg_at_once_let_exactly_eight_through(world):
    lot = make_lot(world, quantity="40")
    pairs = [(world.prescriber, world.nurse), (world.nurse, world.prescriber)]

    statuses = waste_at_once(world, lot, [(*pairs[n % 2], "5") for n in range(10)])

    assert statuses.count(302) == 8 and statuses.count(400) == 2
    lot.refresh_from_db()
    assert lot.balance_mg == Decimal(0)
    assert lot.entries.filter(kind=LedgerKind.WASTE).count() == 8
    assert not LedgerEntry.objects.filter(lot=lot, balance_after_mg__lt=0).exists()
    assert_ledger_adds_up(lot)


def test_the_database_refuses_a_negative_balance_even_without_the_service(world):
    lot = make_lot(world, quantity="100")
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLot.objects.filter(pk=lot.pk).update(balance_mg=-1)
    lot.refresh_from_db()
    assert lot.balance_mg == Decimal(100)
