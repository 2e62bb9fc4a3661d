from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class PortalInvitationForm(forms.Form):
    email = forms.EmailField(
        label=_("Patient's email address"),
        max_length=254,
        help_text=_("The invitation goes to this address, which becomes the patient's sign-in."),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )

    def clean_email(self) -> str:
        return str(self.cleaned_data["email"]).strip().lower()
