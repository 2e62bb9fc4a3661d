"""A course's outcomes: its trajectory chart (SVG, shown on the course page) and the patient
progress summary (PDF, an audited export). Clinicians on the care team only, as the course."""

from __future__ import annotations

import re

from django.http import Http404, HttpResponse, HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import render
from django.utils import timezone

from kapflow.core import audit
from kapflow.core.access import StaffRequest, staff_view
from kapflow.core.models import AuditAction, DataCategory
from kapflow.courses.models import TreatmentCourse
from kapflow.courses.selectors import access_course
from kapflow.outcomes import course as outcomes

PDF_UNAVAILABLE_STATUS = 503


def _course(request: StaffRequest, course_id: str) -> TreatmentCourse:
    return access_course(member=request.membership, course_id=course_id)


@staff_view()
def course_chart(request: StaffRequest, course_id: str) -> HttpResponseBase:
    course = _course(request, course_id)
    if request.method != "GET":  # after the access check: those refused learn nothing more
        return HttpResponseNotAllowed(["GET"])
    key = request.GET.get("instrument", outcomes.INSTRUMENTS[0])
    if key not in outcomes.INSTRUMENTS:
        raise Http404("No such instrument.")
    figures = outcomes.course_outcomes(course)
    audit.record(
        user=request.user,
        clinic=request.clinic,
        patient=course.patient,
        action=AuditAction.VIEW,
        category=DataCategory.OUTCOMES,
        detail=f"{key} chart of course {course.public_id}",
    )
    response = HttpResponse(outcomes.chart_svg(figures, key), content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response


@staff_view()
def course_pdf(request: StaffRequest, course_id: str) -> HttpResponseBase:
    course = _course(request, course_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    data = outcomes.summary_pdf(outcomes.course_outcomes(course))
    if data is None:
        return render(
            request, "outcomes/course_pdf_unavailable.html", {"course": course}, status=PDF_UNAVAILABLE_STATUS
        )
    audit.record(
        user=request.user,
        clinic=request.clinic,
        patient=course.patient,
        action=AuditAction.EXPORT,
        category=DataCategory.OUTCOMES,
        detail=f"progress summary of course {course.public_id} as PDF",
    )
    response = HttpResponse(data, content_type="application/pdf")
    record = re.sub(r"[^A-Za-z0-9-]", "", course.patient.record_number)
    name = f"progress-summary-{record}-{timezone.localdate():%Y%m%d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
