"""The outcomes downloads: the dashboard's tables as CSV, and the de-identified research export.

Both are for those who may export reports (OUTCOMES_EXPORT: clinic admins, prescribers and
nurses), take the dashboard's period (?start=&end=, local dates, both inclusive), are written
to the access log as exports, and are never cached. A period that does not parse answers the
dashboard page with the form's error (400).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date

from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from kapflow.core import audit
from kapflow.core.access import StaffRequest, staff_view
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.outcomes import dashboard as board
from kapflow.outcomes import exports
from kapflow.outcomes.forms import PeriodForm, period_from


def _bad_period(request: StaffRequest, form: PeriodForm) -> HttpResponseBase:
    return render(request, "outcomes/dashboard.html", {"form": form}, status=400)


def _csv(
    name: str, request: StaffRequest, first: date, last: date, rows: Iterable[list[str]]
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"{name}-{request.clinic.slug}-{first:%Y%m%d}-{last:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    csv.writer(response).writerows(rows)
    return response


@staff_view(Action.OUTCOMES_EXPORT)
@require_GET
def dashboard_csv(request: StaffRequest) -> HttpResponseBase:
    form = period_from(request.GET)
    if not form.is_valid():
        return _bad_period(request, form)
    first, last = form.cleaned_data["start"], form.cleaned_data["end"]
    start, end = form.bounds()
    built = board.build(request.clinic, start, end)
    audit.record(
        user=request.user,
        clinic=request.clinic,
        action=AuditAction.EXPORT,
        category=DataCategory.OUTCOMES,
        detail=f"outcomes dashboard CSV {first:%Y-%m-%d} to {last:%Y-%m-%d}",
    )
    return _csv("outcomes", request, first, last, exports.dashboard_rows(built, first, last))


@staff_view(Action.OUTCOMES_EXPORT)
@require_GET
def research_csv(request: StaffRequest) -> HttpResponseBase:
    form = period_from(request.GET)
    if not form.is_valid():
        return _bad_period(request, form)
    first, last = form.cleaned_data["start"], form.cleaned_data["end"]
    start, end = form.bounds()
    result = exports.research(request.clinic, start, end)
    audit.record(
        user=request.user,
        clinic=request.clinic,
        action=AuditAction.EXPORT,
        category=DataCategory.OUTCOMES,
        detail=(
            f"de-identified research CSV {first:%Y-%m-%d} to {last:%Y-%m-%d}: "
            f"{len(result.rows)} rows, {result.courses} courses"
        ),
    )
    return _csv("research", request, first, last, exports.research_rows(result))
