"""Forms of the dosing session page. Each has a prefix, so several live on one page with
distinct ids; times are typed as the clinic's local time of day (blank means now)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kapflow.accounts.models import Membership
from kapflow.clinics.models import Clinic, Room
from kapflow.core.roles import MEDICAL_ROLES
from kapflow.dosing import stock
from kapflow.dosing.discharge import ITEM_LABELS
from kapflow.dosing.models import EventKind, EventOutcome, PregnancyTest, Severity, StockLot
from kapflow.dosing.protocol import CONFIRMED_ITEMS, PHYSIOLOGICAL

TIME_HELP = _("The clinic's local time; leave blank for now.")


def at_local(value: time | None, *, near: datetime | None = None) -> datetime | None:
    """``value`` as a time of day in the clinic's time zone, on the day that puts it nearest to
    ``near`` (default: now). Typed at 00:10, "23:50" is twenty minutes ago, not tonight; an
    infusion started at 23:45 ends at "00:25" the next day. In the hour repeated when summer
    time ends, the nearer of the two is meant too. None stays None (the service reads: now)."""
    if value is None:
        return None
    near = near or timezone.now()
    zone = timezone.get_current_timezone()
    day = timezone.localdate(near)
    wall = value.replace(second=0, microsecond=0, tzinfo=None)
    candidates = [
        datetime.combine(day + timedelta(days=shift), wall, zone).replace(fold=fold).astimezone(UTC)
        for shift in (-1, 0, 1)
        for fold in (0, 1)
    ]
    return min(candidates, key=lambda at: abs(at - near))  # a tie goes to the earlier


def _time_field(label: Any, required: bool = False) -> forms.TimeField:
    return forms.TimeField(
        label=label, required=required, help_text=TIME_HELP, widget=forms.TimeInput(attrs={"type": "time"})
    )


def _vital(label: Any, key: str, required: bool = False) -> forms.IntegerField:
    low, high = PHYSIOLOGICAL[key]
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=low,
        max_value=high,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class CheckInForm(forms.Form):
    room = forms.ModelChoiceField(
        label=_("Room"), queryset=Room.objects.none(), required=False, empty_label=_("— no room yet —")
    )

    def __init__(self, *args: Any, clinic: Clinic, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = Room.objects.filter(clinic=clinic, is_active=True)  # type: ignore[attr-defined]


class PredoseForm(forms.Form):
    prefix = "predose"
    weight_kg = forms.DecimalField(
        label=_("Weight today (kg)"),
        required=False,
        min_value=20,
        max_value=350,
        max_digits=5,
        decimal_places=1,
        help_text=_("Needed for a dose per kilogram when the last weight is too old."),
    )
    fasting_confirmed = forms.BooleanField(label=_("Fasting confirmed"), required=False)
    escort_confirmed = forms.BooleanField(label=_("Escort home confirmed"), required=False)
    escort_name = forms.CharField(label=_("Escort's name"), required=False, max_length=200)
    intentions_reviewed = forms.BooleanField(label=_("Intentions reviewed with the patient"), required=False)
    pregnancy_test = forms.ChoiceField(label=_("Pregnancy test"), choices=PregnancyTest.choices)
    concomitant_medications = forms.CharField(
        label=_("Concomitant medications (sedatives, stimulants, MAOIs, others taken today)"),
        required=False,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class VitalsForm(forms.Form):
    prefix = "vitals"
    systolic = _vital(_("Systolic (mmHg)"), "systolic", required=True)
    diastolic = _vital(_("Diastolic (mmHg)"), "diastolic", required=True)
    heart_rate = _vital(_("Heart rate (/min)"), "heart_rate")
    spo2 = _vital(_("SpO2 (%)"), "spo2")
    respiratory_rate = _vital(_("Respiratory rate (/min)"), "respiratory_rate")
    taken_at = _time_field(_("Time"))


class MoaasForm(forms.Form):
    prefix = "moaas"
    moaas = forms.TypedChoiceField(
        label=_("MOAA/S"),
        coerce=int,
        choices=[
            (5, _("5 · responds readily to name spoken in normal tone")),
            (4, _("4 · lethargic response to name spoken in normal tone")),
            (3, _("3 · responds only after name is called loudly or repeatedly")),
            (2, _("2 · responds only after mild prodding or shaking")),
            (1, _("1 · responds only after painful trapezius squeeze")),
            (0, _("0 · no response after painful trapezius squeeze")),
        ],
        widget=forms.RadioSelect,
    )
    taken_at = _time_field(_("Time"))


class DissociationForm(forms.Form):
    prefix = "dissociation"
    score = forms.IntegerField(label=_("Dissociation score"), min_value=0, max_value=1000)
    taken_at = _time_field(_("Time"))


class ObservationForm(forms.Form):
    prefix = "observation"
    note = forms.CharField(label=_("Observation"), max_length=3000, widget=forms.Textarea(attrs={"rows": 2}))
    taken_at = _time_field(_("Time"))


READING_FORMS: dict[str, type[forms.Form]] = {
    "vitals": VitalsForm,
    "moaas": MoaasForm,
    "dissociation": DissociationForm,
    "observation": ObservationForm,
}


def _witness_choices(clinic: Clinic, exclude_user_id: int) -> list[tuple[str, Any]]:
    members = (
        Membership.objects.filter(clinic=clinic, is_active=True, role__in=[str(r) for r in MEDICAL_ROLES])
        .exclude(user_id=exclude_user_id)
        .select_related("user")
    )
    return [("", _("— no witness —"))] + [
        (str(m.user_id), f"{m.user.full_name} ({m.get_role_display()})") for m in members
    ]


class AdministrationForm(forms.Form):
    prefix = "dose"
    dose_mg = forms.DecimalField(
        label=_("Dose (mg)"),
        min_value=0,
        max_digits=7,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    lot = forms.ModelChoiceField(
        label=_("Lot number"),
        queryset=StockLot.objects.none(),
        empty_label=_("— choose the lot —"),
        error_messages={
            "invalid_choice": _(
                "That lot cannot be used: it has expired, is empty, or is not this clinic's. "
                "Choose one of the lots listed."
            )
        },
    )
    started_at = _time_field(_("Given at (start)"))
    ended_at = _time_field(_("Infusion ended at (IV)"))
    witness = forms.TypedChoiceField(label=_("Witness"), coerce=int, required=False, empty_value=None)
    override_reason = forms.CharField(
        label=_("Reason for a dose outside the protocol (only where the protocol allows it)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, clinic: Clinic, user_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lot"].queryset = stock.usable_lots(clinic.pk)  # type: ignore[attr-defined]
        self.fields["lot"].label_from_instance = lambda lot: (  # type: ignore[attr-defined]
            f"{lot.lot_number} · {lot.form} · {lot.balance_mg} mg left · expires {lot.expires_on:%Y-%m-%d}"
        )
        self.fields["witness"].choices = _witness_choices(clinic, user_id)  # type: ignore[attr-defined]


class OverrideForm(forms.Form):
    prefix = "override"
    check = forms.CharField(widget=forms.HiddenInput, max_length=20)
    reason = forms.CharField(
        label=_("Reason for proceeding"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class EventForm(forms.Form):
    prefix = "event"
    kind = forms.ChoiceField(label=_("Type"), choices=EventKind.choices)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    serious = forms.BooleanField(
        label=_("Serious (notifies the prescribers on the care team)"), required=False
    )
    occurred_at = _time_field(_("Time"))
    description = forms.CharField(
        label=_("Description"), required=False, max_length=3000, widget=forms.Textarea(attrs={"rows": 2})
    )
    intervention = forms.CharField(
        label=_("Intervention"), required=False, max_length=3000, widget=forms.Textarea(attrs={"rows": 2})
    )
    outcome = forms.ChoiceField(label=_("Outcome"), choices=EventOutcome.choices)


class DischargeForm(forms.Form):
    prefix = "discharge"
    confirmed = forms.MultipleChoiceField(
        label=_("Confirmed by you"),
        required=False,
        choices=[(str(item), ITEM_LABELS[item]) for item in CONFIRMED_ITEMS],
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(
        label=_("Discharge note"), required=False, max_length=3000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CancelForm(forms.Form):
    prefix = "cancel"
    reason = forms.CharField(
        label=_("Why is the session cancelled?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class AddendumForm(forms.Form):
    prefix = "addendum"
    text = forms.CharField(label=_("Addendum"), max_length=10000, widget=forms.Textarea(attrs={"rows": 3}))
