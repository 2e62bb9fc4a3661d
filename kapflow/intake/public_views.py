"""The clinic's public pages: home, how KAP works, the self-check, and appointment requests."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kapflow.clinics.models import Clinic
from kapflow.core.ratelimit import client_address
from kapflow.intake import prescreen, selectors, services
from kapflow.intake.forms import ContactForm, PrescreenForm
from kapflow.intake.public import default_public_clinic, public_clinic, public_url

PRESCREEN_SALT = "kapflow.intake.prescreen"
PRESCREEN_MAX_AGE = 24 * 3600
BAD_TOKEN = _(
    "Your self-check answers could not be attached (they are more than a day old or were "
    "changed). Send the request without them, or take the self-check again."
)

PublicView = Callable[..., HttpResponseBase]


def public_view(view: Callable[..., HttpResponseBase]) -> PublicView:
    """Resolve the clinic (from the address, or the default one) into ``request.public_clinic``."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, clinic: str | None = None, **kwargs: Any) -> HttpResponseBase:
        the_clinic = public_clinic(clinic)
        return view(request, the_clinic, **kwargs)

    return wrapped


def _render(
    request: HttpRequest, clinic: Clinic, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(request, template, {"public_clinic": clinic, **context}, status=status)


def home(request: HttpRequest, clinic: str | None = None) -> HttpResponseBase:
    if clinic is None and default_public_clinic() is None:
        clinics = Clinic.objects.filter(is_active=True)
        return render(request, "public/directory.html", {"clinics": clinics})
    the_clinic = public_clinic(clinic)
    title, body, _page = selectors.public_page(the_clinic, "home")
    return _render(request, the_clinic, "public/page.html", {"title": title, "body": body, "is_home": True})


@public_view
def how_kap_works(request: HttpRequest, clinic: Clinic) -> HttpResponseBase:
    title, body, _page = selectors.public_page(clinic, "how-kap-works")
    return _render(request, clinic, "public/page.html", {"title": title, "body": body})


@public_view
@require_http_methods(["GET", "POST"])
def prescreen_view(request: HttpRequest, clinic: Clinic) -> HttpResponseBase:
    form = PrescreenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        answers = {key: str(value) for key, value in form.cleaned_data.items()}
        result = prescreen.evaluate(answers)
        token = signing.dumps(answers, salt=PRESCREEN_SALT)
        contact = ContactForm(initial={"prescreen_token": token})
        return _render(
            request,
            clinic,
            "public/prescreen_result.html",
            {"result": result, "contact_form": contact},
        )
    status = 400 if form.errors else 200
    return _render(request, clinic, "public/prescreen.html", {"form": form}, status=status)


def _answers(token: str) -> dict[str, str] | None:
    """The self-check answers carried by a signed token; None for no token. Raises on a bad one."""
    if not token:
        return None
    answers = signing.loads(token, salt=PRESCREEN_SALT, max_age=PRESCREEN_MAX_AGE)
    if not isinstance(answers, dict):
        raise signing.BadSignature("not a mapping")
    prescreen.evaluate(answers)  # raises InvalidAnswers for anything we did not offer
    return {str(k): str(v) for k, v in answers.items()}


@public_view
@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest, clinic: Clinic) -> HttpResponseBase:
    form = ContactForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if request.POST.get("website"):
            # A bot filled the field people cannot see: answer as if sent, store nothing.
            return redirect(public_url("thanks", clinic))
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k not in {"website", "prescreen_token"}}
            try:
                answers = _answers(form.cleaned_data["prescreen_token"])
            except (signing.BadSignature, prescreen.InvalidAnswers):
                data_without = request.POST.copy()
                data_without.pop("prescreen_token", None)
                form = ContactForm(data_without)
                form.is_valid()
                form.add_error(None, BAD_TOKEN)
            else:
                placeholder = "00000000-0000-0000-0000-000000000000"
                link = request.build_absolute_uri(
                    reverse("intake:detail", kwargs={"clinic": clinic.slug, "request_id": placeholder})
                ).replace(placeholder, "{id}")
                try:
                    services.request_submit(
                        clinic=clinic,
                        data=data,
                        answers=answers,
                        source=client_address(request),
                        link=link,
                    )
                except services.RateLimited as exc:
                    return _render(
                        request,
                        clinic,
                        "public/contact.html",
                        {"form": form, "refused": exc.message},
                        status=429,
                    )
                return redirect(public_url("thanks", clinic))
        status = 400
    return _render(request, clinic, "public/contact.html", {"form": form}, status=status)


@public_view
def thanks(request: HttpRequest, clinic: Clinic) -> HttpResponseBase:
    return _render(request, clinic, "public/thanks.html", {})
