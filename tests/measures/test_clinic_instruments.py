"""Clinic admins add their own instruments from a definition file; bad files are explained."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kapflow.measures import registry
from kapflow.measures.instruments.builtin import BUILT_IN
from kapflow.measures.instruments.definitions import to_definition
from kapflow.measures.models import ClinicInstrument

URL = "/c/demo/measures/instruments/"


def custom_definition(**changes):
    definition = to_definition(BUILT_IN["gad7"])
    definition.update({"key": "calm5", "name": "Calm scale", "short_name": "CALM-5", "version": "1"})
    definition.update(changes)
    return definition


def upload(client, content, name="scale.json"):
    data = content if isinstance(content, bytes) else json.dumps(content).encode()
    return client.post(URL, {"definition": SimpleUploadedFile(name, data, content_type="application/json")})


def test_an_admin_adds_an_instrument_that_can_then_be_assigned(world, login):
    response = upload(login(world.admin), custom_definition())
    assert response.status_code == 302
    assert ClinicInstrument.objects.get(clinic=world.demo).key == "calm5"
    assert registry.instrument_for(world.demo, "calm5").name == "Calm scale"
    assert "calm5" not in [i.key for i in registry.available(world.other)]


def test_duplicate_item_ids_are_refused_naming_the_item(world, login):
    definition = custom_definition()
    definition["items"][1]["id"] = definition["items"][0]["id"]
    response = upload(login(world.admin), definition)
    assert response.status_code == 400
    assert f"item &quot;{definition['items'][0]['id']}&quot; appears twice" in response.content.decode()
    assert not ClinicInstrument.objects.exists()


def test_overlapping_bands_are_refused(world, login):
    definition = custom_definition()
    definition["bands"][1]["low"] = definition["bands"][0]["high"]
    response = upload(login(world.admin), definition)
    assert response.status_code == 400
    assert "overlap" in response.content.decode()


def test_a_gap_between_bands_is_refused(world, login):
    definition = custom_definition()
    definition["bands"][1]["low"] = definition["bands"][0]["high"] + 2
    response = upload(login(world.admin), definition)
    assert response.status_code == 400
    assert "no band covers" in response.content.decode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00", "not text in UTF-8"),
        (b"[]", ""),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not text in UTF-8"),
        (b"[" * 50_000 + b"]" * 50_000, "nested too deeply"),
        (b'{"key": ' + b"9" * 5_000 + b"}", "number too long"),
    ],
)
def test_a_file_that_is_not_a_definition_is_refused_clearly(world, login, content, message):
    response = upload(login(world.admin), content)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ClinicInstrument.objects.exists()


def test_a_file_over_256_kb_is_refused(world, login):
    response = upload(login(world.admin), b" " * (256 * 1024 + 1))
    assert response.status_code == 400
    assert "larger than 256 KB" in response.content.decode()


def test_a_built_in_key_cannot_be_taken(world, login):
    response = upload(login(world.admin), custom_definition(key="phq9"))
    assert response.status_code == 400
    assert "built-in" in response.content.decode()


def test_the_same_version_twice_is_refused(world, login):
    client = login(world.admin)
    upload(client, custom_definition())
    response = upload(client, custom_definition())
    assert response.status_code == 400
    assert "raise the version number" in response.content.decode()


@pytest.mark.parametrize("persona", ["frontdesk", "therapist", "prescriber", "nurse"])
def test_only_the_clinic_admin_adds_instruments(world, login, persona):
    response = upload(login(world.member(persona)), custom_definition())
    assert response.status_code == 403
    assert not ClinicInstrument.objects.exists()
