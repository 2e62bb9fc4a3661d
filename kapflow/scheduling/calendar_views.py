"""The clinic's calendars under /c/<clinic>/calendar/: a day by room or by staff, a week, and
today's board (refreshed every 30 seconds with htmx), for every staff role. They show the
patient's name, the kind of appointment, the room, who attends and the status, never
clinical detail. The staff member's own calendar feeds are in ``feed_views``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from django.http import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from kapflow.core.access import StaffRequest, allowed, allowed_patients, staff_view
from kapflow.core.permissions import Action
from kapflow.patients.models import Patient
from kapflow.scheduling import calendar_selectors as selectors
from kapflow.scheduling.calendar_selectors import By, Entry
from kapflow.scheduling.models import Kind, Status


def _query(day: date, by: By, show_cancelled: bool) -> str:
    values = {"date": day.isoformat(), "by": str(by)}
    if show_cancelled:
        values["cancelled"] = "1"
    return urlencode(values)


def _params(request: StaffRequest) -> tuple[date, By, bool]:
    day = selectors.parse_day(request.GET.get("date"))
    by = selectors.parse_by(request.GET.get("by"))
    return day, by, request.GET.get("cancelled") == "1"


def _links(day: date, by: By, show_cancelled: bool, step: timedelta) -> dict[str, str]:
    """Query strings of the page's links: previous, today, next, the other grouping, the toggle."""
    return {
        "prev_query": _query(day - step, by, show_cancelled),
        "next_query": _query(day + step, by, show_cancelled),
        "today_query": _query(timezone.localdate(), by, show_cancelled),
        "same_query": _query(day, by, show_cancelled),
        "room_query": _query(day, By.ROOM, show_cancelled),
        "staff_query": _query(day, By.STAFF, show_cancelled),
        "toggle_query": _query(day, by, not show_cancelled),
    }


@staff_view(Action.SCHEDULE_VIEW)
@require_safe
def day(request: StaffRequest) -> HttpResponseBase:
    day, by, show_cancelled = _params(request)
    view = selectors.day_view(member=request.membership, day=day, by=by, show_cancelled=show_cancelled)
    context = {"view": view, "by": by, **_links(day, by, show_cancelled, timedelta(days=1))}
    return render(request, "scheduling/calendar/day.html", context)


@staff_view(Action.SCHEDULE_VIEW)
@require_safe
def week(request: StaffRequest) -> HttpResponseBase:
    day, by, show_cancelled = _params(request)
    view = selectors.week_view(member=request.membership, day=day, by=by, show_cancelled=show_cancelled)
    context = {
        "view": view,
        "by": by,
        "today": timezone.localdate(),
        **_links(view.monday, by, show_cancelled, timedelta(days=7)),
    }
    return render(request, "scheduling/calendar/week.html", context)


@dataclass(frozen=True)
class BoardRow:
    entry: Entry
    can_check_in: bool
    opens_session: bool  # a dosing patient checked in at the desk; a prescriber or nurse opens it
    can_no_show: bool
    can_open_session: bool


def _board_rows(request: StaffRequest, entries: list[Entry]) -> list[BoardRow]:
    member = request.membership
    may_manage = allowed(member, Action.SCHEDULE_MANAGE)
    now = timezone.now()
    dosing_ids = {e.patient_id for e in entries if e.kind == Kind.DOSING}
    patients = list(Patient.objects.filter(clinic=request.clinic, public_id__in=dosing_ids))
    may_view = {p.public_id for p in allowed_patients(member, Action.CLINICAL_VIEW, patients)}
    may_dose = {p.public_id for p in allowed_patients(member, Action.DOSING_MEDICAL, patients)}
    rows = []
    for e in entries:
        booked = e.appointment_status == Status.BOOKED
        opens = (
            e.is_dosing
            and e.appointment_status == Status.CHECKED_IN
            and e.session_id is None
            and e.patient_id in may_dose
        )
        rows.append(
            BoardRow(
                entry=e,
                can_check_in=may_manage and (booked or opens),
                opens_session=opens,
                can_no_show=may_manage and booked and e.starts <= now,
                can_open_session=e.session_id is not None and e.patient_id in may_view,
            )
        )
    return rows


def _board_context(request: StaffRequest, *, poll: bool) -> dict[str, object]:
    today, entries = selectors.today_board(member=request.membership, poll=poll)
    return {
        "today": today,
        "rows": _board_rows(request, entries),
        "refreshed_at": timezone.localtime(),
    }


@staff_view(Action.SCHEDULE_VIEW)
@require_safe
def today(request: StaffRequest) -> HttpResponseBase:
    return render(request, "scheduling/calendar/today.html", _board_context(request, poll=False))


@staff_view(Action.SCHEDULE_VIEW)
@require_safe
def today_rows(request: StaffRequest) -> HttpResponseBase:
    """The board's rows alone, for the htmx refresh every 30 seconds."""
    return render(request, "scheduling/calendar/_today_rows.html", _board_context(request, poll=True))
