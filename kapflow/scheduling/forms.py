"""Forms of booking, moving and cancelling appointments, and of the clinic's hours."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kapflow.accounts.models import Membership
from kapflow.clinics.models import Clinic, Room
from kapflow.patients.models import Patient
from kapflow.scheduling.calendar_selectors import EARLIEST, LATEST
from kapflow.scheduling.models import AppointmentType, Kind, Weekday

OUT_OF_RANGE = _("Choose a date between 2000 and 2999.")


def in_range(day: date) -> bool:
    """Within the years the calendars show (and far from the ends of Python's dates, which a
    time zone or a week's margin would overflow)."""
    return EARLIEST <= day <= LATEST


def staff_choices(clinic: Clinic) -> list[tuple[int, str]]:
    members = (
        Membership.objects.filter(clinic=clinic, is_active=True)
        .select_related("user")
        .order_by("role", "user__full_name")
    )
    return [(m.user_id, f"{m.user.full_name} ({m.get_role_display()})") for m in members]


class SlotForm(forms.Form):
    """Where and when, and who attends: shared by booking and moving."""

    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(label=_("Start time"), widget=forms.TimeInput(attrs={"type": "time"}))
    room = forms.ModelChoiceField(
        label=_("Room"), queryset=Room.objects.none(), required=False, empty_label=_("— no room —")
    )
    staff = forms.TypedMultipleChoiceField(
        label=_("Who attends"), coerce=int, widget=forms.CheckboxSelectMultiple, required=False
    )

    def __init__(self, *args: Any, clinic: Clinic, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.fields["room"].queryset = Room.objects.filter(clinic=clinic, is_active=True)  # type: ignore[attr-defined]
        self.fields["staff"].choices = staff_choices(clinic)  # type: ignore[attr-defined]

    def clean_day(self) -> date:
        day: date = self.cleaned_data["day"]
        if not in_range(day):
            raise forms.ValidationError(OUT_OF_RANGE)
        return day

    def starts_at(self) -> datetime:
        """The local date and time as an aware moment (a time skipped by a clock change moves on)."""
        local = datetime.combine(self.cleaned_data["day"], self.cleaned_data["time"])
        return timezone.make_aware(local)


class BookForm(SlotForm):
    patient = forms.ModelChoiceField(label=_("Patient"), queryset=Patient.objects.none())
    kind = forms.ChoiceField(label=_("Kind of appointment"), choices=Kind.choices)
    field_order = ["patient", "kind", "day", "time", "room", "staff"]

    def __init__(self, *args: Any, clinic: Clinic, **kwargs: Any) -> None:
        super().__init__(*args, clinic=clinic, **kwargs)
        self.fields["patient"].queryset = Patient.objects.filter(clinic=clinic).order_by(  # type: ignore[attr-defined]
            "legal_family_name", "legal_given_name"
        )
        self.fields["patient"].label_from_instance = lambda p: f"{p.display_name} · {p.record_number}"  # type: ignore[attr-defined]


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class AppointmentTypeForm(forms.ModelForm):
    class Meta:
        model = AppointmentType
        fields = ["duration_minutes", "needs_therapist", "needs_medical", "instructions"]
        widgets = {"instructions": forms.Textarea(attrs={"rows": 3})}


class HoursForm(forms.Form):
    """Opening (or working) hours: one optional from-until pair per weekday."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day in Weekday:
            self.fields[f"d{day.value}_from"] = forms.TimeField(
                label=_("%(day)s from") % {"day": day.label},
                required=False,
                widget=forms.TimeInput(attrs={"type": "time"}),
            )
            self.fields[f"d{day.value}_until"] = forms.TimeField(
                label=_("until"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for day in Weekday:
            start, end = data.get(f"d{day.value}_from"), data.get(f"d{day.value}_until")
            if (start is None) != (end is None):
                self.add_error(f"d{day.value}_until", _("Give both times, or neither for a closed day."))
            elif start is not None and end is not None and end <= start:
                self.add_error(f"d{day.value}_until", _("The end must be after the start."))
        return data

    def rows(self) -> list[tuple[Any, forms.BoundField, forms.BoundField]]:
        return [(day.label, self[f"d{day.value}_from"], self[f"d{day.value}_until"]) for day in Weekday]

    def spans(self) -> dict[int, tuple[Any, Any]]:
        return {
            day.value: (self.cleaned_data[f"d{day.value}_from"], self.cleaned_data[f"d{day.value}_until"])
            for day in Weekday
            if self.cleaned_data.get(f"d{day.value}_from") is not None
        }


class ClosureForm(forms.Form):
    starts_at = forms.DateTimeField(
        label=_("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=_("Until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    room = forms.ModelChoiceField(
        label=_("Room (leave empty when the whole clinic is closed)"),
        queryset=Room.objects.none(),
        required=False,
    )
    user = forms.TypedChoiceField(
        label=_("Staff member away (leave empty for a clinic closure or a room)"),
        coerce=int,
        required=False,
        empty_value=None,
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args: Any, clinic: Clinic, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = Room.objects.filter(clinic=clinic)  # type: ignore[attr-defined]
        self.fields["user"].choices = [("", "—"), *staff_choices(clinic)]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("starts_at"), data.get("ends_at")
        for name, value in (("starts_at", start), ("ends_at", end)):
            if value is not None and not in_range(value.date()):
                self.add_error(name, OUT_OF_RANGE)
        if start and end and end <= start:
            self.add_error("ends_at", _("The end must be after the start."))
        if data.get("room") is not None and data.get("user") is not None:
            self.add_error("user", _("Choose a room or a staff member, not both."))
        return data


class PlanForm(forms.Form):
    """The series planner's choices: from when, in which dosing room, with whom."""

    start_day = forms.DateField(label=_("Plan from"), widget=forms.DateInput(attrs={"type": "date"}))
    room = forms.ModelChoiceField(
        label=_("Dosing room"), queryset=Room.objects.none(), required=False, empty_label=_("— no room —")
    )
    therapist = forms.TypedChoiceField(label=_("Therapist"), coerce=int)
    medical = forms.TypedChoiceField(label=_("Prescriber or nurse (dosing sessions)"), coerce=int)

    def clean_start_day(self) -> date:
        day: date = self.cleaned_data["start_day"]
        if not in_range(day):
            raise forms.ValidationError(OUT_OF_RANGE)
        return day

    def __init__(
        self, *args: Any, clinic: Clinic, therapists: list[Any], medical: list[Any], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = Room.objects.filter(clinic=clinic, is_active=True)  # type: ignore[attr-defined]
        self.fields["therapist"].choices = [(u.pk, u.full_name) for u in therapists]  # type: ignore[attr-defined]
        self.fields["medical"].choices = [(u.pk, u.full_name) for u in medical]  # type: ignore[attr-defined]
