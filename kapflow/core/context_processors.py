from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from kapflow.accounts.sessions import SESSION_IDLE_MINUTES
from kapflow.core.navigation import navigation_for


def _idle_seconds(request: HttpRequest) -> int:
    if not request.user.is_authenticated:
        return 0
    minutes = request.session.get(SESSION_IDLE_MINUTES, settings.KAPFLOW_DEFAULT_IDLE_MINUTES)
    return int(minutes) * 60


def kapflow(request: HttpRequest) -> dict[str, Any]:
    """The clinic, role navigation and CSP nonce every page template needs."""
    membership = getattr(request, "membership", None)
    return {
        "csp_nonce": getattr(request, "csp_nonce", ""),
        "current_clinic": getattr(request, "clinic", None),
        "current_membership": membership,
        "nav_items": navigation_for(request, membership) if membership is not None else [],
        "kapflow_env": settings.KAPFLOW_ENV,
        "idle_seconds": _idle_seconds(request),
    }
