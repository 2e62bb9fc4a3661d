"""Two people save the same draft from the same base version: one wins, the other gets the
conflict page with both texts; no text is lost."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from kapflow.courses import services
from kapflow.courses.models import ClinicalNote
from tests.courses.course_helpers import make_note


def post_data(text: str, version: int) -> dict[str, str]:
    return {"version": str(version), "readiness": text}


def test_two_clients_save_the_same_draft_with_the_same_base_version(world):
    note = make_note(world)
    url = reverse("courses:note", kwargs={"clinic": "demo", "note_id": note.public_id})
    first, second = Client(), Client()
    first.force_login(world.therapist.user)
    second.force_login(world.therapist.user)  # the author, in a second tab or on another computer
    assert first.get(url).status_code == second.get(url).status_code == 200

    a = first.post(url, post_data("Text from the first window", note.version))
    b = second.post(url, post_data("Text from the second window", note.version))

    assert sorted([a.status_code, b.status_code]) == [302, 409]
    assert ClinicalNote.objects.get(pk=note.pk).content["readiness"] == "Text from the first window"
    page = b.content.decode()
    assert "Someone saved this note after you opened it" in page
    assert "Text from the second window" in page  # yours, not lost
    assert "Text from the first window" in page  # theirs, shown beside it
    # The rebased form carries the new version: saving again now succeeds.
    assert f'value="{note.version + 1}"' in page
    again = second.post(url, post_data("Merged text", note.version + 1))
    assert again.status_code == 302
    assert ClinicalNote.objects.get(pk=note.pk).content["readiness"] == "Merged text"


def test_autosave_from_a_stale_page_answers_409_with_the_message(world, login):
    note = make_note(world)
    services.note_save_draft(
        member=world.therapist, note=note, content={"readiness": "saved"}, base_version=1
    )
    client = login(world.therapist)
    url = reverse("courses:autosave", kwargs={"clinic": "demo", "note_id": note.public_id})
    response = client.post(url, post_data("typed", 1), HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert "Someone saved this note" in response.content.decode()
    assert ClinicalNote.objects.get(pk=note.pk).content == {"readiness": "saved"}


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_from_threads_let_exactly_one_win(world):
    note = make_note(world)
    url = reverse("courses:note", kwargs={"clinic": "demo", "note_id": note.public_id})
    barrier = threading.Barrier(4)
    results: list[tuple[str, int, str]] = []
    errors: list[BaseException] = []

    def save(text: str) -> None:
        try:
            client = Client()
            client.force_login(world.therapist.user)
            barrier.wait()
            response = client.post(url, post_data(text, note.version))
            results.append((text, response.status_code, response.content.decode()))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=save, args=(f"text {n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    winners = [text for text, status, _ in results if status == 302]
    losers = [(text, page) for text, status, page in results if status == 409]
    assert len(winners) == 1 and len(losers) == 3
    assert ClinicalNote.objects.get(pk=note.pk).content["readiness"] == winners[0]
    for text, page in losers:
        assert text in page and winners[0] in page
