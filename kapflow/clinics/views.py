"""Clinic settings for the clinic admin: details, time zone, locations and rooms."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.forms import ModelForm
from django.http import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kapflow.clinics.forms import ClinicForm, LocationForm, RoomForm
from kapflow.clinics.models import Clinic, Location, Room
from kapflow.core import audit
from kapflow.core.access import StaffRequest, staff_view
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action


def _save_audited(request: StaffRequest, form: ModelForm[Any], what: str) -> None:
    creating = form.instance.pk is None
    with transaction.atomic():
        saved = form.save()
        audit.record(
            user=request.user,
            clinic=request.clinic,
            action=AuditAction.CREATE if creating else AuditAction.UPDATE,
            category=DataCategory.CLINIC,
            detail=f"{what} {saved.pk}: " + ", ".join(form.changed_data),
        )


@staff_view(Action.CLINIC_CONFIGURE)
@require_http_methods(["GET", "POST"])
def clinic_settings(request: StaffRequest) -> HttpResponseBase:
    form = ClinicForm(request.POST or None, instance=Clinic.objects.get(pk=request.clinic.pk))
    if request.method == "POST" and form.is_valid():
        _save_audited(request, form, "clinic")
        messages.success(request, _("Clinic settings saved."))
        return redirect("clinics:settings", clinic=request.clinic.slug)
    context = {
        "form": form,
        "locations": Location.objects.filter(clinic=request.clinic).prefetch_related("rooms"),
    }
    return render(request, "clinics/settings.html", context, status=400 if form.errors else 200)


@staff_view(Action.CLINIC_CONFIGURE)
@require_http_methods(["GET", "POST"])
def location_form(request: StaffRequest, location_id: int | None = None) -> HttpResponseBase:
    location = get_object_or_404(Location, pk=location_id, clinic=request.clinic) if location_id else None
    form = LocationForm(request.POST or None, instance=location, clinic=request.clinic)
    if request.method == "POST" and form.is_valid():
        _save_audited(request, form, "location")
        messages.success(request, _("Location saved."))
        return redirect("clinics:settings", clinic=request.clinic.slug)
    return render(
        request,
        "clinics/location_form.html",
        {"form": form, "location": location},
        status=400 if form.errors else 200,
    )


@staff_view(Action.CLINIC_CONFIGURE)
@require_http_methods(["GET", "POST"])
def room_form(request: StaffRequest, room_id: int | None = None) -> HttpResponseBase:
    room = get_object_or_404(Room, pk=room_id, clinic=request.clinic) if room_id else None
    form = RoomForm(request.POST or None, instance=room, clinic=request.clinic)
    if request.method == "POST" and form.is_valid():
        _save_audited(request, form, "room")
        messages.success(request, _("Room saved."))
        return redirect("clinics:settings", clinic=request.clinic.slug)
    return render(
        request,
        "clinics/room_form.html",
        {"form": form, "room": room},
        status=400 if form.errors else 200,
    )
