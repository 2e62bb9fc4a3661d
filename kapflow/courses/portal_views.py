"""The patient's course in the portal, ``/portal/course/``: intentions and the integration
journal. No patient or course id in any URL: the signed-in patient's own open course only."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kapflow.core.errors import ApplicationError
from kapflow.courses import portal_services as services
from kapflow.courses.psychotherapy_forms import IntentionForm, JournalForm
from kapflow.portal.access import PortalRequest, portal_view
from kapflow.screening.models import Route


def _route_label(value: str) -> str:
    try:
        return str(Route(value).label)
    except ValueError:
        return value


def _page(
    request: PortalRequest,
    *,
    intention_form: IntentionForm | None = None,
    journal_form: JournalForm | None = None,
    status: int = 200,
) -> HttpResponseBase:
    page = services.course_page(account=request.portal_account)
    context = {
        "clinic": request.portal_clinic,
        "crisis_text": request.portal_clinic.crisis_line_text,
        "course": page.course,
        "route": _route_label(page.course.route) if page.course is not None else "",
        "intentions": page.intentions,
        "journal": page.journal,
        "intention_form": intention_form or IntentionForm(prefix="intention"),
        "journal_form": journal_form or JournalForm(prefix="journal"),
    }
    template = "courses/portal/course.html" if page.course is not None else "courses/portal/no_course.html"
    return render(request, template, context, status=status)


@portal_view
@require_GET
def course(request: PortalRequest) -> HttpResponseBase:
    return _page(request)


@portal_view
@require_POST
def intention(request: PortalRequest) -> HttpResponseBase:
    form = IntentionForm(request.POST, prefix="intention")
    if form.is_valid():
        try:
            services.intention_set(user=request.user, patient=request.patient, text=form.cleaned_data["text"])
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return _page(request, intention_form=form, status=exc.status)
        messages.success(request, _("Your intention is saved. Your care team can see it."))
        return redirect("portal_courses:course")
    return _page(request, intention_form=form, status=400)


@portal_view
@require_POST
def journal(request: PortalRequest) -> HttpResponseBase:
    form = JournalForm(request.POST, prefix="journal")
    if form.is_valid():
        try:
            entry = services.journal_write(
                user=request.user,
                patient=request.patient,
                text=form.cleaned_data["text"],
                shared=form.cleaned_data["shared"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return _page(request, journal_form=form, status=exc.status)
        if entry.shared:
            messages.success(request, _("Your journal entry is saved and shared with your care team."))
        else:
            messages.success(request, _("Your journal entry is saved. It is private: only you can see it."))
        return redirect("portal_courses:course")
    return _page(request, journal_form=form, status=400)
