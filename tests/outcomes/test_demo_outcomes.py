"""The demo's year of history (kapflow.outcomes.demo): over the dashboard's default period
every figure has a value, the history is what the issue asks for (completed six-session
courses on every route, mixed outcomes, one course without a baseline, late and missed
questionnaires and integration visits), the ledger adds up, and a second run adds nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO
from itertools import pairwise

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Count, Q, Sum
from django.utils import timezone

from kapflow.clinics.models import Clinic
from kapflow.courses.models import CourseStatus, TreatmentCourse
from kapflow.dosing import dose as dose_rules
from kapflow.dosing import selectors
from kapflow.dosing.models import AdverseEvent, DosingSession, Reading, SessionStatus, StockLot
from kapflow.dosing.protocols import parsed
from kapflow.measures.models import MeasureRequest, MeasureResponse, RequestStatus
from kapflow.outcomes import dashboard
from kapflow.outcomes.demo import COURSES
from kapflow.outcomes.forms import PeriodForm, default_period
from tests.dosing.helpers import ROUTES

HISTORY = [c.record_number for c in COURSES]


def run_demo() -> None:
    call_command("demo", stdout=StringIO())


def default_board(clinic: Clinic) -> dashboard.Dashboard:
    with timezone.override(clinic.tzinfo):
        form = PeriodForm(default_period())
        assert form.is_valid(), form.errors
        start, end = form.bounds()
        return dashboard.build(clinic, start, end)


def row_counts() -> dict[str, int]:
    """Rows of every model but the edit history (re-saving the clinics adds history rows)."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if not model.__name__.startswith("Historical")
    }


@pytest.mark.django_db
def test_every_figure_of_the_default_period_has_a_value():
    run_demo()
    demo = Clinic.objects.get(slug="demo")
    assert demo.report_min_group == 3
    board = default_board(demo)

    assert board.headline["response"].reportable and board.headline["remission"].reportable
    assert board.headline["without_baseline"] == 1
    for table in board.tables:
        assert table.rows, table.key
        for row in table.rows:
            assert dashboard.TOO_FEW not in row, (table.key, row)
    outcomes = board.table("outcomes")
    assert {row[0] for row in outcomes.rows} == {"All courses", *ROUTES}
    assert {row[0] for row in board.table("discharge").rows} == set(ROUTES)
    assert {row[0] for row in board.table("by_sessions").rows} >= {"1-2", "5-6"}
    assert len(board.table("by_dose").rows) >= 3
    events = {row[0]: row[1] for row in board.table("events").rows}
    assert events["Serious (any type)"] == 1
    assert sum(1 for kind, n in events.items() if n and kind != "Serious (any type)") >= 5
    [(_sessions, caution, hard_stop)] = board.table("bp").rows
    assert caution >= 3 and hard_stop >= 1
    [(discharged, on_time, _rate)] = board.table("integration").rows
    assert discharged // 2 < on_time < discharged  # most integration visits in time, not all
    [(due, completed, answered_in_time, _rate)] = board.table("measures").rows
    assert answered_in_time < completed < due  # some late, some missed


@pytest.mark.django_db
def test_the_history_holds_completed_courses_with_mixed_outcomes_and_a_ledger_that_adds_up():
    run_demo()
    courses = TreatmentCourse.objects.filter(patient__record_number__in=HISTORY)
    assert courses.count() == len(COURSES) >= 15
    assert set(courses.values_list("status", flat=True)) == {CourseStatus.COMPLETED}
    per_route = dict(courses.values_list("route").annotate(n=Count("pk")))
    assert set(per_route) == set(ROUTES) and min(per_route.values()) >= 3
    today = timezone.localdate()
    year_ago = timezone.now() - timedelta(days=364)
    for course in courses:
        assert course.ended_on is not None and course.ended_on < today
        sessions = list(course.dosing_sessions.order_by("number"))
        assert [s.number for s in sessions] == [1, 2, 3, 4, 5, 6]
        assert {s.status for s in sessions} == {SessionStatus.DISCHARGED}
        days = [timezone.localdate(s.checked_in_at, course.clinic.tzinfo) for s in sessions]
        assert all(later - earlier == timedelta(days=7) for earlier, later in pairwise(days))  # weekly
        assert sessions[0].first_administered_at is not None and sessions[0].first_administered_at > year_ago

    history = DosingSession.objects.filter(patient__record_number__in=HISTORY)
    for session in history.select_related("protocol"):
        protocol = parsed(session.protocol)
        assert session.discharged_at is not None and session.first_administered_at is not None
        observed = session.discharged_at - session.first_administered_at
        assert observed >= timedelta(minutes=protocol.min_observation_minutes)
        assert all(item["met"] for item in session.discharge_checklist)
        assert {str(d.state) for d in selectors.session_timeline(session)} == {"done"}
        given = session.administrations.get()
        assert given.mg_per_kg is not None and given.witnessed_by_id != given.administered_by_id
        check = dose_rules.check_dose(
            protocol,
            dose_rules.DoseFacts(
                dose_mg=given.dose_mg,
                weight_kg=given.weight_kg if protocol.per_kg else None,
                given_mg=Decimal(0),
                booster=False,
                override_reason="",
            ),
        )
        assert check.allowed and not check.needs_override, (session.patient.record_number, check.problems)
    assert Reading.objects.filter(session__in=history, level="caution").exists()
    assert Reading.objects.filter(session__in=history, level="hard_stop").exists()
    events = AdverseEvent.objects.filter(session__in=history)
    assert events.values("kind").distinct().count() >= 5 and events.filter(serious=True).count() == 1

    # PHQ-9: a baseline before the first session (above 9 for all but one course), then
    # scores: some courses respond (a drop of half or more), some remit (below 5), some neither.
    no_baseline = responders = remitters = neither = 0
    for course in courses:
        first = course.dosing_sessions.order_by("number").first()
        assert first is not None and first.first_administered_at is not None
        phq = MeasureResponse.objects.filter(patient=course.patient, instrument_key="phq9")
        base = phq.filter(answered_at__lt=first.first_administered_at).order_by("-answered_at").first()
        latest = phq.filter(answered_at__gte=first.first_administered_at).order_by("-answered_at").first()
        assert latest is not None and latest.total is not None
        if base is None:
            no_baseline += 1
            continue
        assert base.total is not None
        responded = latest.total * 2 <= base.total and base.total > 9
        responders += responded
        remitters += latest.total < 5
        neither += not responded and latest.total >= 5
    assert no_baseline == 1 and responders >= 3 and remitters >= 3 and neither >= 3
    requests = MeasureRequest.objects.filter(patient__record_number__in=HISTORY)
    assert requests.filter(status=RequestStatus.MISSED, responses__isnull=True).exists()
    answered = requests.filter(status=RequestStatus.COMPLETED)
    assert answered.count() == MeasureResponse.objects.filter(request__in=requests).count()
    late = [
        r
        for r in answered.prefetch_related("responses")
        if r.responses.get().answered_at > r.due_at + timedelta(days=7)
    ]
    assert 0 < len(late) < answered.count() // 4

    # The ledger: every lot's balance is the sum of its entries, each entry's balance follows.
    for lot in StockLot.objects.all():
        assert lot.balance_mg == lot.entries.aggregate(t=Sum("quantity_mg"))["t"], lot.lot_number
        balance = Decimal(0)
        for entry in lot.entries.order_by("at", "id"):
            balance += entry.quantity_mg
            assert entry.balance_after_mg == balance, (lot.lot_number, entry.kind)
    historical = StockLot.objects.filter(administrations__session__in=history).distinct()
    assert historical.count() >= 2
    assert not historical.filter(~Q(balance_mg=0)).exists()  # used up: never offered for a dose today


@pytest.mark.django_db
def test_a_second_run_adds_nothing_and_the_access_log_holds():
    run_demo()
    before = row_counts()
    run_demo()
    assert row_counts() == before
    call_command("audit_verify", stdout=StringIO())
