"""Staff calendar feeds: a staff member subscribes to their own appointments in a calendar
program through a secret address.

The address holds a random token; only its SHA-256 is stored, and the token is shown once, in
the answer to the form that created it (never stored, not even in the session). The feed at
/feeds/<token>.ics needs no sign-in, so it says no more than the patient's initials, the kind
of appointment and the room, from 30 days back to 90 days ahead. An unknown token, a revoked
feed and a feed whose owner no longer works at the clinic all get the same 404. Each fetch is
written to the access log under the feed's owner.
"""

from __future__ import annotations

import hashlib
import secrets

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from kapflow.accounts.models import Membership
from kapflow.core import audit
from kapflow.core.access import StaffRequest, actor_for, deny, require, staff_view
from kapflow.core.errors import ApplicationError
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action, decide
from kapflow.scheduling import calendar_selectors, ics
from kapflow.scheduling.models import CalendarFeed

MAX_ACTIVE_FEEDS = 10
REFRESH_MINUTES = 60


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# --- Writes ----------------------------------------------------------------------------------
def feed_create(*, member: Membership, label: str) -> tuple[CalendarFeed, str]:
    """A new feed of the member's own appointments; returns it with its token (shown once)."""
    require(member, Action.SCHEDULE_VIEW)
    with transaction.atomic():
        active = CalendarFeed.objects.select_for_update().filter(
            clinic=member.clinic, user=member.user, revoked_at__isnull=True
        )
        if len(active) >= MAX_ACTIVE_FEEDS:
            raise ApplicationError(
                _("You have %(n)s feeds already; revoke one you no longer use first.") % {"n": len(active)}
            )
        token = secrets.token_urlsafe(32)
        feed = CalendarFeed.objects.create(
            clinic=member.clinic,
            user=member.user,
            token_hash=token_hash(token),
            label=label.strip() or _("Calendar feed"),
        )
        audit.record(
            user=member.user,
            clinic=member.clinic,
            action=AuditAction.CREATE,
            category=DataCategory.SCHEDULE,
            detail=f"calendar feed {feed.pk} created",
        )
    return feed, token


def feed_revoke(*, member: Membership, feed: CalendarFeed) -> CalendarFeed:
    """The feed's address stops working at once (the owner's own feeds only)."""
    require(member, Action.SCHEDULE_VIEW)
    if feed.user_id != member.user_id or feed.clinic_id != member.clinic_id:
        raise ApplicationError(_("That is not one of your feeds."))
    with transaction.atomic():
        row = CalendarFeed.objects.select_for_update().get(pk=feed.pk)
        if row.revoked_at is None:
            row.revoked_at = timezone.now()
            row.save(update_fields=["revoked_at"])
            audit.record(
                user=member.user,
                clinic=member.clinic,
                action=AuditAction.UPDATE,
                category=DataCategory.SCHEDULE,
                detail=f"calendar feed {row.pk} revoked",
            )
    return row


def feed_for_token(token: str) -> CalendarFeed | None:
    """The live feed behind ``token``: not revoked, its owner still an active member allowed to
    see the calendars. None otherwise (the caller answers the same 404 for every case)."""
    feed = (
        CalendarFeed.objects.select_related("user", "clinic")
        .filter(token_hash=token_hash(token), revoked_at__isnull=True)
        .first()
    )
    if feed is None or not feed.user.is_active or not feed.clinic.is_active:
        return None
    member = Membership.objects.filter(user=feed.user, clinic=feed.clinic, is_active=True).first()
    if member is None:
        return None
    return feed if decide(actor_for(member), Action.SCHEDULE_VIEW).allowed else None


# --- The staff pages -----------------------------------------------------------------------------
class FeedForm(forms.Form):
    label = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=80,
        required=False,
        help_text=gettext_lazy("So you can tell your feeds apart, e.g. “Phone”."),
    )


@staff_view(Action.SCHEDULE_VIEW)
@require_http_methods(["GET", "HEAD", "POST"])
def feeds(request: StaffRequest) -> HttpResponseBase:
    form = FeedForm(request.POST or None)
    new_url = ""
    if request.method == "POST" and form.is_valid():
        try:
            _feed, token = feed_create(member=request.membership, label=form.cleaned_data["label"])
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            new_url = request.build_absolute_uri(reverse("feeds:ics", kwargs={"token": token}))
            form = FeedForm()
    context = {
        "form": form,
        "new_url": new_url,
        "feeds": CalendarFeed.objects.filter(clinic=request.clinic, user=request.user),
        "past_days": calendar_selectors.FEED_PAST.days,
        "ahead_days": calendar_selectors.FEED_AHEAD.days,
    }
    response = render(request, "scheduling/calendar/feeds.html", context, status=400 if form.errors else 200)
    if new_url:
        response["Cache-Control"] = "no-store"  # the address is shown once: keep it out of caches
    return response


@staff_view(Action.SCHEDULE_VIEW)
def feed_revoke_view(request: StaffRequest, feed_id: int) -> HttpResponseBase:
    feed = CalendarFeed.objects.filter(pk=feed_id, clinic=request.clinic, user=request.user).first()
    if feed is None:  # someone else's feed, or another clinic's: logged, and nothing to see
        deny(request.membership, Action.SCHEDULE_VIEW, "not one of your calendar feeds", hide=True)
        raise Http404("No such feed.")  # deny() has raised already
    if request.method != "POST":  # after the lookup: those refused learn nothing more
        return HttpResponseNotAllowed(["POST"])
    was_active = feed.revoked_at is None
    feed_revoke(member=request.membership, feed=feed)
    if was_active:
        messages.success(
            request, _("Feed “%(label)s” revoked: its address no longer works.") % {"label": feed.label}
        )
    return redirect("calendar:feeds", clinic=request.clinic.slug)


# --- The public feed -----------------------------------------------------------------------------
@require_safe
def ics_feed(request: HttpRequest, token: str) -> HttpResponse:
    feed = feed_for_token(token)
    if feed is None:
        return HttpResponse(_("No such feed."), status=404, content_type="text/plain; charset=utf-8")
    events = calendar_selectors.feed_events(feed)
    audit.record(
        user=feed.user,
        clinic=feed.clinic,
        action=AuditAction.VIEW,
        category=DataCategory.SCHEDULE,
        detail=f"calendar feed fetched (feed {feed.pk}, {len(events)} events)",
    )
    body = ics.calendar_ics(events, name=f"kapflow · {feed.clinic.name}", refresh_minutes=REFRESH_MINUTES)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="kapflow.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
