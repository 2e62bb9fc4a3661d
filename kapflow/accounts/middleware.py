"""Session policy for signed-in users: idle timeout, absolute timeout, required 2FA."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import user_has_device

from kapflow.accounts.sessions import SESSION_IDLE_MINUTES, SESSION_LAST_SEEN, SESSION_STARTED

IDLE_MESSAGE = _("You were signed out after a period without activity. Please sign in again.")
ABSOLUTE_MESSAGE = _("Your session reached its maximum length. Please sign in again.")
ENROL_MESSAGE = _("This clinic requires two-factor authentication. Set it up to continue.")

EXEMPT_PREFIXES = ("/static/", "/accounts/logout/", "/accounts/2fa/", "/healthz")


# The idle clock restarts at most this often (seconds); idleness is counted from the last
# write, so a person may be signed out up to this much early, never late.
LAST_SEEN_STEP = 30

POLL_HEADER = "X-Kapflow-Poll"  # set by the htmx elements that refresh on a timer


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.user.is_authenticated:
            refused = self._enforce(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    def _enforce(self, request: HttpRequest) -> HttpResponseBase | None:
        now = timezone.now().timestamp()
        session = request.session
        started = float(session.get(SESSION_STARTED, now))
        last_seen = float(session.get(SESSION_LAST_SEEN, now))
        idle_limit = int(session.get(SESSION_IDLE_MINUTES, settings.KAPFLOW_DEFAULT_IDLE_MINUTES)) * 60
        if now - started > settings.KAPFLOW_SESSION_ABSOLUTE_HOURS * 3600:
            return self._sign_out(request, ABSOLUTE_MESSAGE)
        if now - last_seen > idle_limit:
            return self._sign_out(request, IDLE_MESSAGE)
        if not request.headers.get(POLL_HEADER) and now - last_seen >= LAST_SEEN_STEP:
            # A page refreshing itself on a timer is not someone at the keyboard. The time is
            # written at most every LAST_SEEN_STEP seconds: a session write is a database commit,
            # and a person clicking through pages would otherwise cost one on every page.
            session[SESSION_LAST_SEEN] = now
        if request.path.startswith(EXEMPT_PREFIXES):
            return None
        user = request.user
        if user_has_device(user):
            if not user.is_verified():  # type: ignore[union-attr]
                return self._sign_out(request, _("Please sign in again with your authentication code."))
        elif settings.KAPFLOW_REQUIRE_2FA and not user.is_portal_user():  # type: ignore[union-attr]
            # Required of staff only: a patient may add an authenticator, and is then asked for it.
            messages.warning(request, ENROL_MESSAGE)
            return redirect("accounts:two_factor")
        return None

    def _sign_out(self, request: HttpRequest, message: str) -> HttpResponse:
        path = request.get_full_path()
        logout(request)
        messages.info(request, message)
        if request.path == reverse("accounts:keepalive"):
            # fetch() would follow a redirect to the sign-in page and see 200: say 401 instead.
            return HttpResponse(status=401)
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = reverse(settings.LOGIN_URL)
            return response
        return redirect_to_login(path)
