from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kapflow.intake import prescreen
from kapflow.intake.models import (
    AppointmentRequest,
    ContactMethod,
    ContactOutcome,
    PublicPage,
    RequestStatus,
)
from kapflow.patients.forms import clean_phone

ANSWER_CHOICES = [
    (prescreen.Answer.NO.value, _("No")),
    (prescreen.Answer.YES.value, _("Yes")),
    (prescreen.Answer.UNSURE.value, _("Not sure")),
]


class PrescreenForm(forms.Form):
    """The anonymous self-check. Nothing here is stored unless the person sends a request."""

    treatments = forms.ChoiceField(
        label=_("Which treatments with medicine have you tried for how you feel?"),
        choices=[(v, _(label)) for v, label in prescreen.TREATMENT_CHOICES],
        widget=forms.RadioSelect,
    )
    therapy = forms.ChoiceField(
        label=_("Have you had talk therapy (psychotherapy or counselling)?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for question in prescreen.HEALTH_QUESTIONS:
            self.fields[question.key] = forms.ChoiceField(
                label=_(question.text), choices=ANSWER_CHOICES, widget=forms.RadioSelect
            )
        for field in self.fields.values():
            field.error_messages["required"] = _("Please choose an answer.")


class ContactForm(forms.ModelForm[AppointmentRequest]):
    """The appointment request. ``website`` is a honeypot: people leave it empty."""

    website = forms.CharField(required=False, label=_("Leave this empty"))
    prescreen_token = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = AppointmentRequest
        fields = [
            "name",
            "email",
            "phone",
            "preferred_contact",
            "preferred_times",
            "hopes",
            "heard_from",
            "consent_to_contact",
        ]
        widgets = {
            "hopes": forms.Textarea(attrs={"rows": 5}),
            "preferred_contact": forms.RadioSelect,
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
        }
        labels = {
            "name": _("Your name"),
            "hopes": _("What do you hope KAP could help with? (optional)"),
            "consent_to_contact": _("I agree that the clinic may contact me about this request."),
        }
        help_texts = {
            "preferred_times": _("For example: weekday mornings."),
            "email": _("Give an email address, a phone number, or both."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consent_to_contact"].required = True
        self.fields["consent_to_contact"].error_messages["required"] = _(
            "We can only answer if you agree to be contacted."
        )
        self.fields["heard_from"].required = False

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data.get("phone", ""))

    def clean_email(self) -> str:
        return str(self.cleaned_data.get("email") or "").strip().lower()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        email, phone = data.get("email"), data.get("phone")
        if not email and not phone and "email" not in self.errors and "phone" not in self.errors:
            self.add_error("email", _("Give an email address or a phone number so we can reach you."))
        method = data.get("preferred_contact")
        if method == ContactMethod.EMAIL and not email and phone:
            self.add_error("preferred_contact", _("You chose email but gave no email address."))
        if method in {ContactMethod.PHONE, ContactMethod.TEXT} and not phone and email:
            self.add_error("preferred_contact", _("You chose phone or text but gave no phone number."))
        return data


class StatusForm(forms.Form):
    prefix = "status"
    status = forms.ChoiceField(label=_("Status"), choices=RequestStatus.choices)


class ContactAttemptForm(forms.Form):
    prefix = "contact"
    method = forms.ChoiceField(label=_("How"), choices=ContactMethod.choices)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ContactOutcome.choices)
    text = forms.CharField(
        label=_("Note (optional)"), required=False, max_length=3000, widget=forms.Textarea(attrs={"rows": 2})
    )


class NoteForm(forms.Form):
    prefix = "note"
    text = forms.CharField(label=_("Note"), max_length=3000, widget=forms.Textarea(attrs={"rows": 3}))


class AssignForm(forms.Form):
    prefix = "assign"
    assignee = forms.ChoiceField(label=_("Assigned to"), required=False)

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Nobody")), *choices]


class DuplicateForm(forms.Form):
    prefix = "duplicate"
    of = forms.CharField(
        label=_("Duplicate of (the other request's reference)"),
        max_length=36,
        help_text=_("The reference is shown at the top of each request."),
    )


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Open (new and contacted)")), ("all", _("All")), *RequestStatus.choices],
    )
    mine = forms.BooleanField(label=_("Only those assigned to me"), required=False)


class PublicPageForm(forms.ModelForm[PublicPage]):
    class Meta:
        model = PublicPage
        fields = ["title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 20})}
