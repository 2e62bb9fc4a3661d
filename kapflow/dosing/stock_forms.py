"""Forms of the controlled-substance ledger pages. They check the shape of what was typed;
the ledger's rules (quantities, expiry, witnesses, balances) are the services' in stock.py."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kapflow.accounts.models import Membership
from kapflow.core.roles import MEDICAL_ROLES

# Report dates outside these bounds could not be turned into times (and mean a typing slip).
EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date(9998, 12, 31)


def _mg(label: Any, help_text: Any = "") -> forms.DecimalField:
    # No min/max here: the service refuses out-of-range quantities with its own message.
    return forms.DecimalField(
        label=label,
        help_text=help_text,
        decimal_places=2,
        error_messages={
            "required": _("Enter the quantity in mg."),
            "invalid": _("Enter the quantity in mg as a number, for example 250 or 12.5."),
            "max_decimal_places": _("Enter the quantity in mg with at most 2 decimal places."),
        },
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )


class WitnessField(forms.TypedChoiceField):
    """A list of the clinic's other prescribers and nurses. Any person's id is accepted here:
    the service decides who may witness (not yourself, an active medical professional) and
    says so in words."""

    def valid_value(self, value: Any) -> bool:
        return True


def witness_choices(member: Membership) -> list[tuple[Any, Any]]:
    others = (
        Membership.objects.filter(
            clinic=member.clinic, is_active=True, role__in=[str(r) for r in MEDICAL_ROLES]
        )
        .exclude(user_id=member.user_id)
        .select_related("user")
        .order_by("user__full_name")
    )
    return [
        ("", _("Choose the witness")),
        *((m.user_id, f"{m.user.full_name} ({m.get_role_display()})") for m in others),
    ]


def _witness(*, required: bool, help_text: Any = "") -> WitnessField:
    return WitnessField(
        label=_("Witness"),
        coerce=int,
        empty_value=None,
        required=required,
        help_text=help_text,
        error_messages={
            "required": _("A witness is required."),
            "invalid_choice": _("Choose the witness from the list."),
        },
    )


class ReceiveForm(forms.Form):
    lot_number = forms.CharField(
        label=_("Lot number"),
        max_length=60,
        error_messages={"required": _("Enter the lot number printed on the package.")},
    )
    form = forms.CharField(
        label=_("Form and strength"),
        max_length=120,
        help_text=_("For example: 100 mg troche, or 50 mg/mL injection, 10 mL vial."),
        error_messages={"required": _("Describe the form and strength (for example: 100 mg troche).")},
    )
    quantity_mg = _mg(_("Quantity received (mg)"), _("The total amount of ketamine in the lot, in mg."))
    expires_on = forms.DateField(
        label=_("Expiry date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": _("Enter the expiry date printed on the package."),
            "invalid": _("Enter the expiry date as YYYY-MM-DD."),
        },
    )
    supplier = forms.CharField(label=_("Supplier"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "receive")
        super().__init__(*args, **kwargs)


class WasteForm(forms.Form):
    quantity_mg = _mg(_("Quantity wasted (mg)"))
    witness = _witness(required=True, help_text=_("Another prescriber or nurse who saw the waste."))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example: the rest of a drawn-up dose, or a dropped troche."),
        error_messages={"required": _("Say why the stock was wasted.")},
    )

    def __init__(self, *args: Any, member: Membership, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "waste")
        super().__init__(*args, **kwargs)
        self.fields["witness"].choices = witness_choices(member)  # type: ignore[attr-defined]


class CountForm(forms.Form):
    counted_mg = _mg(_("Counted (mg)"), _("What is physically there now."))
    witness = _witness(
        required=False, help_text=_("Required when the count differs from the ledger's balance.")
    )
    reason = forms.CharField(
        label=_("Reason for a discrepancy"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the count differs from the ledger's balance."),
    )

    def __init__(self, *args: Any, member: Membership, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "count")
        super().__init__(*args, **kwargs)
        self.fields["witness"].choices = witness_choices(member)  # type: ignore[attr-defined]


def current_month() -> tuple[date, date]:
    today = timezone.localdate()
    last = calendar.monthrange(today.year, today.month)[1]
    return today.replace(day=1), today.replace(day=last)


class ReportForm(forms.Form):
    start = forms.DateField(
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": _("Enter the first day."),
            "invalid": _("Enter the first day as YYYY-MM-DD."),
        },
    )
    end = forms.DateField(
        label=_("To (inclusive)"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": _("Enter the last day."),
            "invalid": _("Enter the last day as YYYY-MM-DD."),
        },
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("start", "end"):
            day = data.get(name)
            if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
                self.add_error(name, _("Enter a day from 1970-01-01 to 9998-12-31."))
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error(
                "end", _("The period ends before it starts: the last day must be on or after the first.")
            )
        return data


def report_form(query: Any) -> ReportForm:
    """The report's period from the query string; the current month when none is given."""
    if "start" in query or "end" in query:
        return ReportForm(query)
    start, end = current_month()
    return ReportForm({"start": start.isoformat(), "end": end.isoformat()})
