"""Personal API tokens in the profile: a staff member makes one (its secret shown once), uses
it as a Bearer token, and revokes it; and ``kapflow token create`` on the command line."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from kapflow import cli
from kapflow.accounts.models import Membership
from kapflow.api.models import ApiToken
from kapflow.core.roles import Role
from kapflow.patients.models import Patient
from tests.html import field_error

pytestmark = pytest.mark.django_db

TOKENS = reverse("accounts:api_tokens")
NEW = reverse("accounts:api_token_create")
SECRET = re.compile(r'<input[^>]*id="token-secret"[^>]*value="(kf_[^"]+)"')
NEW_PATIENT = {
    "legal_given_name": "Casey",
    "legal_family_name": "Lee",
    "date_of_birth": "1990-05-05",
    "sex_at_birth": "female",
}


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def make_token(client, name: str = "Billing export", scope: str = "read-write") -> str:
    """Fill in the form; the page that answers shows the secret (returned)."""
    response = client.post(NEW, {"name": name, "scope": scope, "clinic": "demo"})
    assert response.status_code == 200
    found = SECRET.search(response.content.decode())
    assert found is not None, "the new token's secret is shown in a read-only field"
    return found.group(1)


def test_a_new_token_is_shown_once_and_works_as_a_bearer_token(world, login):
    client = login(world.frontdesk)
    form = client.get(NEW).content.decode()
    assert re.search(r'<input type="radio" name="scope" value="read"[^>]*checked', form), (
        "read only by default"
    )

    response = client.post(NEW, {"name": "Billing export", "scope": "read-write", "clinic": "demo"})
    page = response.content.decode()
    secret = SECRET.search(page).group(1)  # type: ignore[union-attr]
    assert "shown only this once" in page
    assert "no-store" in response["Cache-Control"]
    assert re.search(r'<input[^>]*id="token-secret"[^>]*\breadonly\b', page)

    token = ApiToken.objects.get(user=world.frontdesk.user)
    assert (token.name, token.read_only, token.membership) == ("Billing export", False, world.frontdesk)
    assert secret not in (token.digest, token.prefix)

    listing = client.get(TOKENS).content.decode()
    detail = client.get(reverse("accounts:api_token", kwargs={"token_id": token.public_id})).content.decode()
    for later in (listing, detail):
        assert "Billing export" in later and f"{token.prefix}…" in later
        assert secret not in later, "the secret is shown once, never again"

    api = bearer(secret)
    assert api.get("/api/v1/patients/").status_code == 200
    created = api.post("/api/v1/patients/", NEW_PATIENT, format="json")
    assert created.status_code == 201 and Patient.objects.filter(legal_given_name="Casey").exists()
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert "never" not in client.get(TOKENS).content.decode().split("Billing export", 1)[1].split("</tr>")[0]


def test_a_read_only_token_reads_but_is_refused_a_write(world, login):
    secret = make_token(login(world.frontdesk), scope="read")
    assert ApiToken.objects.get().read_only
    api = bearer(secret)
    assert api.get("/api/v1/patients/").status_code == 200
    refused = api.post("/api/v1/patients/", NEW_PATIENT, format="json")
    assert refused.status_code == 403 and refused["Content-Type"] == "application/problem+json"
    assert not Patient.objects.filter(legal_given_name="Casey").exists()


def test_revoking_asks_first_then_the_token_stops_working(world, login):
    client = login(world.therapist)
    secret = make_token(client, name="Research sync")
    token = ApiToken.objects.get()
    revoke = reverse("accounts:api_token_revoke", kwargs={"token_id": token.public_id})
    assert bearer(secret).get("/api/v1/patients/").status_code == 200

    confirm = client.get(revoke)
    assert confirm.status_code == 200 and "Revoke “Research sync”?" in confirm.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None, "opening the confirmation revokes nothing"

    response = client.post(revoke)
    assert response.status_code == 302 and response["Location"] == TOKENS
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert bearer(secret).get("/api/v1/patients/").status_code == 401
    listing = client.get(TOKENS).content.decode()
    assert "revoked: it no longer works" in listing and "revoked 20" in listing


def test_another_persons_token_cannot_be_seen_or_revoked(world, login):
    secret = make_token(login(world.therapist))
    token = ApiToken.objects.get()
    client = login(world.admin)  # the clinic admin of the same clinic
    for name in ("accounts:api_token", "accounts:api_token_revoke"):
        path = reverse(name, kwargs={"token_id": token.public_id})
        assert client.get(path).status_code == 404
        assert client.post(path).status_code == 404
    assert token.prefix not in client.get(TOKENS).content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None
    assert bearer(secret).get("/api/v1/patients/").status_code == 200


def test_a_person_at_several_clinics_chooses_the_tokens_clinic(world, login):
    Membership.objects.create(user=world.therapist.user, clinic=world.other, role=Role.THERAPIST)
    client = login(world.therapist)
    form = client.get(NEW).content.decode()
    assert '<select name="clinic"' in form and "Other KAP Clinic (Therapist)" in form

    response = client.post(NEW, {"name": "Elsewhere", "scope": "read", "clinic": "other"})
    assert response.status_code == 200
    token = ApiToken.objects.get()
    assert token.membership.clinic == world.other
    secret = SECRET.search(response.content.decode()).group(1)  # type: ignore[union-attr]
    api = bearer(secret)
    assert api.get(f"/api/v1/patients/{world.patient.public_id}/").status_code == 404  # Demo's patient


def test_a_bad_form_keeps_what_was_typed_and_saves_nothing(world, login):
    client = login(world.therapist)
    response = client.post(NEW, {"name": "  ", "scope": "everything", "clinic": "other"})
    assert response.status_code == 400
    page = response.content.decode()
    assert field_error(page, "name") and field_error(page, "scope")
    assert not ApiToken.objects.exists()


def test_a_patient_gets_404_and_an_anonymous_visitor_is_sent_to_sign_in(world, portal_user, client):
    token_path = reverse("accounts:api_token", kwargs={"token_id": "00000000-0000-0000-0000-000000000000"})
    paths = [TOKENS, NEW, token_path]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith(
            reverse("accounts:login") + "?next="
        )
    client.force_login(portal_user)
    for path in paths:
        assert client.get(path).status_code == 404
    assert client.post(NEW, {"name": "Mine", "scope": "read-write", "clinic": "demo"}).status_code == 404
    assert not ApiToken.objects.exists()
    assert "API tokens" not in client.get(reverse("portal:home")).content.decode()


def test_the_profile_menu_and_the_tokens_page_lead_to_the_api_documentation(world, login):
    client = login(world.nurse)
    home = client.get(reverse("clinic_home", kwargs={"clinic": "demo"})).content.decode()
    assert f'href="{TOKENS}"' in home
    assert f'href="{reverse("api:docs")}"' in client.get(TOKENS).content.decode()


# --- kapflow token create EMAIL [--read-only] ---------------------------------------------------
def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """``kapflow token …`` in-process: (exit status, stdout, stderr)."""
    try:
        with mock.patch.object(cli, "_setup"):
            cli.main(["token", *args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_command_line_prints_a_working_token(world, capsys):
    code, out, err = run_cli(capsys, "create", "priya@demo.test")
    secret = out.strip()
    assert code == 0 and secret.startswith("kf_") and "shown once" in err
    token = ApiToken.objects.get()
    assert (token.user, token.read_only) == (world.prescriber.user, False)
    assert bearer(secret).get(f"/api/v1/patients/{world.patient.public_id}/").status_code == 200


def test_the_command_line_makes_a_read_only_token(world, capsys):
    code, out, _err = run_cli(capsys, "create", "PRIYA@demo.test", "--read-only")
    assert code == 0
    api = bearer(out.strip())
    assert api.get("/api/v1/patients/").status_code == 200
    assert api.post("/api/v1/patients/", NEW_PATIENT, format="json").status_code == 403


def test_the_command_line_refuses_an_unknown_email(world, capsys):
    code, out, err = run_cli(capsys, "create", "nobody@demo.test")
    assert code != 0 and out == ""
    assert "no active user with the email nobody@demo.test" in err
    assert not ApiToken.objects.exists()
