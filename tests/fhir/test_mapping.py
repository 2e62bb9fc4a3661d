"""kapflow's rows as FHIR R4: every resource validates, and carries the codes DOMAIN.md names."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kapflow.dosing import services as dosing
from kapflow.fhir import mapping
from kapflow.fhir.capability import capability_statement
from kapflow.patients.models import Patient
from tests.fhir.fhir_checks import LOINC, SNOMED, assert_valid, codes_of
from tests.fhir.read_world import MARKER, Rich, build

pytestmark = pytest.mark.django_db


@pytest.fixture
def rich(world) -> Rich:
    return build(world)


def everything(world) -> dict[str, list[dict]]:
    patients = Patient.objects.filter(clinic=world.demo)
    return {t: list(mapping.patient_resources(t, world.demo, patients)) for t in mapping.RESOURCE_TYPES}


def by_id(resources: list[dict]) -> dict[str, dict]:
    return {r["id"]: r for r in resources}


def test_every_resource_kapflow_emits_validates_with_fhir_resources_r4b(world, rich):
    found = everything(world)
    counts = {t: len(resources) for t, resources in found.items()}
    assert counts == {
        "Patient": 2,
        "EpisodeOfCare": 2,
        "Encounter": 9,  # 2 screenings, 3 preparation + 1 integration visit, 2 dosing sessions
        "Questionnaire": 4,  # PHQ-9, GAD-7, C-SSRS, MOAA/S
        "QuestionnaireResponse": 4,  # PHQ-9, GAD-7 and its correction, C-SSRS
        # totals 3; Jordan's readings: 2 BP, 2 HR, 2 SpO2, 1 RR, MOAA/S, dissociation; Morgan's
        # pre-dose: BP, HR, SpO2; 2 session weights; 2 screenings x (BP, HR, weight, height, BMI)
        "Observation": 3 + 9 + 3 + 2 + 10,
        "MedicationAdministration": 2,
        "Consent": 2,
        "AdverseEvent": 1,
    }
    for resources in found.values():
        for resource in resources:
            assert_valid(resource)
            assert len(resource["id"]) <= 64
        assert len(by_id(resources)) == len(resources), "ids are unique within a type"
    cohort = f"cohort-{rich.course.starts_on:%Y-%m}"
    assert_valid(mapping.group_resource(world.demo, cohort, Patient.objects.all()))
    assert_valid(capability_statement("http://testserver/fhir/", timezone.now()))


def test_psychotherapy_notes_and_note_text_are_in_no_resource(world, rich):
    text = json.dumps(everything(world))
    assert MARKER not in text  # the psychotherapy note, the guide note and the observation note
    assert "Ondansetron" not in text and "Sertraline" not in text  # intervention, medicines


def test_medication_administration_is_the_medical_professionals_dose(world, rich):
    given = by_id(everything(world)["MedicationAdministration"])
    sublingual = given[str(rich.given.public_id)]
    assert sublingual["status"] == "completed"
    assert sublingual["medicationCodeableConcept"]["coding"][0]["code"] == "6130"
    assert codes_of(sublingual["dosage"]["route"], SNOMED) == {"37839007"}
    assert sublingual["dosage"]["dose"] == {
        "value": 200,
        "unit": "mg",
        "system": "http://unitsofmeasure.org",
        "code": "mg",
    }
    assert sublingual["subject"] == {"reference": f"Patient/{world.patient.public_id}"}
    assert sublingual["context"] == {"reference": f"Encounter/{rich.session.public_id}"}
    assert [p["actor"]["display"] for p in sublingual["performer"]] == ["Priya Prescriber"]
    assert "Theo" not in json.dumps(sublingual), "the therapist never administers"
    assert "effectiveDateTime" in sublingual and "rateRatio" not in sublingual["dosage"]

    infusion = given[str(rich.iv_given.public_id)]
    assert codes_of(infusion["dosage"]["route"], SNOMED) == {"47625008"}
    period = infusion["effectivePeriod"]
    assert period == {
        "start": rich.iv_given.started_at.isoformat(),
        "end": rich.iv_given.ended_at.isoformat(),
    }
    rate = infusion["dosage"]["rateRatio"]
    assert (rate["numerator"]["value"], rate["numerator"]["unit"]) == (35, "mg")
    assert (rate["denominator"]["value"], rate["denominator"]["unit"]) == (40, "min")


def test_every_route_has_its_snomed_code(world, rich):
    expected = {"sublingual": "37839007", "buccal": "54471007", "intramuscular": "78421000",
                "intravenous": "47625008", "nasal": "46713006"}  # fmt: skip
    for route, code in expected.items():
        rich.given.route = route
        built = mapping.to_medication_administration(rich.given)
        assert codes_of(built["dosage"]["route"], SNOMED) == {code}


def test_scores_are_survey_observations_derived_from_the_response(world, rich):
    observations = by_id(everything(world)["Observation"])
    phq9 = observations[f"{rich.phq9.public_id}-total"]
    assert codes_of(phq9["code"], LOINC) == {"44261-6"} and phq9["valueInteger"] == 10
    assert phq9["category"][0]["coding"][0]["code"] == "survey"
    assert phq9["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{rich.phq9.public_id}"}]
    assert phq9["status"] == "final" and phq9["interpretation"] == [{"text": "Moderate"}]
    replaced = observations[f"{rich.gad7.public_id}-total"]
    corrected = observations[f"{rich.gad7_fixed.public_id}-total"]
    assert codes_of(replaced["code"], LOINC) == codes_of(corrected["code"], LOINC) == {"70274-6"}
    assert (replaced["status"], replaced["valueInteger"]) == ("entered-in-error", 4)
    assert (corrected["status"], corrected["valueInteger"]) == ("corrected", 6)
    assert not any(r["code"].get("text", "").startswith("C-SSRS") for r in observations.values()), (
        "the C-SSRS has a risk level, not a total"
    )


def test_vital_signs_have_loinc_codes_and_ucum_units(world, rich):
    observations = by_id(everything(world)["Observation"])
    reading = str(rich.vitals.public_id)
    bp = observations[f"{reading}-bp"]
    assert codes_of(bp["code"], LOINC) == {"85354-9"}
    assert {c["code"]["coding"][0]["code"]: c["valueQuantity"]["value"] for c in bp["component"]} == {
        "8480-6": 136,
        "8462-4": 86,
    }
    assert bp["encounter"] == {"reference": f"Encounter/{rich.session.public_id}"}
    assert bp["performer"] == [{"type": "Practitioner", "display": "Priya Prescriber"}]
    expected = {"hr": ("8867-4", 80, "/min"), "spo2": ("59408-5", 97, "%"), "rr": ("9279-1", 14, "/min")}
    for suffix, (code, value, unit) in expected.items():
        found = observations[f"{reading}-{suffix}"]
        assert code in codes_of(found["code"], LOINC)
        assert (found["valueQuantity"]["value"], found["valueQuantity"]["unit"]) == (value, unit)
    weights = [o for o in observations.values() if codes_of(o["code"], LOINC) == {"29463-7"}]
    assert {(o["valueQuantity"]["value"], o["valueQuantity"]["unit"]) for o in weights} == {
        (68, "kg"),
        (70, "kg"),
    }
    heights = [o for o in observations.values() if codes_of(o["code"], LOINC) == {"8302-2"}]
    assert {(o["valueQuantity"]["value"], o["valueQuantity"]["unit"]) for o in heights} == {(170, "cm")}


def test_moaas_is_an_observation_with_an_integer(world, rich):
    moaas = by_id(everything(world)["Observation"])[f"{rich.moaas.public_id}-moaas"]
    assert moaas["code"] == {"text": "MOAA/S"} and moaas["valueInteger"] == 4
    assert moaas["encounter"] == {"reference": f"Encounter/{rich.session.public_id}"}


def test_questionnaires_carry_loinc_codes_and_responses_coded_answers(world, rich):
    questionnaires = by_id(everything(world)["Questionnaire"])
    phq9 = questionnaires["phq9-v1"]
    assert phq9["code"][0]["code"] == "44249-1"
    item_codes = [item["code"][0]["code"] for item in phq9["item"]]
    assert item_codes == [
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
    ]
    assert [o["valueCoding"]["code"] for o in phq9["item"][0]["answerOption"]] == [
        "LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"
    ]  # fmt: skip
    assert questionnaires["gad7-v1"]["code"][0]["code"] == "69737-5"
    cssrs_q3 = questionnaires["cssrs-v1"]["item"][2]
    assert cssrs_q3["enableWhen"][0]["question"] == "q2" and cssrs_q3["required"] is False

    responses = by_id(everything(world)["QuestionnaireResponse"])
    answered = responses[str(rich.phq9.public_id)]
    assert answered["questionnaire"] == f"{phq9['url']}|1" and answered["status"] == "completed"
    assert answered["item"][0]["answer"] == [
        {"valueCoding": {"system": LOINC, "code": "LA6570-1", "display": "More than half the days"}}
    ]
    assert responses[str(rich.gad7.public_id)]["status"] == "entered-in-error"
    assert responses[str(rich.gad7_fixed.public_id)]["status"] == "amended"


def test_encounters_are_screening_visits_and_sessions_never_the_guide_note(world, rich):
    encounters = by_id(everything(world)["Encounter"])
    assert str(rich.guide.public_id) not in encounters
    session = encounters[str(rich.session.public_id)]
    assert session["status"] == "in-progress" and session["class"]["code"] == "AMB"
    assert session["episodeOfCare"] == [{"reference": f"EpisodeOfCare/{rich.course.public_id}"}]
    integration = encounters[str(rich.integration.public_id)]
    assert integration["type"] == [{"text": "Integration visit"}]
    assert integration["participant"][0]["individual"]["display"] == "Theo Therapist"
    types = sorted(e["type"][0]["text"] for e in encounters.values())
    assert types.count("Medical screening") == 2 and types.count("Preparation visit") == 4


def test_episode_of_care_is_the_course(world, rich):
    episode = by_id(everything(world)["EpisodeOfCare"])[str(rich.course.public_id)]
    assert episode["status"] == "active"
    assert episode["period"] == {"start": rich.course.starts_on.isoformat()}
    assert episode["careManager"]["display"] == "Theo Therapist"
    for status, code in (("paused", "onhold"), ("completed", "finished"), ("discontinued", "cancelled")):
        rich.course.status = status
        assert mapping.to_episode_of_care(rich.course)["status"] == code


def test_consent_is_active_until_withdrawn(world, rich):
    consents = by_id(everything(world)["Consent"])
    signed = consents[str(rich.consent.public_id)]
    assert (
        signed["status"] == "active"
        and signed["patient"]["reference"] == f"Patient/{world.patient.public_id}"
    )
    assert signed["verification"][0]["verified"] is True
    assert signed["policy"][0]["uri"].endswith("/consent-templates/v1")
    if rich.consent.pdf_sha256:
        assert signed["sourceAttachment"]["contentType"] == "application/pdf"
        assert signed["sourceAttachment"]["url"] == reverse(
            "consent:pdf",
            kwargs={
                "clinic": "demo",
                "patient_id": world.patient.public_id,
                "signature_id": rich.consent.public_id,
            },
        )
    withdrawn = consents[str(rich.withdrawn.public_id)]
    assert withdrawn["status"] == "inactive"
    assert withdrawn["provision"]["period"]["end"] == rich.withdrawn.withdrawal.withdrawn_at.isoformat()


def test_adverse_event_names_the_dose_it_followed(world, rich):
    event = everything(world)["AdverseEvent"][0]
    assert event["actuality"] == "actual"
    assert event["event"]["text"] == "Nausea 30 minutes after the dose"
    assert event["seriousness"]["coding"][0]["code"] == "non-serious"
    assert event["severity"]["coding"][0]["code"] == "moderate"
    assert event["outcome"]["coding"][0]["code"] == "recovering"
    assert event["encounter"] == {"reference": f"Encounter/{rich.session.public_id}"}
    assert event["suspectEntity"] == [
        {"instance": {"reference": f"MedicationAdministration/{rich.given.public_id}"}}
    ]


def test_patient_demographics(world, rich):
    jordan = by_id(everything(world)["Patient"])[str(world.patient.public_id)]
    assert jordan["identifier"][0]["value"] == "R-1"
    assert jordan["name"][0] == {"use": "official", "family": "Rivera", "given": ["Jordan"]}
    assert jordan["birthDate"] == "1986-04-12" and jordan["gender"] == "unknown"
    assert {"system": "email", "value": "jordan@example.org"} in jordan["telecom"]
    for sex, gender in (
        ("female", "female"),
        ("male", "male"),
        ("intersex", "other"),
        ("declined", "unknown"),
    ):
        world.patient.sex_at_birth = sex
        assert mapping.to_patient(world.patient, world.demo)["gender"] == gender


def test_the_number_of_queries_does_not_grow_with_the_rows(world, rich, monkeypatch):
    def queries(patients) -> int:
        with CaptureQueriesContext(connection) as captured:
            for resource_type in mapping.RESOURCE_TYPES:
                for _resource in mapping.patient_resources(resource_type, world.demo, patients):
                    pass
        return len(captured)

    jordan_only = queries(Patient.objects.filter(pk=world.patient.pk))
    dosing.reading_record(member=world.prescriber, session=rich.session, kind="moaas", moaas=5)
    dosing.event_record(
        member=world.prescriber, session=rich.session, kind="sedation", severity="mild", serious=False,
        occurred_at=None, intervention="", outcome="resolved", description="",
    )  # fmt: skip
    assert queries(Patient.objects.filter(clinic=world.demo)) == jordan_only


def test_building_a_resource_reads_only_what_its_rows_loaded(world, rich):
    """Each source loads only the columns its builder reads (``mapping.RECORD`` and the source's
    own list): a builder reading anything else would query once per row of an export."""
    patients = Patient.objects.filter(clinic=world.demo)
    known = mapping.instruments(world.demo)
    known.get("phq9", "1")  # the clinic's uploaded instruments are read once, before any row
    for resource_type in mapping.RESOURCE_TYPES[:3] + mapping.RESOURCE_TYPES[4:]:  # not Questionnaire
        for source in mapping.sources(resource_type):
            name = f"{resource_type} from {source.model.__name__} {source.suffix}"
            rows = list(source.rows(world.demo, patients))
            assert rows, f"{name}: no row to build"
            with CaptureQueriesContext(connection) as built:
                for row in rows:
                    source.build(row, world.demo, known)
            assert not built.captured_queries, f"{name}: {built.captured_queries[0]['sql']}"


def test_resource_finds_one_by_id_in_its_clinic_only(world, rich):
    found, patient = mapping.resource("Observation", world.demo, f"{rich.vitals.public_id}-spo2")
    assert found["valueQuantity"]["value"] == 97 and patient == world.patient
    found, patient = mapping.resource("Questionnaire", world.demo, "gad7-v1")
    assert found["name"] == "GAD7" and patient is None
    for resource_type, resource_id in (
        ("Observation", f"{rich.vitals.public_id}-weight"),  # a reading has no weight
        ("Observation", str(rich.vitals.public_id)),
        ("MedicationAdministration", "not-an-id"),
        ("Encounter", str(rich.guide.public_id)),
        ("Consent", str(rich.given.public_id)),
    ):
        with pytest.raises(mapping.NotFound):
            mapping.resource(resource_type, world.demo, resource_id)
    with pytest.raises(mapping.NotFound):
        mapping.resource("MedicationAdministration", world.other, str(rich.given.public_id))


def test_a_group_is_the_cohort_whose_course_started_that_month(world, rich):
    month = rich.course.starts_on
    cohort = f"cohort-{month:%Y-%m}"
    assert set(mapping.group_patients(world.demo, cohort)) == {world.patient, rich.morgan}
    assert not mapping.group_patients(world.other, cohort).exists()
    group = mapping.group_resource(world.demo, cohort, Patient.objects.filter(pk=world.patient.pk))
    assert group["id"] == cohort and group["quantity"] == 1
    assert group["member"] == [{"entity": {"reference": f"Patient/{world.patient.public_id}"}}]
    assert mapping.group_ids(world.demo) == [cohort]
    for bad in ("cohort-2025-13", "cohort-25-01", "2025-01", "cohort-2025-1"):
        with pytest.raises(mapping.NotFound):
            mapping.group_patients(world.demo, bad)


def test_decimal_doses_stay_exact(world, rich):
    rich.given.dose_mg = Decimal("62.50")
    rich.given.mg_per_kg = Decimal("0.893")
    built = mapping.to_medication_administration(rich.given)
    assert built["dosage"]["dose"]["value"] == 62.5
    assert built["dosage"]["text"] == "62.5 mg sublingual (0.893 mg/kg)"
    json.dumps(built)  # JSON-ready as it is


def test_questionnaire_names_are_computable():
    from kapflow.fhir.builders import computable_name

    assert [computable_name(n) for n in ("PHQ-9", "MOAA/S", "cadss-6", "6-item", "")] == [
        "PHQ9", "MOAAS", "Cadss6", "Q6item", "Q"
    ]  # fmt: skip


def test_a_clinics_own_instrument_is_a_questionnaire_of_its_own(world):
    from django.utils import timezone as tz

    from kapflow.measures import services as measures
    from kapflow.measures.instruments.builtin import BUILT_IN
    from kapflow.measures.instruments.definitions import to_definition

    definition = to_definition(BUILT_IN["gad7"])
    definition.update(
        {"key": "calm_5", "name": "Calm scale", "short_name": "CALM-5", "version": "2024 b", "loinc_panel": "",
         "loinc_total": "", "items": [dict(item, code="") for item in definition["items"]]}
    )  # fmt: skip
    measures.instrument_add(member=world.admin, data=definition)
    response = measures.response_record_paper(
        member=world.therapist, patient=world.patient, instrument_key="calm_5",
        answers={f"q{n}": 1 for n in range(1, 8)}, answered_at=tz.now(),
    )  # fmt: skip
    found = everything(world)
    questionnaire = by_id(found["Questionnaire"])["calm-5-v2024-b"]
    assert questionnaire["url"] == "https://kapflow.org/fhir/clinics/demo/Questionnaire/calm_5"
    assert "code" not in questionnaire
    answered = by_id(found["QuestionnaireResponse"])[str(response.public_id)]
    assert answered["questionnaire"] == f"{questionnaire['url']}|2024 b"
    total = by_id(found["Observation"])[f"{response.public_id}-total"]
    assert total["code"] == {"text": "CALM-5 total score"} and total["valueInteger"] == 7
    for resource in (questionnaire, answered, total):
        assert_valid(resource)
    assert mapping.resource("Questionnaire", world.demo, "calm-5-v2024-b")[0] == questionnaire
