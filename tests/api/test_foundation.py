"""The API's shared behaviour: tokens and scopes, problem+json errors, ETag/If-Match, paging."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings

from kapflow.api.models import ApiToken
from kapflow.api.tokens import token_revoke
from kapflow.dosing.models import Administration
from tests.api.helpers import api, token_for
from tests.dosing.helpers import checked_in, make_lot, make_ready

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


def test_tokens_are_stored_hashed_and_shown_once(world):
    secret = token_for(world.therapist)
    token = ApiToken.objects.get(user=world.therapist.user)
    assert secret not in (token.digest, token.prefix) and token.digest != secret
    assert secret.startswith(token.prefix)


def test_no_or_a_bad_token_is_401_problem_json(world):
    for client in (api(), api()):
        response = client.get("/api/v1/patients/")
        assert response.status_code == 401
        assert response["Content-Type"] == PROBLEM
    client = api()
    client.credentials(HTTP_AUTHORIZATION="Bearer kf_nonsense")
    response = client.get("/api/v1/patients/")
    assert response.status_code == 401 and response.json()["status"] == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_stops_working(world):
    client = api(world.therapist)
    assert client.get("/api/v1/patients/").status_code == 200
    token_revoke(user=world.therapist.user, token=ApiToken.objects.get(user=world.therapist.user))
    assert client.get("/api/v1/patients/").status_code == 401


def test_a_token_of_someone_who_left_stops_working(world):
    client = api(world.therapist)
    world.therapist.is_active = False
    world.therapist.save()
    assert client.get("/api/v1/patients/").status_code == 401


def test_a_read_only_token_cannot_write(world):
    response = api(world.frontdesk, read_only=True).post(
        "/api/v1/patients/",
        {"legal_given_name": "A", "legal_family_name": "B", "date_of_birth": "1990-01-01"},
        format="json",
    )
    assert response.status_code == 403 and response["Content-Type"] == PROBLEM
    assert "read-only" in response.json()["detail"]


def test_unknown_and_protected_fields_are_named(world):
    client = api(world.frontdesk)
    response = client.post(
        "/api/v1/patients/",
        {
            "legal_given_name": "A",
            "legal_family_name": "B",
            "date_of_birth": "1990-01-01",
            "colour": "red",
            "version": 9,
        },
        format="json",
    )
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"colour", "version"}


def test_malformed_json_and_wrong_types_are_400(world):
    client = api(world.frontdesk)
    response = client.post("/api/v1/patients/", "{not json", content_type="application/json")
    assert response.status_code == 400 and response["Content-Type"] == PROBLEM
    response = client.post("/api/v1/patients/", [1, 2], format="json")
    assert response.status_code == 400
    response = client.post(
        "/api/v1/patients/",
        {"legal_given_name": 7, "legal_family_name": [], "date_of_birth": "soon"},
        format="json",
    )
    assert response.status_code == 400
    assert {"legal_family_name", "date_of_birth"} <= {e["field"] for e in response.json()["errors"]}


def test_a_10_mb_body_is_413_and_nothing_is_saved(world):
    before = world.demo.__class__.objects.count()
    body = '{"legal_given_name": "' + "x" * (10 * 1024 * 1024) + '"}'
    response = api(world.frontdesk).post("/api/v1/patients/", body, content_type="application/json")
    assert response.status_code == 413 and response["Content-Type"] == PROBLEM
    assert world.demo.__class__.objects.count() == before


def test_etag_and_if_match(world):
    client = api(world.frontdesk)
    path = f"/api/v1/patients/{world.patient.public_id}/"
    read = client.get(path)
    etag = read["ETag"]
    assert client.patch(path, {"pronouns": "they/them"}, format="json").status_code == 428
    changed = client.patch(path, {"pronouns": "they/them"}, format="json", HTTP_IF_MATCH=etag)
    assert changed.status_code == 200 and changed.json()["pronouns"] == "they/them"
    assert changed["ETag"] != etag
    stale = client.patch(path, {"pronouns": "she/her"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412 and stale["Content-Type"] == PROBLEM
    world.patient.refresh_from_db()
    assert world.patient.pronouns == "they/them"


def test_another_clinics_record_is_404(world):
    response = api(world.other_admin).get(f"/api/v1/patients/{world.patient.public_id}/")
    assert response.status_code == 404 and response["Content-Type"] == PROBLEM


@override_settings(KAPFLOW_API_RATE_LIMIT=3)
def test_requests_are_limited_per_token(world):
    from django.core.cache import cache

    cache.clear()
    client = api(world.frontdesk)
    statuses = [client.get("/api/v1/patients/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert api(world.admin).get("/api/v1/patients/").status_code == 200  # another token, its own budget
    cache.clear()


def test_a_therapists_token_cannot_record_a_dose_and_a_nurses_can(world, client):
    course = make_ready(world)
    make_lot(world)
    session = checked_in(world, course)
    path = f"/api/v1/dosing-sessions/{session.public_id}/"
    body = {"dose_mg": "200", "lot_number": "LOT-A1"}

    therapist = api(world.therapist)
    etag = therapist.get(path)["ETag"]
    refused = therapist.post(path + "administrations/", body, format="json", HTTP_IF_MATCH=etag)
    assert refused.status_code == 403 and refused["Content-Type"] == PROBLEM
    assert not Administration.objects.exists()

    nurse = api(world.prescriber)
    done = nurse.post(path + "administrations/", body, format="json", HTTP_IF_MATCH=etag)
    assert done.status_code == 201, done.json()
    assert Decimal(done.json()["dose_mg"]) == Decimal("200")
    again = nurse.post(path + "administrations/", body, format="json", HTTP_IF_MATCH=etag)
    assert again.status_code == 412  # the same ETag cannot record a second dose
    assert Administration.objects.count() == 1


def test_a_patient_without_an_email_is_answered_as_the_schema_declares(world):
    """Found by the fuzzing as the front desk: a record with no email answered ``"email": ""``,
    which the schema (``format: email``) did not allow."""
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

    from tests.api.rest_helpers import schema

    body = {
        "legal_given_name": "Casey",
        "legal_family_name": "Lee",
        "date_of_birth": "1990-05-05",
        "sex_at_birth": "female",
    }
    made = api(world.frontdesk).post("/api/v1/patients/", body, format="json")
    assert made.status_code == 201 and made.json()["email"] == ""
    record = {"$ref": "#/components/schemas/PatientOut", "components": schema()["components"]}
    validator = Draft202012Validator(record, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert list(validator.iter_errors(made.json())) == []
    assert list(validator.iter_errors({**made.json(), "email": "not an email"})) != []
