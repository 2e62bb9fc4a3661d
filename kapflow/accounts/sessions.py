"""Session bookkeeping: which sessions a user holds, and ending them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.contrib.sessions.models import Session
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from kapflow.accounts.models import User, UserSession
from kapflow.core import audit
from kapflow.core.models import AuditAction, DataCategory

SESSION_STARTED = "kapflow_started"
SESSION_LAST_SEEN = "kapflow_last_seen"
SESSION_IDLE_MINUTES = "kapflow_idle_minutes"


def end_all_sessions(user: User) -> int:
    """Delete every session the user holds. Returns how many were ended."""
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    ended, _ = Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(user=user).delete()
    return ended


@receiver(user_logged_in)
def on_login(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    now = timezone.now().timestamp()
    request.session[SESSION_STARTED] = now
    request.session[SESSION_LAST_SEEN] = now
    if request.session.session_key is None:
        request.session.save()
    UserSession.objects.update_or_create(session_key=request.session.session_key, defaults={"user": user})
    audit.record(user=user, clinic=None, action=AuditAction.LOGIN, category=DataCategory.ACCOUNT)


@receiver(user_logged_out)
def on_logout(sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any) -> None:
    if request is not None and request.session.session_key:
        UserSession.objects.filter(session_key=request.session.session_key).delete()
    if user is not None:
        audit.record(user=user, clinic=None, action=AuditAction.LOGOUT, category=DataCategory.ACCOUNT)
