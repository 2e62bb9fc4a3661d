from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kapflow.consent.models import BODY_MAX_LENGTH, REASON_MAX_LENGTH


class TemplateForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Text"),
        max_length=BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 24}),
        help_text=_(
            "Plain text. Leave a blank line between paragraphs; start a line with “## ” for a heading."
        ),
    )


class SignForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    typed_name = forms.CharField(
        label=_("Type your full legal name"),
        max_length=300,
        help_text=_("Your full legal name as the clinic has it. Typing it is your signature."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    confirmed = forms.BooleanField(
        label=_(
            "I have read and understood this consent form, my questions have been answered, and I agree."
        ),
        required=True,
        error_messages={"required": _("Please confirm that you have read and understood the consent form.")},
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class StaffWithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("How and when the patient withdrew"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
