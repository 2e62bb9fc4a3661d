from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kapflow.patients.models import ClinicalBackground, Patient

PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{6,30}$")
PHONE_ERROR = _("Enter a phone number of digits, spaces and + ( ) - only, for example +1 303 555 0100.")


def clean_phone(value: str) -> str:
    value = value.strip()
    if value and not PHONE_RE.match(value):
        raise forms.ValidationError(PHONE_ERROR)
    return value


class PatientForm(forms.ModelForm[Patient]):
    record_number = forms.CharField(
        label=_("Record number"),
        max_length=32,
        required=False,
        help_text=_("Unique within the clinic. Leave empty to number the record automatically."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Patient
        fields = [
            "record_number",
            "legal_given_name",
            "legal_family_name",
            "preferred_name",
            "pronouns",
            "date_of_birth",
            "sex_at_birth",
            "gender_identity",
            "email",
            "phone",
            "address",
            "emergency_contact_name",
            "emergency_contact_relationship",
            "emergency_contact_phone",
        ]
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "address": forms.Textarea(attrs={"rows": 3}),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
        }

    FIELDSETS = [
        (
            _("Identity"),
            [
                "record_number",
                "legal_given_name",
                "legal_family_name",
                "preferred_name",
                "pronouns",
                "date_of_birth",
                "sex_at_birth",
                "gender_identity",
            ],
        ),
        (_("Contact"), ["email", "phone", "address"]),
        (
            _("Emergency contact"),
            ["emergency_contact_name", "emergency_contact_relationship", "emergency_contact_phone"],
        ),
    ]

    def fieldsets(self) -> list[tuple[Any, list[forms.BoundField]]]:
        return [(legend, [self[name] for name in names]) for legend, names in self.FIELDSETS]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
            self.fields["record_number"].required = True
            self.fields["record_number"].help_text = _("Unique within the clinic.")

    def clean_record_number(self) -> str:
        value = str(self.cleaned_data.get("record_number") or "").strip()
        if value and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]*", value):
            raise forms.ValidationError(_("Use letters, digits, and . _ / - only."))
        return value

    def clean_date_of_birth(self) -> date:
        value: date = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if value > today:
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        if value.year < 1900:
            raise forms.ValidationError(_("Enter a date of birth after 1900."))
        return value

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data.get("phone", ""))

    def clean_emergency_contact_phone(self) -> str:
        return clean_phone(self.cleaned_data.get("emergency_contact_phone", ""))

    def clean_email(self) -> str:
        return str(self.cleaned_data.get("email") or "").strip().lower()

    def validate_unique(self) -> None:
        # Uniqueness of the record number is checked by the service, with the clinic known.
        pass


class ClinicalBackgroundForm(forms.ModelForm[ClinicalBackground]):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = ClinicalBackground
        fields = ["presenting_concerns", "diagnoses", "allergies", "referral_source"]
        widgets = {
            "presenting_concerns": forms.Textarea(attrs={"rows": 4}),
            "diagnoses": forms.Textarea(attrs={"rows": 3}),
            "allergies": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version


class CareTeamAddForm(forms.Form):
    member = forms.ChoiceField(label=_("Staff member"))

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["member"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Choose a clinician")), *choices]


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search by name, date of birth or record number"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
