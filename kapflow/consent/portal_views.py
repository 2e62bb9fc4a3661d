"""The patient reads and signs the consent form in the portal, downloads it, or withdraws."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kapflow.consent import selectors, services
from kapflow.consent.forms import SignForm, WithdrawForm
from kapflow.consent.models import ConsentTemplate
from kapflow.consent.views import pdf_response
from kapflow.core.errors import ApplicationError
from kapflow.portal.access import PortalRequest, portal_view


def _page(
    request: PortalRequest,
    form: SignForm | None = None,
    withdraw_form: WithdrawForm | None = None,
    status: int = 200,
) -> HttpResponseBase:
    consent = selectors.consent_status(request.patient)
    if form is None and consent.current is not None:
        form = SignForm(initial={"version": consent.current.version})
    selectors.portal_page_viewed(user=request.user, patient=request.patient)
    context = {
        "consent": consent,
        "form": form,
        "withdraw_form": withdraw_form or WithdrawForm(),
        "clinic": request.portal_clinic,
        "crisis_text": request.portal_clinic.crisis_line_text,
    }
    return render(request, "consent/portal/sign.html", context, status=status)


@portal_view
@require_http_methods(["GET", "POST"])
def sign(request: PortalRequest) -> HttpResponseBase:
    if request.method != "POST":
        return _page(request)
    form = SignForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    template = ConsentTemplate.objects.filter(
        clinic=request.portal_clinic, version=form.cleaned_data["version"]
    ).first()
    try:
        if template is None:
            raise services.OutdatedTemplate(services.outdated_message())
        services.consent_sign(
            user=request.user,
            patient=request.patient,
            template=template,
            typed_name=form.cleaned_data["typed_name"],
            confirmed=form.cleaned_data["confirmed"],
        )
    except services.OutdatedTemplate as exc:
        # They read an older text: show the new one, keeping what they typed.
        current = selectors.current_template(request.portal_clinic)
        data = request.POST.copy()
        data["version"] = str(current.version) if current is not None else data.get("version", "")
        data.pop("confirmed", None)  # confirm again, having read the new text
        form = SignForm(data)
        form.is_valid()
        form.add_error(None, exc.message)
        return _page(request, form, status=exc.status)
    except ApplicationError as exc:
        field = {services.NameMismatch: "typed_name", services.NotConfirmed: "confirmed"}.get(type(exc))
        form.add_error(field, exc.message)
        return _page(request, form, status=exc.status)
    messages.success(request, _("Thank you. Your consent is signed and a copy is kept for you below."))
    return redirect("portal_consent:sign")


@portal_view
def signature_pdf(request: PortalRequest, signature_id: uuid.UUID) -> HttpResponseBase:
    signature = selectors.own_signature(patient=request.patient, signature_id=signature_id)
    if request.method not in ("GET", "HEAD"):  # after the lookup: another's id is 404 either way
        return HttpResponseNotAllowed(["GET"])
    selectors.pdf_read(user=request.user, signature=signature, by_patient=True)
    return pdf_response(request, signature, "consent/portal/pdf_unavailable.html")


@portal_view
def withdraw(request: PortalRequest, signature_id: uuid.UUID) -> HttpResponseBase:
    signature = selectors.own_signature(patient=request.patient, signature_id=signature_id)
    if request.method != "POST":  # after the lookup: another's id is 404 either way
        return HttpResponseNotAllowed(["POST"])
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _page(request, withdraw_form=form, status=400)
    try:
        services.consent_withdraw(signature=signature, reason=form.cleaned_data["reason"], user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("portal_consent:sign")
    messages.success(
        request,
        _(
            "Your consent is withdrawn. No further dosing sessions will go ahead. Please contact the "
            "clinic to talk about what happens next."
        ),
    )
    return redirect("portal_consent:sign")
