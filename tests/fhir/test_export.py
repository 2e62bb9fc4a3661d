"""FHIR Bulk Data ``$export``: kick-off, polling, the manifest, the files, and who may do what.

Theo (therapist on Jordan's care team) exports Jordan; Alex (clinic admin) exports the whole
clinic or a cohort; the front desk, Theo and Priya may not export the whole clinic. A job is
its starter's alone: anyone else is told it does not exist. Every line of every file validates
with fhir.resources (R4B), and a marker planted in a psychotherapy note is in no file.
"""

from __future__ import annotations

import json
import tracemalloc
import uuid
from datetime import date, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from fhir.resources.R4B import get_fhir_model_class

from kapflow.accounts.models import Membership
from kapflow.core.models import AccessLogEntry, AuditAction, DataCategory
from kapflow.courses import psychotherapy_services as psychotherapy
from kapflow.courses.models import CourseStatus, TreatmentCourse
from kapflow.fhir import export as writer
from kapflow.fhir import mapping
from kapflow.fhir.models import ExportJob, ExportStatus
from kapflow.fhir.tasks import run_export
from kapflow.patients.models import Patient
from tests.api.helpers import api
from tests.dosing.helpers import dosed, make_lot, make_ready, second_patient
from tests.fhir.fhir_checks import assert_valid

MARKER = "ZEBRA-MARKER-7731"
ASYNC = {"HTTP_PREFER": "respond-async", "HTTP_ACCEPT": "application/fhir+json"}


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def record(world):
    """Jordan with a course, a dosing session with a dose and vitals, and a psychotherapy note
    holding MARKER; Morgan, another Demo patient, with a course of their own."""
    course = make_ready(world)
    dosed(world, course, make_lot(world))
    note = psychotherapy.note_create(
        member=world.therapist, patient=world.patient, course=course, text=f"Themes {MARKER} and more"
    )
    psychotherapy.note_sign(member=world.therapist, note=note, base_version=note.version)
    morgan = second_patient(world)
    make_ready(world, patient=morgan)
    return course


def patient_url(patient) -> str:
    return reverse("fhir:patient_export", kwargs={"patient_id": patient.public_id})


def kick_off(client, url: str, **params: str):
    response = client.get(url, params, **ASYNC)
    return response


def started(client, url: str, **params: str) -> str:
    """Kick off an export; returns its status URL."""
    response = kick_off(client, url, **params)
    assert response.status_code == 202, response.content
    return response["Content-Location"]


def run_queued() -> list[str]:
    """What the worker does: run every queued export task."""
    return [
        run_export.call(str(job.public_id)) for job in ExportJob.objects.filter(status=ExportStatus.QUEUED)
    ]


def finished(client, status_url: str) -> dict[str, Any]:
    run_queued()
    response = client.get(status_url)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def download(client, manifest: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every file of the manifest, each line parsed and validated with fhir.resources R4B
    (and ``fhir_checks``: required codes, our coding rules)."""
    files: dict[str, list[dict[str, Any]]] = {}
    for item in manifest["output"]:
        response = client.get(item["url"], HTTP_ACCEPT="application/fhir+ndjson")
        assert response.status_code == 200, item
        assert response["Content-Type"] == "application/fhir+ndjson"
        text = b"".join(response.streaming_content).decode("utf-8")
        assert MARKER not in text
        lines = text.splitlines()
        assert text.endswith("\n") and all(lines)
        assert len(lines) == item["count"]
        resources = [json.loads(line) for line in lines]
        for resource in resources:
            assert resource["resourceType"] == item["type"]
            get_fhir_model_class(item["type"]).model_validate(resource)
            assert_valid(resource)  # and the required codes the R4B models do not check
        files[item["type"]] = resources
    return files


def outcome(response, status: int, code: str | None = None) -> str:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    body = response.json()
    get_fhir_model_class("OperationOutcome").model_validate(body)
    if code:
        assert body["issue"][0]["code"] == code
    return body["issue"][0]["diagnostics"]


# --- A patient's export, end to end -------------------------------------------------------------
def test_a_care_team_therapist_exports_a_patient_and_every_line_validates(world, record):
    client = api(world.therapist)
    status_url = started(client, patient_url(world.patient))
    job = ExportJob.objects.get()
    assert status_url == f"http://testserver/fhir/$export-status/{job.public_id}"

    waiting = client.get(status_url)
    assert waiting.status_code == 202
    assert waiting["X-Progress"].startswith("queued")
    assert int(waiting["Retry-After"]) > 0

    manifest = finished(client, status_url)
    assert manifest["requiresAccessToken"] is True
    assert manifest["error"] == []
    assert manifest["request"].endswith(patient_url(world.patient))
    transaction_time = ExportJob.objects.get().transaction_time
    assert transaction_time is not None and manifest["transactionTime"] == transaction_time.isoformat()
    types = [item["type"] for item in manifest["output"]]
    assert {
        "Patient",
        "EpisodeOfCare",
        "Encounter",
        "Observation",
        "MedicationAdministration",
        "Consent",
    } <= set(types)
    files = download(client, manifest)

    # Jordan only: one Patient, and no line names Morgan.
    assert [p["id"] for p in files["Patient"]] == [str(world.patient.public_id)]
    morgan = Patient.objects.filter(clinic=world.demo).exclude(pk=world.patient.pk).get()
    assert str(morgan.public_id) not in json.dumps(files)
    given = files["MedicationAdministration"]
    assert len(given) == 1 and given[0]["subject"]["reference"] == f"Patient/{world.patient.public_id}"


def test_the_kick_off_and_each_download_are_in_the_access_log(world, record):
    client = api(world.therapist)
    manifest = finished(client, started(client, patient_url(world.patient), _type="Patient,Encounter"))
    download(client, manifest)
    entries = AccessLogEntry.objects.filter(action=AuditAction.EXPORT, user_id=world.therapist.user_id)
    details = [entry.detail for entry in entries.order_by("seq")]
    assert len(details) == 3
    assert "started" in details[0] and "Patient,Encounter" in details[0]
    assert "Patient.ndjson downloaded" in details[1] and "Encounter.ndjson downloaded" in details[2]
    assert {entry.patient_id for entry in entries} == {world.patient.pk}
    assert {entry.category for entry in entries} == {DataCategory.EXPORT}


# --- Who may export --------------------------------------------------------------------------------
def test_the_admin_exports_the_whole_clinic_and_nothing_of_another(world, record):
    client = api(world.admin)
    manifest = finished(client, started(client, reverse("fhir:export")))
    files = download(client, manifest)
    assert {p["id"] for p in files["Patient"]} == {
        str(p.public_id) for p in Patient.objects.filter(clinic=world.demo).all()
    }
    assert str(world.other_patient.public_id) not in json.dumps(files)


@pytest.mark.parametrize("persona", ["frontdesk", "therapist", "prescriber", "nurse"])
def test_only_the_clinic_admin_may_export_the_whole_clinic_or_a_group(world, persona):
    client = api(world.member(persona))
    outcome(kick_off(client, reverse("fhir:export")), 403, "forbidden")
    outcome(kick_off(client, reverse("fhir:group_export", kwargs={"group_id": "cohort-2026-01"})), 403)
    assert not ExportJob.objects.exists()


def test_a_patient_export_needs_the_care_team(world, record):
    # The nurse is not on Jordan's team; the front desk and the admin never read clinical data.
    for persona in ("nurse", "frontdesk", "admin"):
        outcome(kick_off(api(world.member(persona)), patient_url(world.patient)), 403, "forbidden")
    # Another clinic's patient, or no patient at all, does not exist here.
    therapist = api(world.therapist)
    outcome(kick_off(therapist, patient_url(world.other_patient)), 404, "not-found")
    outcome(kick_off(therapist, reverse("fhir:patient_export", kwargs={"patient_id": uuid.uuid4()})), 404)
    outcome(kick_off(therapist, reverse("fhir:patient_export", kwargs={"patient_id": "not-a-uuid"})), 404)
    outcome(kick_off(api(world.other_admin), patient_url(world.patient)), 404)
    assert not ExportJob.objects.exists()


def test_an_anonymous_caller_is_refused(world):
    response = kick_off(api(), reverse("fhir:export"))
    outcome(response, 401, "login")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_only_the_person_who_started_a_job_may_poll_it_download_or_cancel(world, record):
    admin = api(world.admin)
    status_url = started(admin, reverse("fhir:export"))
    manifest = finished(admin, status_url)
    file_url = manifest["output"][0]["url"]
    second_admin = world.admin.clinic.memberships.create(
        user=type(world.admin.user).objects.create_user(
            "sam@demo.test", "pw-pw-pw-pw", full_name="Sam Admin"
        ),
        role=world.admin.role,
    )
    for stranger in (world.therapist, second_admin, world.other_admin):
        client = api(stranger)
        outcome(client.get(status_url), 404, "not-found")
        outcome(client.get(file_url), 404)
        outcome(client.delete(status_url), 404)
    assert admin.get(file_url).status_code == 200
    assert ExportJob.objects.get().status == ExportStatus.DONE


def test_a_session_signed_in_admin_exports_too(world, record, client):
    client.force_login(world.admin.user)
    manifest = finished(client, started(client, reverse("fhir:export"), _type="Patient"))
    assert [item["type"] for item in manifest["output"]] == ["Patient"]
    assert len(download(client, manifest)["Patient"]) == 2


# --- Parameters ------------------------------------------------------------------------------------
def test_type_limits_the_files(world, record):
    client = api(world.admin)
    manifest = finished(client, started(client, reverse("fhir:export"), _type="Observation, Patient"))
    assert [item["type"] for item in manifest["output"]] == [
        t for t in mapping.RESOURCE_TYPES if t in ("Patient", "Observation")
    ]
    files = download(client, manifest)
    assert len(files["Patient"]) == 2
    assert all(o["resourceType"] == "Observation" for o in files["Observation"])


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"_type": "Patient,DocumentReference"}, "DocumentReference"),
        ({"_type": "PsychotherapyNote"}, "PsychotherapyNote"),
        ({"_type": ""}, "(empty)"),
        ({"_since": "yesterday"}, "_since"),
        ({"_since": "2026-01-31T09:30:00"}, "_since"),  # no time zone
        ({"_since": "2026-02-30T09:30:00Z"}, "_since"),
        ({"_outputFormat": "text/csv"}, "_outputFormat"),
    ],
)
def test_bad_parameters_are_refused_with_an_operation_outcome(world, params, words):
    diagnostics = outcome(kick_off(api(world.admin), reverse("fhir:export"), **params), 400, "invalid")
    assert words in diagnostics
    assert not ExportJob.objects.exists()


def test_only_asynchronous_requests_and_strict_handling_of_unknown_parameters(world):
    client = api(world.admin)
    url = reverse("fhir:export")
    outcome(client.get(url, HTTP_PREFER="respond-sync"), 400, "invalid")
    strict = client.get(
        url, {"_typeFilter": "Observation?code=x"}, HTTP_PREFER="respond-async, handling=strict"
    )
    assert "_typeFilter" in outcome(strict, 400)
    lenient = client.get(url, {"_typeFilter": "Observation?code=x"}, HTTP_PREFER="respond-async")
    assert lenient.status_code == 202
    assert (
        client.get(url, {"_outputFormat": "application/fhir+ndjson"}).status_code == 202
    )  # no Prefer: async


def test_since_leaves_out_what_did_not_change_after_it(world, record):
    client = api(world.admin)
    ahead = (timezone.now() + timedelta(days=1)).isoformat()
    # Nothing changed after tomorrow; the clinic's questionnaires carry no change time, so they stay.
    output = finished(client, started(client, reverse("fhir:export"), _since=ahead))["output"]
    assert [item["type"] for item in output] == ["Questionnaire"]
    assert (
        finished(client, started(client, reverse("fhir:export"), _since=ahead, _type="Patient"))["output"]
        == []
    )
    before = (timezone.now() - timedelta(days=1)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    manifest = finished(client, started(client, reverse("fhir:export"), _type="Patient", _since=before))
    assert manifest["output"][0]["count"] == 2
    assert ExportJob.objects.filter(since__isnull=False).count() == 3


def test_a_group_export_holds_the_cohorts_patients_only(world, record):
    cohort = f"cohort-{record.starts_on:%Y-%m}"
    client = api(world.admin)
    manifest = finished(client, started(client, reverse("fhir:group_export", kwargs={"group_id": cohort})))
    files = download(client, manifest)
    assert {p["id"] for p in files["Patient"]} == {
        str(p.public_id)
        for p in Patient.objects.filter(clinic=world.demo).filter(courses__starts_on=record.starts_on)
    }
    # A month with no course, a malformed id, and the other clinic's cohort are no group here.
    for unknown in ("cohort-1999-01", "cohort-2026-13", "everyone"):
        outcome(
            kick_off(client, reverse("fhir:group_export", kwargs={"group_id": unknown})), 404, "not-found"
        )
    outcome(kick_off(api(world.other_admin), reverse("fhir:group_export", kwargs={"group_id": cohort})), 404)


# --- The job's life: cancel, failure -------------------------------------------------------------
def test_delete_cancels_a_queued_job_and_removes_a_finished_ones_files(world, record, data_dir):
    client = api(world.therapist)
    status_url = started(client, patient_url(world.patient))
    response = client.delete(status_url)
    assert response.status_code == 202
    assert ExportJob.objects.get().status == ExportStatus.CANCELLED
    outcome(client.get(status_url), 404)
    outcome(client.delete(status_url), 404)
    assert run_export.call(str(ExportJob.objects.get().public_id)) == "skipped: the export is cancelled"

    status_url = started(client, patient_url(world.patient))
    manifest = finished(client, status_url)
    job = ExportJob.objects.get(status=ExportStatus.DONE)
    assert any(job.directory.iterdir())
    assert client.delete(status_url).status_code == 202
    assert not job.directory.exists()
    outcome(client.get(manifest["output"][0]["url"]), 404)


def test_a_job_cancelled_while_it_runs_stops_and_leaves_no_files(world, record, monkeypatch):
    client = api(world.admin)
    status_url = started(client, reverse("fhir:export"))
    job = ExportJob.objects.get()
    real = mapping.patient_resources
    monkeypatch.setattr(writer, "PROGRESS_EVERY", 1)

    def cancelling(resource_type, clinic, patients):
        for index, resource in enumerate(real(resource_type, clinic, patients)):
            if index == 1:
                polled = client.get(status_url)
                assert polled.status_code == 202
                assert polled["X-Progress"] == f"running: 0%, writing {resource_type} (1 so far)"
                assert client.delete(status_url).status_code == 202
            yield resource

    monkeypatch.setattr(mapping, "patient_resources", cancelling)
    assert run_export.call(str(job.public_id)) == "cancelled"
    assert not job.directory.exists()
    assert ExportJob.objects.get().status == ExportStatus.CANCELLED


def test_a_failed_job_says_so_and_leaves_no_files(world, record, monkeypatch):
    client = api(world.admin)
    status_url = started(client, reverse("fhir:export"))
    job = ExportJob.objects.get()

    def broken(resource_type, clinic, patients):
        yield {"resourceType": resource_type, "id": "x"}
        raise RuntimeError("the database went away")

    monkeypatch.setattr(mapping, "patient_resources", broken)
    assert run_export.call(str(job.public_id)) == "failed"
    assert "internal error" in outcome(client.get(status_url), 500, "exception")
    assert not job.directory.exists()


def test_a_person_may_have_three_exports_waiting_at_most(world):
    client = api(world.admin)
    for _ in range(3):
        started(client, reverse("fhir:export"))
    response = kick_off(client, reverse("fhir:export"))
    outcome(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert ExportJob.objects.count() == 3


def test_a_read_only_token_exports_but_cannot_cancel(world):
    client = api(world.admin, read_only=True)
    status_url = started(client, reverse("fhir:export"))
    outcome(client.delete(status_url), 403)
    assert ExportJob.objects.get().status == ExportStatus.QUEUED


# --- Flat memory ------------------------------------------------------------------------------------
def add_patients(world, count: int, start: int) -> None:
    """``count`` more Demo patients, each with a course (written in bulk: the shape, not the rules)."""
    patients = Patient.objects.bulk_create(
        Patient(
            clinic=world.demo,
            record_number=f"M-{start + i:05d}",
            legal_given_name=f"Many{start + i}",
            legal_family_name="Patients",
            date_of_birth=date(1980, 1, 1) + timedelta(days=i),
        )
        for i in range(count)
    )
    courses = TreatmentCourse.objects.bulk_create(
        TreatmentCourse(
            clinic=world.demo,
            patient=patient,
            route="sublingual",
            planned_dosing_sessions=6,
            status=CourseStatus.ACTIVE,
            starts_on=date(2026, 1, 5),
        )
        for patient in patients
    )
    TreatmentCourse.therapists.through.objects.bulk_create(
        TreatmentCourse.therapists.through(treatmentcourse=course, user=world.therapist.user)
        for course in courses
    )


def export_peak(world) -> tuple[int, dict[str, int]]:
    """Run a whole-clinic export of patients and courses; the peak traced memory while it ran."""
    client = api(world.admin)
    started(client, reverse("fhir:export"), _type="Patient,EpisodeOfCare")
    job = ExportJob.objects.get(status=ExportStatus.QUEUED)
    tracemalloc.start()
    try:
        assert run_export.call(str(job.public_id)).startswith("done")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    job.refresh_from_db()
    return peak, job.counts


def test_memory_stays_flat_when_the_clinic_is_four_times_larger(world):
    n = 2 * mapping.CHUNK  # several chunks of rows, so the reads are streamed in both runs
    add_patients(world, 50, 0)
    export_peak(world)  # warm up: imports, caches and compiled queries are not the export's memory
    add_patients(world, n - 50, 50)
    small, small_counts = export_peak(world)
    add_patients(world, 3 * n, n)
    large, large_counts = export_peak(world)
    assert small_counts == {"Patient": n + 1, "EpisodeOfCare": n}
    assert large_counts == {"Patient": 4 * n + 1, "EpisodeOfCare": 4 * n}
    assert large < 1.5 * small, (small, large)


# --- The demo clinic ------------------------------------------------------------------------------
def test_the_demo_clinics_export_validates_line_by_line_and_holds_no_psychotherapy_note(db):
    call_command("demo", stdout=StringIO())
    demo = Membership.objects.get(user__email="admin@demo.kapflow.test", clinic__slug="demo")
    therapist = Membership.objects.get(user__email="therapist@demo.kapflow.test", clinic__slug="demo")
    patient = Patient.objects.filter(
        clinic=demo.clinic, care_team__user=therapist.user, care_team__removed_at__isnull=True
    )[0]
    note = psychotherapy.note_create(member=therapist, patient=patient, text=f"Themes {MARKER} and more")
    psychotherapy.note_sign(member=therapist, note=note, base_version=note.version)

    client = api(demo)
    manifest = finished(client, started(client, reverse("fhir:export")))
    files = download(client, manifest)  # every line validated, MARKER in none
    assert set(files) == set(mapping.RESOURCE_TYPES)
    patients = Patient.objects.filter(clinic=demo.clinic, voided_at__isnull=True)
    assert len(files["Patient"]) == patients.count()
    other = Patient.objects.exclude(clinic=demo.clinic).values_list("public_id", flat=True)
    everything = json.dumps(files)
    assert not any(str(public_id) in everything for public_id in other)


# --- The real worker -------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_the_background_worker_runs_the_export(world, record):
    client = api(world.therapist)
    status_url = started(client, patient_url(world.patient), _type="Patient,MedicationAdministration")
    assert client.get(status_url).status_code == 202
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    [task] = DBTaskResult.objects.filter(task_path__endswith="run_export")
    assert (task.status, task.return_value) == ("SUCCESSFUL", "done: Patient 1, MedicationAdministration 1")
    manifest = client.get(status_url).json()
    assert [len(lines) for lines in download(client, manifest).values()] == [1, 1]
