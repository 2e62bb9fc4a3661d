"""Staff pages of informed consent, under /c/<clinic>/consent/: the clinic admin's templates,
and on a patient's signature: witness, record a withdrawal, download the signed PDF."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kapflow.consent import content, selectors, services
from kapflow.consent.forms import StaffWithdrawForm, TemplateForm
from kapflow.consent.models import ConsentSignature
from kapflow.core.access import StaffRequest, staff_view
from kapflow.core.errors import ApplicationError
from kapflow.core.permissions import Action

PDF_UNAVAILABLE_STATUS = 503


@staff_view(Action.CLINIC_CONFIGURE)
@require_http_methods(["GET", "POST"])
def template_list(request: StaffRequest) -> HttpResponseBase:
    current = selectors.current_template(request.clinic)
    initial = (
        {"title": current.title, "body": current.body}
        if current is not None
        else {"title": str(content.EXAMPLE_TITLE), "body": str(content.EXAMPLE_BODY)}
    )
    form = TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            made = services.template_publish(
                member=request.membership, title=form.cleaned_data["title"], body=form.cleaned_data["body"]
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _(
                    "Version %(version)d is published. Patients who signed an earlier version are asked to sign again."
                )
                % {"version": made.version},
            )
            return redirect("consent:templates", clinic=request.clinic.slug)
    context: dict[str, Any] = {
        "form": form,
        "versions": selectors.templates(request.clinic),
        "current": current,
        "example_label": content.EXAMPLE_LABEL,
    }
    return render(request, "consent/templates.html", context, status=400 if form.errors else 200)


def _to_chart(request: StaffRequest, signature: ConsentSignature) -> HttpResponseBase:
    return redirect("patients:chart", clinic=request.clinic.slug, patient_id=signature.patient.public_id)


@staff_view()
def witness(request: StaffRequest, patient_id: uuid.UUID, signature_id: uuid.UUID) -> HttpResponseBase:
    signature = selectors.staff_signature(
        member=request.membership,
        patient_id=patient_id,
        signature_id=signature_id,
        action=Action.DEMOGRAPHICS_VIEW,
    )
    if request.method != "POST":  # after the access check: those refused learn nothing more
        return HttpResponseNotAllowed(["POST"])
    try:
        services.consent_witness(member=request.membership, signature=signature)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("You are recorded as the witness of this consent."))
    return _to_chart(request, signature)


@staff_view()
def withdraw(request: StaffRequest, patient_id: uuid.UUID, signature_id: uuid.UUID) -> HttpResponseBase:
    signature = selectors.staff_signature(
        member=request.membership,
        patient_id=patient_id,
        signature_id=signature_id,
        action=Action.CLINICAL_EDIT,
    )
    if request.method != "POST":  # after the access check: those refused learn nothing more
        return HttpResponseNotAllowed(["POST"])
    form = StaffWithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("Say how and when the patient withdrew their consent (up to 1000 characters).")
        )
        return _to_chart(request, signature)
    try:
        services.consent_withdraw(
            signature=signature,
            reason=form.cleaned_data["reason"],
            user=request.user,
            member=request.membership,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("The withdrawal is recorded. No further dosing until the patient consents again.")
        )
    return _to_chart(request, signature)


def pdf_response(
    request: HttpRequest, signature: ConsentSignature, unavailable_template: str
) -> HttpResponseBase:
    """The stored PDF, or 503 when this server could not render it."""
    if signature.pdf is None:
        context = {"message": _("PDF rendering is unavailable on this server (install libpango).")}
        return render(request, unavailable_template, context, status=PDF_UNAVAILABLE_STATUS)
    response = HttpResponse(bytes(signature.pdf), content_type="application/pdf")
    filename = f"consent-v{signature.template.version}-{signature.signed_at:%Y%m%d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@staff_view()
def signature_pdf(request: StaffRequest, patient_id: uuid.UUID, signature_id: uuid.UUID) -> HttpResponseBase:
    signature = selectors.staff_signature(
        member=request.membership,
        patient_id=patient_id,
        signature_id=signature_id,
        action=Action.DEMOGRAPHICS_VIEW,
    )
    if request.method not in ("GET", "HEAD"):  # after the access check
        return HttpResponseNotAllowed(["GET"])
    selectors.pdf_read(user=request.user, signature=signature, by_patient=False)
    return pdf_response(request, signature, "consent/pdf_unavailable.html")
