"""Demo consent: the example form published as version 1, signed by Jordan Rivera (DEMO-0001)
in the portal and witnessed by the nurse."""

from __future__ import annotations

from kapflow.accounts.models import Membership
from kapflow.consent import content, services
from kapflow.consent.models import ConsentSignature, ConsentWitness
from kapflow.consent.selectors import current_template
from kapflow.core.roles import Role
from kapflow.patients.models import Patient
from kapflow.portal.models import PortalAccount

SIGNER = ("DEMO-0001", "Jordan Rivera")


def load(admin_membership: Membership) -> None:
    """Idempotent: publishes and signs only what is not there yet."""
    clinic = admin_membership.clinic
    template = current_template(clinic)
    if template is None:
        template = services.template_publish(
            member=admin_membership, title=str(content.EXAMPLE_TITLE), body=str(content.EXAMPLE_BODY)
        )
    record_number, typed_name = SIGNER
    patient = Patient.objects.filter(clinic=clinic, record_number=record_number).first()
    account = PortalAccount.objects.filter(patient=patient, is_active=True).first() if patient else None
    if patient is None or account is None:
        return
    signature = ConsentSignature.objects.filter(patient=patient, template=template).first()
    if signature is None:
        signature = services.consent_sign(
            user=account.user, patient=patient, template=template, typed_name=typed_name, confirmed=True
        )
    nurse = Membership.objects.filter(clinic=clinic, role=Role.NURSE, is_active=True).first()
    if nurse is not None and not ConsentWitness.objects.filter(signature=signature).exists():
        services.consent_witness(member=nurse, signature=signature)
