from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from kapflow.accounts.models import RoleChoice


class LoginForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TokenForm(forms.Form):
    code = forms.RegexField(
        label=_("Authentication code"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Enter the 6-digit code from your authenticator app.")},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "size": 8,
            }
        ),
    )

    def clean_code(self) -> str:
        return str(self.cleaned_data["code"]).strip()


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    role = forms.ChoiceField(label=_("Role"), choices=RoleChoice.choices)

    def clean_email(self) -> str:
        return str(self.cleaned_data["email"]).strip().lower()


class NewPasswordForm(forms.Form):
    """Choose a password, typed twice, checked by the same validators for staff and patients."""

    password1 = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Type it again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, email: str, full_name: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email
        self.person_name = full_name

    def name_for_validation(self, data: dict[str, Any]) -> str:
        """The name the password must not resemble."""
        return self.person_name

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            from kapflow.accounts.models import User

            try:
                password_validation.validate_password(
                    p1, User(email=self.email, full_name=self.name_for_validation(data))
                )
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class SetPasswordForm(NewPasswordForm):
    """A new staff member's name and password (accepting an invitation)."""

    full_name = forms.CharField(label=_("Your full name"), max_length=200)
    field_order = ["full_name", "password1", "password2"]

    def name_for_validation(self, data: dict[str, Any]) -> str:
        return str(data.get("full_name", ""))


class MembershipForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=RoleChoice.choices)
