"""The patient signs the current consent form in the portal; bad signatures save nothing."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from kapflow.consent import services
from kapflow.consent.models import ConsentSignature
from kapflow.consent.selectors import consent_facts, consent_status
from kapflow.core.errors import Conflict
from kapflow.core.models import AccessLogEntry
from kapflow.screening.gate import ConsentFacts
from tests.consent.conftest import publish, sign
from tests.html import field_error, field_value

SIGN = reverse("portal_consent:sign")


def test_a_patient_signs_and_the_pdf_names_them_with_the_version_and_clinic(world, portal_user):
    signature = sign(world, portal_user)
    assert signature.typed_name == "Jordan Rivera"
    assert signature.confirmed
    assert signature.pdf is not None
    pdf = bytes(signature.pdf)
    assert pdf.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ("Jordan Rivera", "1986-04-12", "Demo KAP Clinic", "Raised blood pressure", "Version 1"):
        assert expected in text
    assert len(signature.pdf_sha256) == 64
    assert AccessLogEntry.objects.filter(
        patient=world.patient, detail="consent v1 signed in the portal"
    ).exists()


def test_the_name_is_compared_ignoring_case_and_extra_spaces(world, portal_user):
    signature = services.consent_sign(
        user=portal_user,
        patient=world.patient,
        template=publish(world),
        typed_name="  jordan   RIVERA ",
        confirmed=True,
    )
    assert signature.typed_name == "jordan RIVERA"


def test_a_name_that_does_not_match_is_refused_and_nothing_is_saved(world, portal_user):
    with pytest.raises(services.NameMismatch) as refused:
        services.consent_sign(
            user=portal_user,
            patient=world.patient,
            template=publish(world),
            typed_name="Jo Rivera",
            confirmed=True,
        )
    assert "full legal name as the clinic has it" in refused.value.message
    assert "Jordan" not in refused.value.message
    assert not ConsentSignature.objects.exists()


def test_signing_without_confirming_is_refused(world, portal_user):
    with pytest.raises(services.NotConfirmed):
        services.consent_sign(
            user=portal_user,
            patient=world.patient,
            template=publish(world),
            typed_name="Jordan Rivera",
            confirmed=False,
        )
    assert not ConsentSignature.objects.exists()


def test_signing_an_outdated_version_is_refused(world, portal_user):
    old = publish(world)
    publish(world, body="A newer text.")
    with pytest.raises(services.OutdatedTemplate) as refused:
        sign(world, portal_user, old)
    assert refused.value.message == "This consent form has been updated; please read the new version."
    assert not ConsentSignature.objects.exists()


def test_signing_the_same_version_twice_is_refused(world, portal_user):
    template = publish(world)
    sign(world, portal_user, template)
    with pytest.raises(Conflict):
        sign(world, portal_user, template)
    assert ConsentSignature.objects.count() == 1


def test_only_the_patient_themselves_may_sign(world, portal_user):
    with pytest.raises(Exception, match="Only the patient"):
        services.consent_sign(
            user=world.therapist.user,
            patient=world.patient,
            template=publish(world),
            typed_name="Jordan Rivera",
            confirmed=True,
        )


def test_a_signature_row_cannot_be_changed(world, portal_user):
    signature = sign(world, portal_user)
    signature.typed_name = "Someone Else"
    with pytest.raises(TypeError):
        signature.save()
    with pytest.raises(TypeError):
        signature.delete()


def test_facts_are_none_before_signing_then_current_then_outdated(world, portal_user):
    assert consent_facts(world.patient) is None
    sign(world, portal_user)
    assert consent_facts(world.patient) == ConsentFacts(signed_version=1, current_version=1, withdrawn=False)
    publish(world, body="Version two.")
    assert consent_facts(world.patient) == ConsentFacts(signed_version=1, current_version=2, withdrawn=False)
    assert consent_status(world.patient).state == "outdated"


def test_without_pango_the_signature_is_kept_without_a_pdf(world, portal_user, monkeypatch, patient_client):
    from kapflow.consent import pdf

    monkeypatch.setattr(pdf, "_weasyprint", lambda: None)
    signature = sign(world, portal_user)
    assert signature.pdf is None and signature.pdf_sha256 == ""
    response = patient_client.get(reverse("portal_consent:pdf", kwargs={"signature_id": signature.public_id}))
    assert response.status_code == 503
    assert "PDF rendering is unavailable on this server (install libpango)" in response.content.decode()


# --- the portal page -------------------------------------------------------------------------
def test_the_patient_reads_the_form_and_signs_it_in_the_portal(world, patient_client):
    publish(world)
    page = patient_client.get(SIGN).content.decode()
    assert "Raised blood pressure." in page and "<h2>Risks</h2>" in page
    response = patient_client.post(
        SIGN, {"version": "1", "typed_name": "Jordan Rivera", "confirmed": "on"}, follow=True
    )
    page = response.content.decode()
    assert "Your consent is signed" in page
    signature = ConsentSignature.objects.get()
    assert reverse("portal_consent:pdf", kwargs={"signature_id": signature.public_id}) in page
    assert "Withdraw my consent" in page


def test_a_wrong_name_in_the_portal_shows_the_error_by_the_field_and_keeps_the_typing(world, patient_client):
    publish(world)
    response = patient_client.post(SIGN, {"version": "1", "typed_name": "Jo R", "confirmed": "on"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "full legal name as the clinic has it" in field_error(page, "typed_name")
    assert field_value(page, "typed_name") == "Jo R"
    assert not ConsentSignature.objects.exists()


def test_an_unticked_confirmation_in_the_portal_is_refused(world, patient_client):
    publish(world)
    response = patient_client.post(SIGN, {"version": "1", "typed_name": "Jordan Rivera"})
    assert response.status_code == 400
    assert "Please confirm" in field_error(response.content.decode(), "confirmed")
    assert not ConsentSignature.objects.exists()


def test_a_form_read_before_a_new_version_was_published_is_refused_and_the_new_text_shown(
    world, patient_client
):
    publish(world)
    publish(world, body="## New\nThe second version.")
    response = patient_client.post(SIGN, {"version": "1", "typed_name": "Jordan Rivera", "confirmed": "on"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "This consent form has been updated; please read the new version." in page
    assert "The second version." in page
    assert field_value(page, "version") == "2"
    assert field_value(page, "typed_name") == "Jordan Rivera"
    assert not ConsentSignature.objects.exists()


def test_a_nonsense_version_is_a_400_not_a_500(world, patient_client):
    publish(world)
    response = patient_client.post(SIGN, {"version": "abc", "typed_name": "Jordan Rivera", "confirmed": "on"})
    assert response.status_code == 400


def test_after_a_new_version_the_portal_asks_to_consent_again(world, portal_user, patient_client):
    sign(world, portal_user)
    publish(world, body="Version two.")
    page = patient_client.get(SIGN).content.decode()
    assert "sign it again" in page
    home = patient_client.get(reverse("portal:home")).content.decode()
    assert "Read and sign your consent form." in home


def test_the_portal_home_asks_to_sign_only_while_there_is_something_to_sign(
    world, portal_user, patient_client
):
    home = reverse("portal:home")
    assert "Read and sign your consent form." not in patient_client.get(home).content.decode()
    template = publish(world)
    page = patient_client.get(home).content.decode()
    assert "Read and sign your consent form." in page and SIGN in page
    sign(world, portal_user, template)
    assert "Read and sign your consent form." not in patient_client.get(home).content.decode()


def test_no_published_form_says_so(world, patient_client):
    assert "has not published its consent form yet" in patient_client.get(SIGN).content.decode()
