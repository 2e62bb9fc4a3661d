"""The API's gate before any view: a staff member of a clinic, and a token scope that allows it.

What a member may do to a record is decided later, by the same services and selectors the
pages use (``kapflow.core.permissions``); these classes only check who is calling.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import permissions
from rest_framework.request import Request

from kapflow.api.authentication import member_of
from kapflow.api.models import ApiToken


class ClinicMember(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        member_of(request)
        return True


class TokenScope(permissions.BasePermission):
    message = _("This token is read-only: make a read-write token in your profile to change records.")

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if isinstance(token, ApiToken) and token.read_only:
            return request.method in permissions.SAFE_METHODS
        return True
