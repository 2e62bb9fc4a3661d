from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kapflow.clinics.models import Clinic, Location, Room

TIME_ZONES = sorted(zoneinfo.available_timezones())


class ClinicForm(forms.ModelForm[Clinic]):
    time_zone = forms.TypedChoiceField(label=_("Time zone"), choices=[(z, z) for z in TIME_ZONES])

    class Meta:
        model = Clinic
        fields = [
            "name",
            "time_zone",
            "address",
            "phone",
            "email",
            "crisis_line_text",
            "idle_timeout_minutes",
            "alert_hours_high",
            "alert_hours_moderate",
            "preparation_visits_required",
            "integration_due_days",
            "appointment_notice_hours",
            "reminder_hours",
            "dosing_setup_minutes",
            "turnover_minutes",
            "report_min_group",
            "psychotherapy_notes_shared_with_treating_therapists",
        ]
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "crisis_line_text": forms.Textarea(attrs={"rows": 2}),
        }


class LocationForm(forms.ModelForm[Location]):
    class Meta:
        model = Location
        fields = ["name", "address", "is_active"]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, clinic: Clinic, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.instance.clinic = clinic

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        taken = Location.objects.filter(clinic=self.clinic, name__iexact=name).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(_("This clinic already has a location with that name."))
        return name


class RoomForm(forms.ModelForm[Room]):
    class Meta:
        model = Room
        fields = ["location", "name", "kind", "is_active"]

    def __init__(self, *args: Any, clinic: Clinic, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.instance.clinic = clinic
        self.fields["location"].queryset = Location.objects.filter(clinic=clinic, is_active=True)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        location, name = data.get("location"), str(data.get("name") or "").strip()
        if location and name:
            taken = Room.objects.filter(location=location, name__iexact=name).exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error("name", _("That location already has a room with this name."))
        return data
