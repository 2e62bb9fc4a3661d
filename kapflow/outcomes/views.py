"""The clinic dashboard: outcomes and safety figures over a chosen period (clinic admins and
medical staff), computed in the database and shown as tables; the same tables download as CSV."""

from __future__ import annotations

from django.http import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from kapflow.core import audit
from kapflow.core.access import StaffRequest, allowed, staff_view
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.outcomes import dashboard as board
from kapflow.outcomes.forms import period_from


@staff_view(Action.OUTCOMES_VIEW)
@require_GET
def dashboard(request: StaffRequest) -> HttpResponseBase:
    form = period_from(request.GET)
    if not form.is_valid():
        return render(request, "outcomes/dashboard.html", {"form": form}, status=400)
    start, end = form.bounds()
    built = board.build(request.clinic, start, end)
    audit.record(
        user=request.user,
        clinic=request.clinic,
        action=AuditAction.VIEW,
        category=DataCategory.OUTCOMES,
        detail=f"outcomes dashboard {form.cleaned_data['start']} to {form.cleaned_data['end']}",
    )
    context = {
        "form": form,
        "board": built,
        "query": request.GET.urlencode()
        or f"start={form.cleaned_data['start']}&end={form.cleaned_data['end']}",
        "can_export": allowed(request.membership, Action.OUTCOMES_EXPORT),
    }
    return render(request, "outcomes/dashboard.html", context)
