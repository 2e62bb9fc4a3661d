"""``/fhir/``: the CapabilityStatement, read and search, as a FHIR client sees them.

Theo (therapist) and Priya (prescriber) are on Jordan's care team; Nico (nurse) is not;
Frankie (front desk) sees demographics only; Olive works at the Other clinic.
"""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from kapflow.core.models import AccessLogEntry, AuditOutcome
from kapflow.core.roles import Role
from kapflow.dosing import services as dosing
from kapflow.patients import services as patient_services
from tests.api.helpers import api
from tests.conftest import make_member
from tests.fhir.fhir_checks import LOINC, assert_valid, codes_of
from tests.fhir.read_world import MARKER, Rich, build

pytestmark = pytest.mark.django_db
FHIR_JSON = "application/fhir+json"
CLINICAL = ("EpisodeOfCare", "Encounter", "QuestionnaireResponse", "Observation", "MedicationAdministration",
            "Consent", "AdverseEvent")  # fmt: skip


@pytest.fixture
def rich(world) -> Rich:
    return build(world)


def outcome(response, status: int, code: str) -> dict:
    """The response is an OperationOutcome with this status and issue code."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(FHIR_JSON)
    body = response.json()
    assert_valid(body)
    assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["code"] == code
    return body


def ids(bundle: dict) -> list[str]:
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]


# --- metadata -----------------------------------------------------------------------------------
def test_the_capability_statement_is_public_and_lists_every_type(world):
    response = api().get("/fhir/metadata")
    assert response.status_code == 200 and response["Content-Type"].startswith(FHIR_JSON)
    statement = response.json()
    assert_valid(statement)
    assert statement["fhirVersion"] == "4.0.1"
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(resources) == {*CLINICAL, "Patient", "Questionnaire", "Group"}
    for resource in resources.values():
        assert {i["code"] for i in resource["interaction"]} == {"read", "search-type"}
    assert {p["name"] for p in resources["Observation"]["searchParam"]} == {
        "patient",
        "subject",
        "category",
        "code",
    }
    assert {p["name"] for p in resources["Patient"]["searchParam"]} == {
        "_id",
        "name",
        "birthdate",
        "identifier",
    }
    assert resources["Group"]["operation"][0]["name"] == "export"
    assert statement["rest"][0]["operation"][0]["definition"].endswith("/OperationDefinition/export")


# --- read ---------------------------------------------------------------------------------------
def test_a_clinician_reads_each_resource_with_its_etag(world, rich):
    client = api(world.prescriber)
    reads = {
        "Patient": world.patient.public_id,
        "EpisodeOfCare": rich.course.public_id,
        "Encounter": rich.session.public_id,
        "QuestionnaireResponse": rich.phq9.public_id,
        "Observation": f"{rich.vitals.public_id}-bp",
        "MedicationAdministration": rich.given.public_id,
        "Consent": rich.consent.public_id,
        "AdverseEvent": rich.event.public_id,
        "Questionnaire": "phq9-v1",
    }
    for resource_type, resource_id in reads.items():
        response = client.get(f"/fhir/{resource_type}/{resource_id}")
        assert response.status_code == 200, (resource_type, response.content)
        assert response["Content-Type"].startswith(FHIR_JSON)
        body = response.json()
        assert_valid(body)
        assert (body["resourceType"], body["id"]) == (resource_type, str(resource_id))
        if resource_type != "Questionnaire":
            assert response["ETag"] == f'W/"{body["meta"]["versionId"]}"'
    assert client.get(f"/fhir/Encounter/{rich.session.public_id}")["ETag"] == f'W/"{rich.session.version}"'


def test_a_read_is_in_the_access_log(world, rich):
    client = api(world.therapist)
    before = AccessLogEntry.objects.count()
    client.get(f"/fhir/MedicationAdministration/{rich.given.public_id}")
    entry = AccessLogEntry.objects.latest("pk")
    assert AccessLogEntry.objects.count() == before + 1
    assert (entry.patient, entry.user, entry.category, entry.outcome) == (
        world.patient, world.therapist.user, "clinical", AuditOutcome.ALLOWED
    )  # fmt: skip


def test_another_clinics_record_is_not_found_and_the_refusal_is_logged(world, rich):
    client = api(world.other_therapist)
    for path in (
        f"/fhir/MedicationAdministration/{rich.given.public_id}",
        f"/fhir/Observation/{rich.moaas.public_id}-moaas",
        f"/fhir/Patient/{world.patient.public_id}",
        f"/fhir/Observation?patient={world.patient.public_id}",
    ):
        outcome(client.get(path), 404, "not-found")
    denied = AccessLogEntry.objects.filter(user=world.other_therapist.user, outcome=AuditOutcome.DENIED)
    assert denied.count() == 4 and denied.filter(patient=world.patient).count() == 4


def test_front_desk_reads_demographics_but_no_clinical_resource(world, rich):
    client = api(world.frontdesk)
    assert client.get(f"/fhir/Patient/{world.patient.public_id}").status_code == 200
    assert client.get("/fhir/Questionnaire/phq9-v1").status_code == 200
    outcome(client.get(f"/fhir/MedicationAdministration/{rich.given.public_id}"), 403, "forbidden")
    for resource_type in CLINICAL:
        outcome(client.get(f"/fhir/{resource_type}"), 403, "forbidden")
        outcome(client.get(f"/fhir/{resource_type}?patient={world.patient.public_id}"), 403, "forbidden")
    outcome(client.get(f"/fhir/Group/cohort-{rich.course.starts_on:%Y-%m}"), 403, "forbidden")


@pytest.mark.parametrize("who", ["nurse", "tess"])
def test_a_clinician_not_on_the_care_team_is_refused_and_searches_see_nothing(world, rich, who):
    member = (
        world.nurse if who == "nurse" else make_member(world.demo, "tess@demo.test", "Tess T", Role.THERAPIST)
    )
    client = api(member)
    outcome(client.get(f"/fhir/MedicationAdministration/{rich.given.public_id}"), 403, "forbidden")
    outcome(client.get(f"/fhir/Observation/{rich.vitals.public_id}-bp"), 403, "forbidden")
    outcome(client.get(f"/fhir/Observation?patient={world.patient.public_id}"), 403, "forbidden")
    for resource_type in CLINICAL:
        bundle = client.get(f"/fhir/{resource_type}").json()
        assert (bundle["resourceType"], bundle["total"], "entry" in bundle) == ("Bundle", 0, False)
    assert client.get(f"/fhir/Patient/{world.patient.public_id}").status_code == 200  # demographics


def test_anonymous_callers_and_bad_tokens_are_401(world, rich):
    body = outcome(api().get(f"/fhir/Patient/{world.patient.public_id}"), 401, "login")
    assert body["issue"][0]["diagnostics"]
    response = api().get("/fhir/Observation")
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    client = api()
    client.credentials(HTTP_AUTHORIZATION="Bearer kf_nonsense")
    outcome(client.get("/fhir/Observation"), 401, "login")


def test_unknown_types_ids_and_methods_are_operation_outcomes(world, rich):
    client = api(world.therapist)
    outcome(client.get("/fhir/Practitioner"), 404, "not-found")
    outcome(client.get("/fhir/Medication/abc"), 404, "not-found")
    outcome(client.get("/fhir/Observation/not-a-uuid"), 404, "not-found")
    outcome(client.get(f"/fhir/Observation/{rich.vitals.public_id}-nope"), 404, "not-found")
    outcome(client.get("/fhir/Questionnaire/nope-v1"), 404, "not-found")
    outcome(client.get("/fhir/Group/cohort-1999-01"), 404, "not-found")
    outcome(client.get("/fhir/Group/everyone"), 404, "not-found")
    outcome(
        client.post("/fhir/Observation", {"resourceType": "Observation"}, format="json"), 405, "not-supported"
    )
    outcome(client.get("/fhir/Observation?_format=xml"), 406, "not-supported")
    read_only = api(world.therapist, read_only=True)
    assert read_only.get(f"/fhir/Patient/{world.patient.public_id}").status_code == 200
    outcome(read_only.delete(f"/fhir/Patient/{world.patient.public_id}"), 403, "forbidden")


# --- search -------------------------------------------------------------------------------------
def test_search_by_patient_or_subject_gives_a_searchset_bundle(world, rich):
    client = api(world.therapist)
    by_patient = client.get(f"/fhir/Observation?patient={world.patient.public_id}")
    assert by_patient.status_code == 200 and by_patient["Content-Type"].startswith(FHIR_JSON)
    bundle = by_patient.json()
    assert_valid(bundle)
    assert bundle["type"] == "searchset" and bundle["total"] == len(bundle["entry"]) == 3 + 9 + 1 + 5
    assert {e["resource"]["subject"]["reference"] for e in bundle["entry"]} == {
        f"Patient/{world.patient.public_id}"
    }
    assert bundle["entry"][0]["fullUrl"].startswith("http://testserver/fhir/Observation/")
    for query in (f"subject=Patient/{world.patient.public_id}", f"subject={world.patient.public_id}"):
        assert ids(client.get(f"/fhir/Observation?{query}").json()) == ids(bundle)


def test_search_without_a_patient_covers_the_care_teams_patients(world, rich):
    bundle = api(world.prescriber).get("/fhir/MedicationAdministration").json()
    assert_valid(bundle)
    assert sorted(ids(bundle)) == sorted([str(rich.given.public_id), str(rich.iv_given.public_id)])
    entry = AccessLogEntry.objects.filter(user=world.prescriber.user).latest("pk")
    assert (
        entry.detail.startswith("FHIR search of MedicationAdministration: 2 of 2") and entry.patient is None
    )


def test_pages_follow_the_next_link_without_gaps_or_repeats(world, rich):
    client = api(world.therapist)
    url = f"/fhir/Observation?patient={world.patient.public_id}&_count=5"
    seen: list[str] = []
    pages = 0
    while url:
        bundle = client.get(url).json()
        assert_valid(bundle)
        assert bundle["total"] == 18 and len(bundle["entry"]) <= 5
        seen += ids(bundle)
        pages += 1
        following = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        url = "{0.path}?{0.query}".format(urlsplit(following[0])) if following else ""
    assert pages == 4 and len(seen) == len(set(seen)) == 18
    only_total = client.get(f"/fhir/Observation?patient={world.patient.public_id}&_count=0").json()
    assert (only_total["total"], "entry" in only_total) == (18, False)


def test_observations_by_category_and_code(world, rich):
    client = api(world.therapist)
    base = f"/fhir/Observation?patient={world.patient.public_id}"
    vitals = client.get(f"{base}&category=vital-signs").json()
    assert vitals["total"] == 2 + 2 + 2 + 1 + 1 + 5  # BP, HR, SpO2 x2, RR, session weight, screening
    surveys = client.get(
        f"{base}&category=http://terminology.hl7.org/CodeSystem/observation-category|survey"
    ).json()
    assert surveys["total"] == 3 + 2  # totals, MOAA/S, dissociation
    phq9 = client.get(f"{base}&code=http://loinc.org|44261-6").json()
    assert [codes_of(e["resource"]["code"], LOINC) for e in phq9["entry"]] == [{"44261-6"}]
    bp = client.get(f"{base}&code=85354-9,8867-4&category=vital-signs").json()
    assert bp["total"] == 3 + 3  # two readings and the screening, each a BP and a heart rate


def test_patient_search_by_name_birthdate_id_and_record_number(world, rich):
    client = api(world.frontdesk)
    jordan = str(world.patient.public_id)
    for query, expected in (
        ("name=jor", [jordan]),
        ("name=RIV", [jordan]),
        ("name=nobody", []),
        ("birthdate=1986-04-12", [jordan]),
        ("birthdate=1986", [jordan]),
        ("birthdate=lt1980-01-01", [str(rich.morgan.public_id)]),
        (f"_id={jordan}", [jordan]),
        (f"_id={world.other_patient.public_id}", []),
        ("identifier=R-1", [jordan]),
        ("name=jordan&birthdate=ge1990-01-01", []),
    ):
        bundle = client.get(f"/fhir/Patient?{query}").json()
        assert_valid(bundle)
        assert ids(bundle) == expected, query
    everyone = client.get("/fhir/Patient").json()
    assert sorted(ids(everyone)) == sorted([jordan, str(rich.morgan.public_id)])


def test_unsupported_or_malformed_parameters_are_400(world, rich):
    client = api(world.therapist)
    for query in (
        "/fhir/Observation?date=ge2020-01-01",
        "/fhir/Observation?patient:missing=true",
        "/fhir/Observation?patient=not-a-uuid",
        "/fhir/Observation?subject=Group/abc",
        f"/fhir/Observation?patient={world.patient.public_id}&subject={world.patient.public_id}",
        "/fhir/Observation?_count=many",
        "/fhir/Observation?_count=-1",
        "/fhir/Observation?_offset=-5",
        "/fhir/Observation?code=http://snomed.info/sct|123",
        "/fhir/Patient?birthdate=April",
        "/fhir/Patient?birthdate=1986-02-30",
        "/fhir/Patient?patient=x",
        "/fhir/Questionnaire?patient=x",
        "/fhir/Observation?_summary=count",
    ):
        outcome(client.get(query), 400, "invalid")


def test_questionnaires_and_groups(world, rich):
    client = api(world.therapist)
    questionnaires = client.get("/fhir/Questionnaire").json()
    assert_valid(questionnaires)
    assert ids(questionnaires) == ["phq9-v1", "gad7-v1", "cssrs-v1", "moaas-v1"]
    assert ids(client.get("/fhir/Questionnaire?_id=gad7-v1").json()) == ["gad7-v1"]
    cohort = f"cohort-{rich.course.starts_on:%Y-%m}"
    groups = client.get("/fhir/Group").json()
    assert_valid(groups)
    assert ids(groups) == [cohort]
    group = client.get(f"/fhir/Group/{cohort}").json()
    assert_valid(group)
    assert group["quantity"] == 2  # Theo is on both care teams
    nurse_view = api(world.nurse).get(f"/fhir/Group/{cohort}").json()
    assert nurse_view["quantity"] == 0 and "member" not in nurse_view  # FHIR JSON has no empty arrays


def test_psychotherapy_notes_appear_in_no_fhir_answer(world, rich):
    client = api(world.therapist)  # the note's author, on the care team
    bodies = [
        client.get(f"/fhir/{t}").content.decode() for t in (*CLINICAL, "Patient", "Questionnaire", "Group")
    ]
    bodies += [client.get(f"/fhir/{t}?patient={world.patient.public_id}").content.decode() for t in CLINICAL]
    assert all(json.loads(body)["resourceType"] == "Bundle" for body in bodies)
    assert not [body for body in bodies if MARKER in body]


def test_a_dose_the_nurse_records_appears_as_her_medication_administration(world, rich):
    patient_services.care_team_add(
        member=world.frontdesk, patient=world.patient, membership_id=world.nurse.pk
    )
    rich.session.refresh_from_db()
    booster = dosing.administration_record(
        member=world.nurse, session=rich.session, dose_mg=Decimal("100"), lot=rich.given.lot, started_at=None,
        ended_at=None, witness_id=None, override_reason="", base_version=rich.session.version,
    )  # fmt: skip
    response = api(world.nurse).get(f"/fhir/MedicationAdministration?patient={world.patient.public_id}")
    given = {e["resource"]["id"]: e["resource"] for e in response.json()["entry"]}
    assert given[str(booster.public_id)]["performer"][0]["actor"]["display"] == "Nico Nurse"
    assert given[str(booster.public_id)]["dosage"]["dose"]["value"] == 100
