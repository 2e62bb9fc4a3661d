"""Psychotherapy notes: drafts, the version check, signing, and who may see one at all."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kapflow.core.errors import ApplicationError, Conflict
from kapflow.core.models import AccessLogEntry
from kapflow.courses import psychotherapy_services as services
from kapflow.courses.models import NoteStatus, PsychotherapyNote
from tests.conftest import World
from tests.courses.course_setup import second_therapist


@pytest.fixture
def note(world: World) -> PsychotherapyNote:
    return services.note_create(member=world.therapist, patient=world.patient, text="First thoughts")


def note_url(note: PsychotherapyNote, name: str = "psychotherapy:note") -> str:
    return reverse(name, kwargs={"clinic": "demo", "note_id": note.public_id})


def list_url(world: World, name: str = "psychotherapy:list") -> str:
    return reverse(name, kwargs={"clinic": "demo", "patient_id": world.patient.public_id})


def test_the_therapist_writes_saves_and_signs_through_the_pages(world, login):
    client = login(world.therapist)
    response = client.post(list_url(world, "psychotherapy:new"), {"text": "Session one"})
    made = PsychotherapyNote.objects.get()
    assert response.status_code == 302 and response["Location"] == note_url(made)
    assert made.author == world.therapist.user and made.status == NoteStatus.DRAFT

    assert client.post(note_url(made), {"text": "Session one, revised", "version": "1"}).status_code == 302
    made.refresh_from_db()
    assert (made.text, made.version) == ("Session one, revised", 2)

    assert client.post(note_url(made, "psychotherapy:sign"), {"version": "2"}).status_code == 302
    made.refresh_from_db()
    assert made.status == NoteStatus.SIGNED and made.signed_at is not None

    page = client.get(list_url(world))
    assert page.status_code == 200 and note_url(made) in page.content.decode()
    # Signed: the page shows the text without a form; a direct POST is refused and changes nothing.
    assert "<textarea" not in client.get(note_url(made)).content.decode()
    refused = client.post(note_url(made), {"text": "Rewritten", "version": "3"})
    assert refused.status_code == 409
    assert "signed and can no longer be changed" in refused.content.decode()
    made.refresh_from_db()
    assert made.text == "Session one, revised"
    assert client.post(note_url(made, "psychotherapy:sign"), {"version": "3"}).status_code == 409


def test_a_stale_save_is_refused_with_both_texts_and_nothing_is_lost(world, note, login):
    services.note_save(member=world.therapist, note=note, text="Saved in the other tab", base_version=1)
    response = login(world.therapist).post(note_url(note), {"text": "Typed in this tab", "version": "1"})
    assert response.status_code == 409
    body = response.content.decode()
    assert "saved elsewhere since you opened it" in body
    assert "Saved in the other tab" in body and "Typed in this tab" in body
    note.refresh_from_db()
    assert note.text == "Saved in the other tab"


def test_two_saves_with_the_same_base_version_exactly_one_wins(world, note):
    services.note_save(member=world.therapist, note=note, text="A", base_version=1)
    with pytest.raises(services.PsychotherapyConflict) as caught:
        services.note_save(member=world.therapist, note=note, text="B", base_version=1)
    assert caught.value.yours == "B" and caught.value.theirs == "A"


def test_only_the_author_may_save_or_sign_even_when_sharing_is_on(world, note, login):
    tess = second_therapist(world)
    world.demo.psychotherapy_notes_shared_with_treating_therapists = True
    world.demo.save()
    tess.clinic.refresh_from_db()
    with pytest.raises(ApplicationError):
        services.note_save(member=tess, note=note, text="Not mine", base_version=1)
    client = login(tess)
    assert client.get(note_url(note)).status_code == 200
    assert client.post(note_url(note), {"text": "Not mine", "version": "1"}).status_code == 400
    assert client.post(note_url(note, "psychotherapy:sign"), {"version": "1"}).status_code == 400
    note.refresh_from_db()
    assert (note.text, note.status) == ("First thoughts", NoteStatus.DRAFT)


def test_signed_notes_refuse_service_saves(world, note):
    services.note_sign(member=world.therapist, note=note, base_version=1)
    with pytest.raises(Conflict):
        services.note_save(member=world.therapist, note=note, text="x", base_version=2)


def test_an_oversized_note_is_refused_with_a_message(world, note, login):
    response = login(world.therapist).post(note_url(note), {"text": "x" * 100_000, "version": "1"})
    assert response.status_code == 400
    assert "at most 20000 characters" in response.content.decode()


@pytest.mark.parametrize(
    "persona", ["admin", "frontdesk", "prescriber", "nurse", "other_therapist", "other_admin"]
)
def test_everyone_else_gets_404_for_the_note_and_the_refusal_is_logged(world, note, persona):
    client = Client()
    client.force_login(world.member(persona).user)
    before = AccessLogEntry.objects.filter(outcome="denied").count()
    assert client.get(note_url(note)).status_code == 404
    assert client.post(note_url(note), {"text": "x", "version": "1"}).status_code == 404
    assert client.post(note_url(note, "psychotherapy:sign"), {"version": "1"}).status_code == 404
    if persona not in (
        "other_therapist",
        "other_admin",
    ):  # no membership in Demo: nothing of Demo's is logged
        assert AccessLogEntry.objects.filter(outcome="denied").count() > before
    note.refresh_from_db()
    assert (note.text, note.status) == ("First thoughts", NoteStatus.DRAFT)


def test_a_second_treating_therapist_reads_only_with_the_clinic_setting(world, note, login):
    tess = second_therapist(world)
    client = login(tess)
    assert client.get(note_url(note)).status_code == 404
    assert note_url(note) not in client.get(list_url(world)).content.decode()
    world.demo.psychotherapy_notes_shared_with_treating_therapists = True
    world.demo.save()
    assert client.get(note_url(note)).status_code == 200
    assert "First thoughts" in client.get(note_url(note)).content.decode()
    assert note_url(note) in client.get(list_url(world)).content.decode()


def test_the_log_names_the_note_never_its_words(world, note, login):
    login(world.therapist).get(note_url(note))
    details = " ".join(AccessLogEntry.objects.values_list("detail", flat=True))
    assert str(note.public_id) in details and "First thoughts" not in details


def test_a_non_therapist_may_not_open_the_list_or_start_a_note(world):
    client = Client()
    client.force_login(world.prescriber.user)
    assert client.get(list_url(world)).status_code == 403
    assert client.post(list_url(world, "psychotherapy:new"), {"text": "x"}).status_code == 403
    assert not PsychotherapyNote.objects.exists()
