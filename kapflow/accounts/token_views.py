"""Personal API tokens in the signed-in person's profile: list, create (secret shown once), revoke.

Staff only: a patient's portal sign-in has no clinic to act in, so these pages answer 404 for
it. The secret is never stored: the answer to the form's POST shows it, once, and is not
cached (as the calendar feed's address).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kapflow.accounts.models import Membership, User
from kapflow.api.models import ApiToken
from kapflow.api.tokens import token_create, token_revoke
from kapflow.core.errors import ApplicationError

READ, READ_WRITE = "read", "read-write"


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=80,
        help_text=gettext_lazy("What will use it, so you know later, e.g. “Billing export”."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    scope = forms.ChoiceField(
        label=gettext_lazy("What it may do"),
        choices=[
            (READ, gettext_lazy("Read only")),
            (READ_WRITE, gettext_lazy("Read and write (change records as you could on the pages)")),
        ],
        initial=READ,
        widget=forms.RadioSelect,
        help_text=gettext_lazy("A program that only fetches data needs read only."),
    )
    clinic = forms.ChoiceField(
        label=gettext_lazy("Clinic"),
        help_text=gettext_lazy("A token works in one clinic, with your role there."),
    )

    def __init__(self, *args: Any, memberships: list[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.memberships = {m.clinic.slug: m for m in memberships}
        field = cast(forms.ChoiceField, self.fields["clinic"])
        field.choices = [(m.clinic.slug, f"{m.clinic.name} ({m.get_role_display()})") for m in memberships]
        if len(memberships) == 1:
            field.widget = forms.HiddenInput()
            field.initial = memberships[0].clinic.slug

    def membership(self) -> Membership:
        return self.memberships[self.cleaned_data["clinic"]]


def token_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Signed in (else to the sign-in page) and staff somewhere (else 404). The page shows the
    current clinic's header, navigation and time zone; ``request.memberships`` lists every
    active membership, the current clinic's first."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        memberships = list(cast(User, request.user).active_memberships().order_by("clinic__name"))
        if not memberships:
            raise Http404("API tokens are for staff.")
        slug = request.session.get("kapflow_clinic")
        memberships.sort(key=lambda m: m.clinic.slug != slug)
        request.memberships = memberships  # type: ignore[attr-defined]
        request.clinic = memberships[0].clinic  # type: ignore[attr-defined]
        request.membership = memberships[0]  # type: ignore[attr-defined]
        with timezone.override(memberships[0].clinic.tzinfo):
            return view(request, *args, **kwargs)

    return wrapped


def _shown(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)  # no-store: the secret must stay out of every cache
    return response


def _own_token(request: HttpRequest, token_id: uuid.UUID) -> ApiToken:
    token = (
        ApiToken.objects.select_related("membership__clinic")
        .filter(user=cast(User, request.user), public_id=token_id)
        .first()
    )
    if token is None:
        raise Http404("No token of yours by that id.")
    return token


@token_page
def token_list(request: HttpRequest) -> HttpResponseBase:
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    tokens = ApiToken.objects.filter(user=cast(User, request.user)).select_related("membership__clinic")
    return render(request, "accounts/api_tokens.html", {"tokens": tokens})


@token_page
def token_new(request: HttpRequest) -> HttpResponseBase:
    memberships: list[Membership] = request.memberships  # type: ignore[attr-defined]
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    form = TokenCreateForm(
        request.POST if request.method == "POST" else None,
        memberships=memberships,
        initial={"clinic": memberships[0].clinic.slug},
    )
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = token_create(
                user=cast(User, request.user),
                membership=form.membership(),
                name=form.cleaned_data["name"],
                read_only=form.cleaned_data["scope"] == READ,
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            return _shown(render(request, "accounts/api_token.html", {"token": token, "secret": secret}))
    status = 400 if form.errors else 200
    return render(request, "accounts/api_token_new.html", {"form": form}, status=status)


@token_page
def token_detail(request: HttpRequest, token_id: uuid.UUID) -> HttpResponseBase:
    """The token's facts (never its secret, which was shown once when it was made)."""
    token = _own_token(request, token_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return render(request, "accounts/api_token.html", {"token": token})


@token_page
def token_revoke_view(request: HttpRequest, token_id: uuid.UUID) -> HttpResponseBase:
    """GET asks to confirm; POST revokes (programs using the token are refused at once)."""
    token = _own_token(request, token_id)
    if request.method == "POST":
        token_revoke(user=cast(User, request.user), token=token)
        messages.success(request, _("Token “%(name)s” revoked: it no longer works.") % {"name": token.name})
        return redirect("accounts:api_tokens")
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(request, "accounts/api_token_revoke.html", {"token": token})
