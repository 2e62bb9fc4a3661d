"""Signing in and out, two-factor authentication, invitations, and choosing a clinic."""

from __future__ import annotations

import math
from typing import Any, cast

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from kapflow.accounts.forms import LoginForm, SetPasswordForm, TokenForm
from kapflow.accounts.models import User, UserSession
from kapflow.accounts.services import invitation_accept, invitation_for_token
from kapflow.core.errors import ApplicationError
from kapflow.core.ratelimit import Window, client_address

PENDING_USER = "kapflow_pending_user"
PENDING_NEXT = "kapflow_pending_next"
PENDING_FAILURES = "kapflow_pending_failures"
MAX_CODE_FAILURES = 5

BAD_CREDENTIALS = _("That email and password do not match an active account.")
BAD_CODE = _("That code is not right, or it has expired. Codes change every 30 seconds.")
SIGN_IN_WINDOW_SECONDS = 300


def _sign_in_window() -> Window:
    """Failed sign-ins (passwords and two-factor codes) per address: KAPFLOW_LOGIN_RATE_LIMIT per 5 minutes."""
    return Window("sign-in", settings.KAPFLOW_LOGIN_RATE_LIMIT, SIGN_IN_WINDOW_SECONDS)


def _refused_for_rate(request: HttpRequest, template: str, form: Any, wait: int) -> HttpResponse:
    """The form again, with why it was not tried (429); nothing is checked, so nothing is locked."""
    minutes = math.ceil(wait / 60)
    message = ngettext(
        "Too many failed sign-in attempts from your network. Wait %(minutes)d minute, then try again. "
        "This limit is on your network's address: no account has been locked by it.",
        "Too many failed sign-in attempts from your network. Wait %(minutes)d minutes, then try again. "
        "This limit is on your network's address: no account has been locked by it.",
        minutes,
    ) % {"minutes": minutes}
    form.add_error(None, message)
    context = {"form": form, "next": request.POST.get("next", "")}
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(wait)
    return response


def locked_out(
    request: HttpRequest, credentials: dict[str, Any] | None = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """django-axes calls this once an account has too many failed sign-ins."""
    return render(request, "accounts/locked_out.html", status=429)


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(candidate, {request.get_host()}, request.is_secure()):
        return candidate
    return reverse("home")


def _confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponseBase:
    if request.user.is_authenticated:
        return redirect(_safe_next(request, request.GET.get("next")))
    form = LoginForm(request.POST or None)
    if request.method == "POST":
        wait = _sign_in_window().retry_after(client_address(request))
        if wait is not None:
            return _refused_for_rate(request, "accounts/login.html", form, wait)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        user = authenticate(request, email=email, password=form.cleaned_data["password"])
        if user is None:
            _sign_in_window().count(client_address(request))
        if getattr(request, "axes_locked_out", False):
            return locked_out(request)
        if user is None:
            form.add_error(None, BAD_CREDENTIALS)
        else:
            target = _safe_next(request, request.POST.get("next"))
            if _confirmed_device(cast(User, user)) is not None:
                request.session.cycle_key()
                request.session[PENDING_USER] = user.pk
                request.session[PENDING_NEXT] = target
                request.session[PENDING_FAILURES] = 0
                return redirect("accounts:login_verify")
            login(request, user)
            return redirect(target)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": request.GET.get("next", "")},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def login_verify(request: HttpRequest) -> HttpResponseBase:
    """Second step of signing in: the code from the authenticator app."""
    pending = request.session.get(PENDING_USER)
    user = User.objects.filter(pk=pending, is_active=True).first() if pending else None
    device = _confirmed_device(user) if user is not None else None
    if user is None or device is None:
        messages.info(request, _("Please sign in first."))
        return redirect("accounts:login")
    form = TokenForm(request.POST or None)
    if request.method == "POST":
        wait = _sign_in_window().retry_after(client_address(request))
        if wait is not None:
            return _refused_for_rate(request, "accounts/login_verify.html", form, wait)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            target = request.session.get(PENDING_NEXT) or reverse("home")
            for key in (PENDING_USER, PENDING_NEXT, PENDING_FAILURES):
                request.session.pop(key, None)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            otp_login(request, device)
            return redirect(target)
        failures = int(request.session.get(PENDING_FAILURES, 0)) + 1
        request.session[PENDING_FAILURES] = failures
        _sign_in_window().count(client_address(request))
        # A wrong code counts as a failed sign-in towards the lockout.
        user_login_failed.send(sender=__name__, credentials={"email": user.email}, request=request)
        if getattr(request, "axes_locked_out", False) or failures >= MAX_CODE_FAILURES:
            request.session.flush()
            return locked_out(request)
        form.add_error("code", BAD_CODE)
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/login_verify.html", {"form": form}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponseBase:
    logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("accounts:login")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's view; the new session key it issues stays registered, so deactivating the
    person or resetting their two-factor authentication still ends this session."""

    def form_valid(self, form: Any) -> HttpResponse:
        old_key = self.request.session.session_key
        response = super().form_valid(form)
        UserSession.objects.filter(session_key=old_key).update(session_key=self.request.session.session_key)
        return response


@require_POST
def keepalive(request: HttpRequest) -> HttpResponse:
    """The idle warning's "Stay signed in": the session policy middleware has already
    counted this request as activity; answer 401 if the session has ended meanwhile."""
    return HttpResponse(status=204 if request.user.is_authenticated else 401)


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg = image.to_string(encoding="unicode")
    return svg if isinstance(svg, str) else svg.decode("utf-8")


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponseBase:
    """Set up (or replace) the authenticator app for the signed-in user."""
    user = cast(User, request.user)
    confirmed = _confirmed_device(user)
    if confirmed is not None and request.method == "GET" and "replace" not in request.GET:
        return render(request, "accounts/two_factor_done.html", {"device": confirmed})
    pending = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if pending is None:
        pending = TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if pending.verify_token(form.cleaned_data["code"]):
            TOTPDevice.objects.filter(user=user, confirmed=True).delete()
            pending.confirmed = True
            pending.save(update_fields=["confirmed"])
            otp_login(request, pending)
            messages.success(
                request,
                _("Two-factor authentication is on. You will be asked for a code at each sign-in."),
            )
            return redirect("home")
        form.add_error("code", BAD_CODE)
    from base64 import b32encode

    secret = b32encode(pending.bin_key).decode("ascii")
    svg = _qr_svg(pending.config_url)
    context = {
        "form": form,
        "qr_svg": mark_safe(svg),  # noqa: S308 - SVG generated by qrcode from our own data  # nosec B308 B703
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "required": settings.KAPFLOW_REQUIRE_2FA,
    }
    return render(request, "accounts/two_factor.html", context, status=400 if form.errors else 200)


@login_required
def choose_clinic(request: HttpRequest) -> HttpResponseBase:
    user = cast(User, request.user)
    memberships = list(user.active_memberships())
    if len(memberships) == 1:
        return redirect("clinic_home", clinic=memberships[0].clinic.slug)
    if not memberships and user.is_portal_user():
        return redirect("portal:home")
    return render(request, "accounts/choose_clinic.html", {"memberships": memberships})


@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponseBase:
    invitation = invitation_for_token(token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=410)
    existing = User.objects.filter(email=invitation.email).first()
    signed_in = cast(User, request.user) if request.user.is_authenticated else None
    form = None
    if existing is not None and not existing.is_active:
        existing = None  # a deactivated account is reopened through the link, with a new password
    if existing is None:
        form = SetPasswordForm(
            request.POST or None,
            email=invitation.email,
            initial={"full_name": invitation.full_name},
        )
    if request.method == "POST":
        try:
            if existing is not None:
                if signed_in is None or signed_in.pk != existing.pk:
                    raise ApplicationError(_("Sign in as %(email)s to accept.") % {"email": invitation.email})
                invitation_accept(invitation=invitation, user=signed_in)
            elif form is not None and form.is_valid():
                user = invitation_accept(
                    invitation=invitation,
                    user=None,
                    full_name=form.cleaned_data["full_name"],
                    password=form.cleaned_data["password1"],
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                return render(
                    request,
                    "accounts/invitation.html",
                    {"invitation": invitation, "form": form, "existing": existing},
                    status=400,
                )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(request.path)
        messages.success(request, _("Welcome to %(clinic)s.") % {"clinic": invitation.clinic.name})
        return redirect("clinic_home", clinic=invitation.clinic.slug)
    return render(
        request,
        "accounts/invitation.html",
        {"invitation": invitation, "form": form, "existing": existing, "signed_in": signed_in},
    )
