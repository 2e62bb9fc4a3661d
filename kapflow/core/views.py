"""Home pages, the access log, health check and error pages."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import cast

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kapflow.accounts.models import User
from kapflow.api.problems import problem_response
from kapflow.core import audit
from kapflow.core.access import StaffRequest, allowed, staff_view
from kapflow.core.forms import AuditFilterForm
from kapflow.core.models import AccessLogEntry, AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.core.roles import Role
from kapflow.courses.selectors import overdue_integrations
from kapflow.dosing.selectors import my_open_sessions
from kapflow.intake.selectors import new_request_count
from kapflow.measures.selectors import open_alerts_for
from kapflow.patients.selectors import my_patients


def home(request: HttpRequest) -> HttpResponseBase:
    """Signed-in staff go to their clinic (the last one they used), patients to their portal;
    others sign in."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    user = cast(User, request.user)
    memberships = list(user.active_memberships())
    if not memberships and user.is_portal_user():
        return redirect("portal:home")
    last = request.session.get("kapflow_clinic")
    for membership in memberships:
        if membership.clinic.slug == last:
            return redirect("clinic_home", clinic=last)
    return redirect("accounts:choose_clinic")


@staff_view()
def clinic_home(request: StaffRequest) -> HttpResponseBase:
    member = request.membership
    context = {
        "my_patients": my_patients(member=member) if member.is_clinical else [],
        "alerts": open_alerts_for(member),
        "open_sessions": my_open_sessions(member),
        "overdue_integrations": overdue_integrations(member) if member.role == Role.THERAPIST else [],
        "now": timezone.now(),
        "can_search": allowed(member, Action.PATIENT_SEARCH),
        "new_requests": new_request_count(member) if allowed(member, Action.INTAKE_VIEW) else None,
        "can_create": allowed(member, Action.PATIENT_CREATE),
        "can_manage_staff": allowed(member, Action.STAFF_MANAGE),
        "can_configure": allowed(member, Action.CLINIC_CONFIGURE),
        "can_audit": allowed(member, Action.AUDIT_VIEW),
        "other_memberships": [m for m in request.user.active_memberships() if m.pk != member.pk],
    }
    return render(request, "core/clinic_home.html", context)


AUDIT_PAGE_SIZE = 50


@staff_view(Action.AUDIT_VIEW)
def audit_log(request: StaffRequest) -> HttpResponseBase:
    form = AuditFilterForm(request.GET or None)
    entries = (
        AccessLogEntry.objects.filter(clinic=request.clinic).select_related("patient").order_by("-at", "-id")
    )
    if form.is_valid():
        data = form.cleaned_data
        tz = request.clinic.tzinfo
        if data["patient"]:
            entries = entries.filter(patient__record_number__iexact=data["patient"].strip())
        if data["user"]:
            entries = entries.filter(Q(user_email__icontains=data["user"].strip()))
        if data["date_from"]:
            entries = entries.filter(at__gte=datetime.combine(data["date_from"], time.min, tz))
        if data["date_to"]:
            entries = entries.filter(
                at__lt=datetime.combine(data["date_to"] + timedelta(days=1), time.min, tz)
            )
        for name in ("action", "category", "outcome"):
            if data[name]:
                entries = entries.filter(**{name: data[name]})
    elif form.is_bound:
        entries = entries.none()
    # Log this view before counting, so the page's count and rows agree (both include it).
    audit.record(
        user=request.user,
        clinic=request.clinic,
        action=AuditAction.VIEW,
        category=DataCategory.AUDIT,
    )
    audit.write_pending()
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "core/audit_log.html",
        {"form": form, "page": page, "query": query.urlencode(), "now": timezone.now()},
        status=200 if form.is_valid() or not request.GET else 400,
    )


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", {"reason": str(exception or "")}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return problem_response(request, 404, _("No API operation at this address."))
    if request.path.startswith("/fhir/"):
        from kapflow.fhir.base import operation_outcome

        body = operation_outcome(_("No FHIR operation at this address."), "not-found")
        return JsonResponse(body, status=404, content_type="application/fhir+json")
    return render(request, "errors/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return problem_response(request, 500, _("Something went wrong on our side; nothing was saved."))
    if request.path.startswith("/fhir/"):
        from kapflow.fhir.base import operation_outcome

        body = operation_outcome(_("Something went wrong on our side; nothing was saved."), "exception")
        return JsonResponse(body, status=500, content_type="application/fhir+json")
    # No request context: the page must render even when the database is what failed.
    return HttpResponse(loader.render_to_string("errors/500.html"), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "errors/csrf.html", status=403)
