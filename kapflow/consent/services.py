"""Writes of informed consent: publishing a template version, signing, witnessing, withdrawing.

Each write checks who may make it, saves and audits in one transaction. Consent events on a
patient are logged as ``DataCategory.CLINICAL`` (the consent is part of the clinical record);
publishing a template is clinic configuration (``DataCategory.CLINIC``).
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kapflow.accounts.models import Membership, User
from kapflow.consent import pdf
from kapflow.consent.models import (
    BODY_MAX_LENGTH,
    REASON_MAX_LENGTH,
    ConsentSignature,
    ConsentTemplate,
    ConsentWithdrawal,
    ConsentWitness,
)
from kapflow.consent.selectors import current_template, latest_signature
from kapflow.core import audit
from kapflow.core.access import require
from kapflow.core.errors import ApplicationError, Conflict
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.patients.models import Patient
from kapflow.portal.models import PortalAccount


class OutdatedTemplate(Conflict):
    """The patient read a version that is no longer the clinic's current one."""


class NameMismatch(ApplicationError):
    """The typed name is not the patient's legal name."""


class NotConfirmed(ApplicationError):
    """The patient did not confirm having read and understood the form."""


def outdated_message() -> str:
    return _("This consent form has been updated; please read the new version.")


def template_publish(*, member: Membership, title: str, body: str) -> ConsentTemplate:
    """A new version of the clinic's consent text; patients who signed an older one are asked again."""
    require(member, Action.CLINIC_CONFIGURE)
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise ApplicationError(_("Give the consent form a title and a text."))
    if len(title) > 200 or len(body) > BODY_MAX_LENGTH:
        raise ApplicationError(
            _("The title may have up to 200 characters and the text up to %(max)d.")
            % {"max": BODY_MAX_LENGTH}
        )
    try:
        with transaction.atomic():
            last = ConsentTemplate.objects.filter(clinic=member.clinic).aggregate(v=Max("version"))["v"]
            template = ConsentTemplate.objects.create(
                clinic=member.clinic,
                version=(last or 0) + 1,
                title=title,
                body=body,
                created_by=member.user,
            )
            audit.record(
                user=member.user,
                clinic=member.clinic,
                action=AuditAction.CREATE,
                category=DataCategory.CLINIC,
                detail=f"consent template v{template.version} published",
            )
    except IntegrityError:
        raise Conflict(
            _("Someone published another version at the same moment. Reload the page and try again.")
        ) from None
    return template


def normalised_name(name: str) -> str:
    """Case-insensitive, with runs of whitespace collapsed: how a typed name is compared."""
    return " ".join(name.split()).casefold()


def _portal_account_of(user: User, patient: Patient) -> PortalAccount:
    account = PortalAccount.objects.filter(user=user, patient=patient, is_active=True).first()
    if account is None:
        raise PermissionDenied("Only the patient may do this in the portal.")
    return account


def consent_sign(
    *, user: User, patient: Patient, template: ConsentTemplate, typed_name: str, confirmed: bool
) -> ConsentSignature:
    """The patient signs ``template`` in the portal; the signed form is rendered to PDF and kept."""
    _portal_account_of(user, patient)
    current = current_template(patient.clinic)
    if current is None or template.pk != current.pk:
        raise OutdatedTemplate(outdated_message())
    if not confirmed:
        raise NotConfirmed(_("Please confirm that you have read and understood the consent form."))
    if normalised_name(typed_name) != normalised_name(patient.legal_name):
        raise NameMismatch(
            _(
                "The name you typed does not match our records. Type your full legal name as the clinic has it."
            )
        )
    with transaction.atomic():
        Patient.objects.select_for_update().filter(pk=patient.pk).first()  # one signing at a time
        latest = latest_signature(patient)
        if latest is not None and latest.template_id == template.pk and not hasattr(latest, "withdrawal"):
            raise Conflict(_("You have already signed this version of the consent form."))
        signed_at = timezone.now()
        clinic = patient.clinic
        rendered = pdf.render(
            pdf.SignedConsent(
                clinic_name=clinic.name,
                title=template.title,
                body=template.body,
                version=template.version,
                legal_name=patient.legal_name,
                date_of_birth=patient.date_of_birth,
                typed_name=" ".join(typed_name.split()),
                signed_at=signed_at,
                time_zone=clinic.tzinfo,
            )
        )
        signature = ConsentSignature.objects.create(
            clinic=clinic,
            patient=patient,
            template=template,
            typed_name=" ".join(typed_name.split()),
            confirmed=True,
            signed_at=signed_at,
            pdf=rendered,
            pdf_sha256=hashlib.sha256(rendered).hexdigest() if rendered is not None else "",
            created_by=user,
            updated_by=user,
        )
        audit.record(
            user=user,
            clinic=clinic,
            patient=patient,
            action=AuditAction.CREATE,
            category=DataCategory.CLINICAL,
            detail=f"consent v{template.version} signed in the portal",
        )
    return signature


def consent_witness(*, member: Membership, signature: ConsentSignature) -> ConsentWitness:
    """A staff member who may see the patient records that they witnessed the signature."""
    require(member, Action.DEMOGRAPHICS_VIEW, signature.patient)
    if hasattr(signature, "withdrawal"):
        raise ApplicationError(_("This consent has been withdrawn; it can no longer be witnessed."))
    try:
        with transaction.atomic():
            witness = ConsentWitness.objects.create(
                signature=signature, witness=member.user, witnessed_at=timezone.now()
            )
            audit.record(
                user=member.user,
                clinic=member.clinic,
                patient=signature.patient,
                action=AuditAction.CREATE,
                category=DataCategory.CLINICAL,
                detail=f"consent v{signature.template.version} witnessed",
            )
    except IntegrityError:
        raise Conflict(_("This consent has already been witnessed.")) from None
    return witness


def consent_withdraw(
    *, signature: ConsentSignature, reason: str, user: User, member: Membership | None = None
) -> ConsentWithdrawal:
    """The patient withdraws (``member`` None: in the portal), or a clinician on the care team
    records that the patient withdrew. No further dosing until the patient consents again."""
    patient = signature.patient
    if member is not None:
        require(member, Action.CLINICAL_EDIT, patient)
        user = member.user
        if not reason.strip():
            raise ApplicationError(_("Say how and when the patient withdrew their consent."))
    else:
        _portal_account_of(user, patient)
    if len(reason) > REASON_MAX_LENGTH:
        raise ApplicationError(
            _("The reason may have up to %(max)d characters.") % {"max": REASON_MAX_LENGTH}
        )
    try:
        with transaction.atomic():
            withdrawal = ConsentWithdrawal.objects.create(
                signature=signature,
                withdrawn_at=timezone.now(),
                reason=reason.strip(),
                recorded_by=user,
                by_patient=member is None,
            )
            audit.record(
                user=user,
                clinic=patient.clinic,
                patient=patient,
                action=AuditAction.UPDATE,
                category=DataCategory.CLINICAL,
                detail=f"consent v{signature.template.version} withdrawn"
                + (" in the portal" if member is None else " (recorded by staff)"),
            )
    except IntegrityError:
        raise Conflict(_("This consent has already been withdrawn.")) from None
    return withdrawal
