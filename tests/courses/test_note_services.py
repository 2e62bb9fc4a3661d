"""Visits and their notes: drafts, version checks, signing, addenda."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from kapflow.core.errors import ApplicationError, Conflict
from kapflow.core.models import AccessLogEntry
from kapflow.courses import services
from kapflow.courses.models import Addendum, ClinicalNote, Visit
from tests.courses.course_helpers import make_course, make_note, signed_note


def test_a_visit_comes_with_an_empty_draft_note_of_its_kind(world):
    course = make_course(world)
    visit = services.visit_create(
        member=world.therapist, course=course, kind="integration", happened_on=date(2026, 1, 9)
    )
    note = visit.note
    assert (note.template, note.status, note.content, note.author) == (
        "integration",
        "draft",
        {},
        world.therapist.user,
    )
    assert visit.staff == world.therapist.user and visit.patient == world.patient


@pytest.mark.parametrize(
    ("kind", "on", "words"), [("dosing", None, "another kind of visit"), ("preparation", 1, "not before")]
)
def test_a_bad_visit_is_refused(world, kind, on, words):
    day = timezone.localdate() + timedelta(days=on) if on else date(2026, 1, 9)
    with pytest.raises(ApplicationError, match=words):
        services.visit_create(member=world.therapist, course=make_course(world), kind=kind, happened_on=day)
    assert Visit.objects.count() == 0


def test_no_visit_on_a_closed_course(world):
    course = make_course(world, status="active")
    course = services.course_set_status(member=world.therapist, course=course, status="completed")
    with pytest.raises(ApplicationError, match="closed"):
        services.visit_create(
            member=world.therapist, course=course, kind="follow_up", happened_on=date(2026, 1, 9)
        )


def test_the_nurse_off_the_team_may_not_record_a_visit(world):
    with pytest.raises(PermissionDenied):
        services.visit_create(
            member=world.nurse, course=make_course(world), kind="preparation", happened_on=date(2026, 1, 9)
        )


def test_the_author_saves_the_draft_and_the_version_goes_up(world):
    note = make_note(world)
    saved = services.note_save_draft(
        member=world.therapist, note=note, content={"readiness": "Calm"}, base_version=note.version
    )
    assert saved.content == {"readiness": "Calm"} and saved.version == note.version + 1
    assert AccessLogEntry.objects.filter(detail__contains="draft saved").count() == 1


def test_a_stale_save_is_a_conflict_carrying_both_texts_and_saves_nothing(world):
    note = make_note(world)
    services.note_save_draft(
        member=world.therapist, note=note, content={"readiness": "first"}, base_version=1
    )
    with pytest.raises(services.NoteConflict) as caught:
        services.note_save_draft(
            member=world.therapist, note=note, content={"readiness": "second"}, base_version=1
        )
    assert isinstance(caught.value, Conflict) and caught.value.status == 409
    assert caught.value.mine == {"readiness": "second"} and caught.value.theirs == {"readiness": "first"}
    assert ClinicalNote.objects.get(pk=note.pk).content == {"readiness": "first"}


def test_someone_else_may_not_edit_a_draft(world):
    note = make_note(world)
    with pytest.raises(services.NotTheAuthor) as caught:
        services.note_save_draft(
            member=world.prescriber, note=note, content={"readiness": "x"}, base_version=1
        )
    assert caught.value.status == 403


def test_signing_someone_elses_draft_is_refused(world):
    note = make_note(world)
    with pytest.raises(services.NotTheAuthor, match="Only the author"):
        services.note_sign(member=world.prescriber, note=note, base_version=note.version)
    assert ClinicalNote.objects.get(pk=note.pk).status == "draft"


def test_signing_makes_the_note_immutable(world):
    note = signed_note(world)
    assert note.status == "signed" and note.signed_at is not None
    with pytest.raises(services.NoteSigned, match="signed and can no longer be changed"):
        services.note_save_draft(
            member=world.therapist, note=note, content={"readiness": "changed"}, base_version=note.version
        )
    with pytest.raises(services.NoteSigned):
        services.note_sign(member=world.therapist, note=note, base_version=note.version)
    assert ClinicalNote.objects.get(pk=note.pk).content == {"readiness": "Ready."}


def test_signing_a_stale_page_is_a_conflict(world):
    note = make_note(world)
    services.note_save_draft(member=world.therapist, note=note, content={"readiness": "new"}, base_version=1)
    with pytest.raises(Conflict, match="changed since this page was loaded"):
        services.note_sign(member=world.therapist, note=note, base_version=1)


def test_a_100000_character_field_is_refused(world):
    note = make_note(world)
    with pytest.raises(ApplicationError, match="100,000 characters"):
        services.note_save_draft(
            member=world.therapist, note=note, content={"readiness": "a" * 100_000}, base_version=1
        )
    assert ClinicalNote.objects.get(pk=note.pk).content == {}


def test_an_unknown_field_is_refused(world):
    note = make_note(world)
    with pytest.raises(ApplicationError, match="no field"):
        services.note_save_draft(
            member=world.therapist, note=note, content={"diagnosis": "x"}, base_version=1
        )


def test_any_clinician_on_the_team_adds_an_addendum_to_a_signed_note(world):
    note = signed_note(world)
    addendum = services.addendum_add(member=world.prescriber, note=note, text="BP rechecked: 128/82.")
    assert addendum.author == world.prescriber.user and addendum.note == note
    assert ClinicalNote.objects.get(pk=note.pk).content == {"readiness": "Ready."}


def test_an_addendum_to_a_draft_is_refused(world):
    note = make_note(world)
    with pytest.raises(ApplicationError, match="addenda are for signed notes"):
        services.addendum_add(member=world.therapist, note=note, text="x")
    assert Addendum.objects.count() == 0


@pytest.mark.parametrize(("text", "words"), [("  ", "Write the addendum"), ("a" * 10_001, "at most")])
def test_an_empty_or_huge_addendum_is_refused(world, text, words):
    with pytest.raises(ApplicationError, match=words):
        services.addendum_add(member=world.therapist, note=signed_note(world), text=text)


def test_the_nurse_off_the_team_may_not_add_an_addendum(world):
    note = signed_note(world)
    with pytest.raises(PermissionDenied):
        services.addendum_add(member=world.nurse, note=note, text="x")
