"""Who is calling: a personal token (``Authorization: Bearer kf_…``) or the browser's session.

A token carries its clinic; a browser session works in the clinic its person last opened
(or their only clinic). ``member_of`` answers that membership for every API and FHIR view.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from kapflow.accounts.models import Membership, User
from kapflow.api.models import ApiToken
from kapflow.api.tokens import token_for
from kapflow.core.ratelimit import Window, client_address


def _bad_token_window() -> Window:
    """Unknown or revoked tokens per address: KAPFLOW_API_BAD_TOKEN_LIMIT a minute."""
    return Window("api-bad-token", settings.KAPFLOW_API_BAD_TOKEN_LIMIT, 60)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _sep, secret = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        address = client_address(request)
        wait = _bad_token_window().retry_after(address)
        if wait is not None:
            # Every token from this address waits, a right one too: else a guess would still be told apart.
            raise exceptions.Throttled(
                wait=wait,
                detail=_(
                    "Too many requests with unknown or revoked tokens from your address; try again later."
                ),
            )
        token = token_for(secret.strip())
        if token is None:
            _bad_token_window().count(address)
            raise exceptions.AuthenticationFailed(
                _("This token is unknown, revoked, or its person no longer works here.")
            )
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="kapflow"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The browser's session (with CSRF on writes), for staff only: the API is not the portal."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        found = super().authenticate(request)
        if found is None:
            return None
        user = found[0]
        if user.is_portal_user():
            return None
        return found


def member_of(request: Request) -> Membership:
    """The caller's membership for this request (cached on the request)."""
    cached = getattr(request, "_kapflow_member", None)
    if cached is not None:
        return cached
    member: Membership | None
    if isinstance(request.auth, ApiToken):
        member = request.auth.membership
    else:
        active = Membership.objects.select_related("clinic", "user").filter(
            user=request.user, is_active=True, clinic__is_active=True
        )
        slug = request.session.get("kapflow_clinic") if hasattr(request, "session") else None
        member = active.filter(clinic__slug=slug).first() if slug else None
        if member is None:
            members = list(active[:2])
            member = members[0] if len(members) == 1 else None
    if member is None:
        raise exceptions.PermissionDenied(
            _("Open the clinic you work in first (or use a token, which belongs to one clinic).")
        )
    request._kapflow_member = member
    return member
