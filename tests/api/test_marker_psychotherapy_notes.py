"""The psychotherapy-notes marker test, for the API and FHIR: even the note's author, whose
pages show the note, finds its marker in no API or FHIR answer (psychotherapy notes have no
API resource and no FHIR mapping). The bulk export has its own marker test in tests/fhir."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kapflow.fhir.mapping import RESOURCE_TYPES
from tests.api.helpers import api
from tests.courses.test_marker_psychotherapy_notes import MARKER, plant
from tests.test_authorization_matrix import all_routes

pytestmark = pytest.mark.django_db


def list_paths() -> list[str]:
    return [
        reverse(name)
        for name, _pattern in all_routes()
        if name and name.startswith("api:") and name.endswith("-list")
    ]


def test_no_api_or_fhir_answer_holds_the_marker_even_for_the_author(world, portal_user, client):
    own = plant(world, portal_user)
    client.force_login(world.therapist.user)
    assert MARKER in client.get(own["note"]).content.decode()  # the marker is there to be found

    author = api(world.therapist)
    patient = str(world.patient.public_id)
    answers = 0
    for path in list_paths():
        listed = author.get(path, {"patient": patient, "page_size": 200})
        if listed.status_code == 400:  # a list without a patient filter (the patients themselves)
            listed = author.get(path, {"page_size": 200})
        assert MARKER not in listed.content.decode(), path
        if listed.status_code != 200:
            continue
        answers += 1
        for row in listed.json()["results"]:
            detail = author.get(f"{path}{row['id']}/")
            assert MARKER not in detail.content.decode(), f"{path}{row['id']}/"
            answers += detail.status_code == 200
    for resource_type in RESOURCE_TYPES:
        query = {"Questionnaire": {}, "Patient": {"_id": patient}}.get(resource_type, {"patient": patient})
        found = author.get(f"/fhir/{resource_type}", query)
        assert found.status_code == 200, resource_type
        assert MARKER not in found.content.decode(), resource_type
        for entry in found.json().get("entry", []):
            read = author.get(f"/fhir/{resource_type}/{entry['resource']['id']}")
            assert read.status_code == 200 and MARKER not in read.content.decode()
            answers += 1
    assert answers > 20  # the walk really read the record (notes, courses, visits, FHIR resources)
