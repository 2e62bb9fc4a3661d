"""The demo command's dosing data: one discharged session per route, Jordan's session in
progress, a ledger that adds up, an intact access log, and nothing added by a second run."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from kapflow.accounts.models import User
from kapflow.dosing import selectors
from kapflow.dosing.models import (
    AdverseEvent,
    DosingSession,
    LedgerEntry,
    LedgerKind,
    Reading,
    SessionStatus,
    StockCount,
    StockLot,
)
from kapflow.dosing.protocols import parsed
from tests.dosing.helpers import ROUTES


def run_demo() -> None:
    call_command("demo", stdout=StringIO())


def row_counts() -> dict[str, int]:
    """Rows of every model but the edit history (re-saving the clinics adds history rows)."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if not model.__name__.startswith("Historical")
    }


@pytest.mark.django_db
def test_the_demo_holds_a_session_per_route_one_in_progress_and_a_ledger_that_adds_up(client):
    run_demo()

    # The dosing demo's patients (the outcomes demo adds a year of history of its own).
    dosing_demo = DosingSession.objects.filter(patient__record_number__lt="DEMO-0100")
    discharged = dosing_demo.filter(status=SessionStatus.DISCHARGED)
    assert sorted(discharged.values_list("route", flat=True)) == sorted(ROUTES)
    today = timezone.localdate()
    for session in discharged:
        protocol = parsed(session.protocol)
        assert session.first_administered_at is not None and session.discharged_at is not None
        assert timezone.localdate(session.checked_in_at) < today
        observed = session.discharged_at - session.first_administered_at
        assert observed >= timedelta(minutes=protocol.min_observation_minutes)
        given = session.administrations.get()
        assert given.witnessed_by is not None and given.witnessed_by != given.administered_by
        assert given.ledger_entry.at == given.started_at
        # Every check of the protocol was entered on time.
        assert {str(d.state) for d in selectors.session_timeline(session)} == {"done"}
    assert Reading.objects.filter(level="caution").exists()
    assert AdverseEvent.objects.filter(kind="nausea_vomiting", severity="mild").exists()

    running = DosingSession.objects.get(status=SessionStatus.IN_SESSION)
    assert running.patient.record_number == "DEMO-0001"
    assert running.first_administered_at is not None
    assert timedelta(minutes=20) < timezone.now() - running.first_administered_at < timedelta(minutes=40)
    states = {str(d.state) for d in selectors.session_timeline(running)}
    assert {"done", "overdue"} <= states
    assert not DosingSession.objects.filter(status=SessionStatus.CHECKED_IN).exists()

    for lot in StockLot.objects.all():
        total = lot.entries.aggregate(t=Sum("quantity_mg"))["t"]
        assert lot.balance_mg == total, lot.lot_number
        balance = Decimal(0)
        for entry in lot.entries.order_by("at", "id"):  # in time order, each balance follows
            balance += entry.quantity_mg
            assert entry.balance_after_mg == balance, (lot.lot_number, entry.kind)
    assert LedgerEntry.objects.filter(kind=LedgerKind.WASTE, witness__isnull=False).count() == 1
    count = StockCount.objects.get()
    assert count.counted_mg == count.expected_mg

    # The nurse and the prescriber, on every demo patient's care team, open every session.
    for email in ("nurse@demo.kapflow.test", "prescriber@demo.kapflow.test"):
        client.force_login(User.objects.get(email=email))
        for session in dosing_demo:
            url = reverse("dosing:session", kwargs={"clinic": "demo", "session_id": session.public_id})
            assert client.get(url).status_code == 200, (email, session.route)

    call_command("audit_verify", stdout=StringIO())


@pytest.mark.django_db
def test_a_second_run_adds_nothing():
    run_demo()
    before = row_counts()
    run_demo()
    assert row_counts() == before
