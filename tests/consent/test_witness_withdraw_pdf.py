"""Witnessing, withdrawing and the signed PDF: each its own row, logged, and access-checked."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from kapflow.accounts.models import User
from kapflow.consent import services
from kapflow.consent.models import ConsentSignature, ConsentWithdrawal, ConsentWitness
from kapflow.consent.selectors import consent_facts
from kapflow.core.errors import ApplicationError, Conflict
from kapflow.core.models import AccessLogEntry, AuditAction
from kapflow.patients.services import patient_create
from kapflow.portal.models import PortalAccount
from kapflow.screening.gate import ConsentFacts
from tests.conftest import PASSWORD
from tests.consent.conftest import publish, sign


def chart(world) -> str:
    return reverse("patients:chart", kwargs={"clinic": "demo", "patient_id": world.patient.public_id})


def staff_url(name: str, signature: ConsentSignature, clinic: str = "demo") -> str:
    kwargs = {
        "clinic": clinic,
        "patient_id": signature.patient.public_id,
        "signature_id": signature.public_id,
    }
    return reverse(f"consent:{name}", kwargs=kwargs)


def test_a_staff_member_is_recorded_as_witness_with_the_time(world, portal_user, login):
    signature = sign(world, portal_user)
    response = login(world.nurse).post(staff_url("witness", signature))
    assert response.status_code == 302
    witness = ConsentWitness.objects.get(signature=signature)
    assert witness.witness == world.nurse.user and witness.witnessed_at is not None
    page = login(world.frontdesk).get(chart(world)).content.decode()
    assert "Witnessed by Nico Nurse" in page


def test_a_signature_is_witnessed_once(world, portal_user):
    signature = sign(world, portal_user)
    services.consent_witness(member=world.nurse, signature=signature)
    with pytest.raises(Conflict):
        services.consent_witness(member=world.admin, signature=signature)


def test_another_clinics_staff_cannot_witness(world, portal_user, login):
    signature = sign(world, portal_user)
    assert login(world.other_admin).post(staff_url("witness", signature, clinic="other")).status_code == 404
    assert not ConsentWitness.objects.exists()


def test_the_patient_withdraws_in_the_portal_and_the_facts_say_withdrawn(world, portal_user, patient_client):
    signature = sign(world, portal_user)
    url = reverse("portal_consent:withdraw", kwargs={"signature_id": signature.public_id})
    page = patient_client.post(url, {"reason": "Changed my mind"}, follow=True).content.decode()
    assert "No further dosing sessions will go ahead" in page and "contact the" in page
    withdrawal = ConsentWithdrawal.objects.get()
    assert (
        withdrawal.by_patient
        and withdrawal.reason == "Changed my mind"
        and withdrawal.recorded_by == portal_user
    )
    assert consent_facts(world.patient) == ConsentFacts(signed_version=1, current_version=1, withdrawn=True)
    assert AccessLogEntry.objects.filter(detail="consent v1 withdrawn in the portal").exists()
    assert "You withdrew your consent" in patient_client.get(reverse("portal_consent:sign")).content.decode()


def test_a_withdrawal_is_recorded_once(world, portal_user):
    signature = sign(world, portal_user)
    services.consent_withdraw(signature=signature, reason="", user=portal_user)
    with pytest.raises(Conflict):
        services.consent_withdraw(signature=signature, reason="", user=portal_user)


def test_a_clinician_on_the_care_team_records_a_withdrawal_with_a_reason(world, portal_user, login):
    signature = sign(world, portal_user)
    with pytest.raises(ApplicationError):
        services.consent_withdraw(
            signature=signature, reason=" ", user=world.therapist.user, member=world.therapist
        )
    response = login(world.therapist).post(staff_url("withdraw", signature), {"reason": "Phoned on Monday"})
    assert response.status_code == 302
    withdrawal = ConsentWithdrawal.objects.get()
    assert not withdrawal.by_patient and withdrawal.recorded_by == world.therapist.user
    page = login(world.frontdesk).get(chart(world)).content.decode()
    assert "withdrawn" in page and "Phoned on Monday" in page


def test_the_nurse_off_the_care_team_may_not_record_a_withdrawal(world, portal_user):
    signature = sign(world, portal_user)
    with pytest.raises(PermissionDenied):
        services.consent_withdraw(signature=signature, reason="x", user=world.nurse.user, member=world.nurse)
    assert not ConsentWithdrawal.objects.exists()


def test_a_pdf_download_by_staff_is_logged_as_a_print(world, portal_user, login):
    signature = sign(world, portal_user)
    response = login(world.frontdesk).get(staff_url("pdf", signature))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert bytes(response.content).startswith(b"%PDF")
    assert AccessLogEntry.objects.filter(
        user=world.frontdesk.user, patient=world.patient, action=AuditAction.PRINT, detail__contains="PDF"
    ).exists()


def test_another_clinics_admin_gets_404_for_the_pdf_and_the_attempt_is_logged(world, portal_user, login):
    signature = sign(world, portal_user)
    assert login(world.other_admin).get(staff_url("pdf", signature, clinic="other")).status_code == 404
    assert AccessLogEntry.objects.filter(user=world.other_admin.user, outcome="denied").exists()


def test_another_patients_signature_is_404_in_the_portal(world, portal_user, login):
    template = publish(world)
    casey = patient_create(
        member=world.frontdesk,
        data={"legal_given_name": "Casey", "legal_family_name": "Lee", "date_of_birth": "1990-05-05"},
    )
    casey_user = User.objects.create_user("casey@example.org", PASSWORD, full_name="Casey Lee")
    PortalAccount.objects.create(user=casey_user, patient=casey, clinic=world.demo)
    theirs = services.consent_sign(
        user=casey_user, patient=casey, template=template, typed_name="Casey Lee", confirmed=True
    )
    client = login(world.admin)
    client.force_login(portal_user)
    assert (
        client.get(reverse("portal_consent:pdf", kwargs={"signature_id": theirs.public_id})).status_code
        == 404
    )
    url = reverse("portal_consent:withdraw", kwargs={"signature_id": theirs.public_id})
    assert client.post(url, {"reason": ""}).status_code == 404
    assert not ConsentWithdrawal.objects.exists()


def test_the_chart_card_shows_each_state(world, portal_user, login):
    client = login(world.frontdesk)
    assert "not published a consent form" in client.get(chart(world)).content.decode()
    template = publish(world)
    assert "has not signed the consent form (version 1)" in client.get(chart(world)).content.decode()
    sign(world, portal_user, template)
    page = client.get(chart(world)).content.decode()
    assert "Signed version 1 on" in page and "by Jordan Rivera" in page
    publish(world, body="Two")
    page = client.get(chart(world)).content.decode()
    assert "Signed version 1 on" in page and "the current version is 2" in page
