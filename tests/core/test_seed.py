"""The synthetic network generator (``kapflow seed``): a network the benchmarks can trust."""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, JSONField, Sum

from kapflow.accounts.models import Membership
from kapflow.clinics.models import Clinic
from kapflow.core.models import AccessLogEntry
from kapflow.core.seed import ORDER, SeedRefused, generate, grow
from kapflow.courses.models import ClinicalNote, TreatmentCourse
from kapflow.dosing.models import Administration, DosingSession, LedgerEntry, Reading, StockLot
from kapflow.measures.models import MeasureResponse
from kapflow.patients.models import Patient
from kapflow.scheduling.models import Appointment

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 18, 30, tzinfo=UTC)


def fingerprint() -> list[tuple[object, ...]]:
    """What two runs must agree on: every patient, course, session, dose and score."""
    return [
        *Patient.objects.order_by("record_number").values_list(
            "public_id", "record_number", "legal_family_name", "date_of_birth", "created_at"
        ),
        *TreatmentCourse.objects.order_by("public_id").values_list(
            "public_id", "route", "status", "ended_on"
        ),
        *DosingSession.objects.order_by("public_id").values_list(
            "public_id", "number", "status", "checked_in_at"
        ),
        *Administration.objects.order_by("public_id").values_list("public_id", "dose_mg", "lot__lot_number"),
        *MeasureResponse.objects.order_by("public_id").values_list("public_id", "total", "answered_at"),
    ]


def network(seed: int) -> list[tuple[object, ...]]:
    """Generate, read the fingerprint, and roll the network back."""
    with transaction.atomic():
        generate(clinics=2, patients=40, seed=seed, now=NOW)
        made = fingerprint()
        transaction.set_rollback(True)
    return made


def test_the_same_seed_on_the_same_day_gives_the_same_network() -> None:
    first = network(7)
    assert first
    assert network(7) == first
    assert network(8) != first


def test_the_network_covers_the_whole_pathway() -> None:
    summary = generate(clinics=2, patients=120, seed=1, now=NOW)
    assert summary.clinics == 2
    assert summary.patients == Patient.objects.count() == 120
    assert Clinic.objects.filter(slug__startswith="network-").count() == 2
    roles = Counter(Membership.objects.values_list("role", flat=True))
    assert set(roles) == {"clinic_admin", "front_desk", "therapist", "prescriber", "nurse"}
    statuses = set(TreatmentCourse.objects.values_list("status", flat=True))
    assert {"planned", "active", "completed"} <= statuses
    untreated = Patient.objects.annotate(n=Count("courses")).filter(n=0).count()
    assert untreated > 0, "new, screening and not-eligible patients have no course"
    treated = DosingSession.objects.values("patient").distinct().count()
    per_patient = DosingSession.objects.count() / treated
    assert 5 <= per_patient <= 11, f"about 8 dosing sessions per treated patient, not {per_patient:.1f}"
    assert Reading.objects.filter(kind="vitals").exists() and Reading.objects.filter(kind="moaas").exists()
    assert ClinicalNote.objects.filter(template="integration", status="signed").exists()
    assert summary.rows > 50 * 120


def test_every_generated_row_is_one_the_forms_would_accept() -> None:
    """Choices, lengths, ranges: a seeded row must look like one kapflow itself wrote."""
    generate(clinics=1, patients=60, seed=2, now=NOW)
    for model in ORDER:
        if model._meta.auto_created:
            continue
        rows = list(model._default_manager.all()[:20])
        assert rows, f"no {model.__name__} rows"
        for row in rows:
            # The services write an empty list where there is nothing to say (no findings, no flags).
            empty = [
                f.name
                for f in model._meta.fields
                if isinstance(f, JSONField) and getattr(row, f.attname) == []
            ]
            try:
                row.full_clean(exclude=empty, validate_unique=False, validate_constraints=False)
            except ValidationError as exc:
                pytest.fail(f"{model.__name__} {row.pk}: {exc.message_dict}")


def test_each_clinic_has_sessions_in_progress_now_with_readings() -> None:
    generate(clinics=2, patients=200, seed=3, now=NOW)
    for clinic in Clinic.objects.filter(slug__startswith="network-"):
        live = DosingSession.objects.filter(clinic=clinic, status="in_session")
        assert live.count() == 3
        for session in live:
            assert session.checked_in_at < NOW
            assert session.readings.filter(taken_at__lte=NOW).exists()
            assert not session.readings.filter(taken_at__gt=NOW).exists()
            assert session.appointment.status == "checked_in"


def test_no_room_is_booked_twice_and_nothing_past_is_still_booked() -> None:
    generate(clinics=1, patients=150, seed=4, now=NOW)
    rooms = Appointment.objects.filter(room__isnull=False).values("room", "starts_at").annotate(n=Count("id"))
    assert not rooms.filter(n__gt=1).exists()
    assert not Appointment.objects.filter(status="booked", ends_at__lt=NOW).exists()
    assert not DosingSession.objects.filter(status="discharged", discharged_at__gt=NOW).exists()


def test_every_lot_balance_is_receipts_less_doses_and_the_ledger_runs_in_order() -> None:
    generate(clinics=1, patients=150, seed=5, now=NOW)
    assert StockLot.objects.exists()
    for lot in StockLot.objects.all():
        moved = LedgerEntry.objects.filter(lot=lot).aggregate(total=Sum("quantity_mg"))["total"]
        assert lot.balance_mg == moved.quantize(Decimal("0.01")) >= 0  # SQLite sums decimals as floats
        balance = Decimal(0)
        for entry in LedgerEntry.objects.filter(lot=lot).order_by("at", "id"):
            balance += entry.quantity_mg
            assert entry.balance_after_mg == balance
    assert Administration.objects.count() == LedgerEntry.objects.filter(kind="administration").count()


def test_grow_adds_patients_with_their_history_to_a_network_clinic() -> None:
    generate(clinics=1, patients=20, seed=6, now=NOW)
    clinic = Clinic.objects.get(slug="network-01")
    before = DosingSession.objects.count()
    grow(clinic=clinic, patients=60, seed=9, now=NOW)
    assert Patient.objects.filter(clinic=clinic).count() == 80
    assert Patient.objects.values("record_number").distinct().count() == 80
    assert DosingSession.objects.count() > before
    assert DosingSession.objects.filter(status="in_session").count() <= 3, (
        "only the first run has live sessions"
    )


def test_a_second_network_in_the_same_database_is_refused() -> None:
    generate(clinics=1, patients=5, seed=1, now=NOW)
    with pytest.raises(SeedRefused):
        generate(clinics=1, patients=5, seed=1, now=NOW)
    with pytest.raises(SeedRefused):
        generate(clinics=0, patients=5, seed=1, now=NOW)


def test_the_command_prints_what_it_made_and_refuses_plainly() -> None:
    out = io.StringIO()
    call_command("seed", clinics=1, patients=10, seed=2, quiet=True, stdout=out)
    assert "Seeded 1 clinics, 10 patients" in out.getvalue()
    assert "patients.Patient" in out.getvalue()
    assert not AccessLogEntry.objects.exists(), "seeding reads no one's record"
    with pytest.raises(CommandError, match="already has a seeded network"):
        call_command("seed", clinics=1, patients=10, quiet=True, stdout=io.StringIO())


def test_seeding_is_refused_in_production(settings: object) -> None:
    settings.PRODUCTION = True  # type: ignore[attr-defined]
    with pytest.raises(CommandError, match="refused in production"):
        call_command("seed", clinics=1, patients=10, quiet=True)
    assert not Patient.objects.exists()
