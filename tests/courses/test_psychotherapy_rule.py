"""The pure rule: who reads and writes a psychotherapy note."""

from __future__ import annotations

import pytest

from kapflow.core.roles import Role
from kapflow.courses.psychotherapy import may_edit, may_read, may_write

AUTHOR, OTHER = 1, 2


def read(reader_id: int, role, *, team=(AUTHOR, OTHER), shared=False) -> bool:
    return may_read(
        reader_id=reader_id,
        reader_role=role,
        author_id=AUTHOR,
        treating_therapist_ids=team,
        shared_setting=shared,
    )


def test_the_author_always_reads():
    assert read(AUTHOR, Role.THERAPIST)
    assert read(AUTHOR, Role.THERAPIST, team=(), shared=False)


def test_another_treating_therapist_reads_only_when_the_clinic_allows_it():
    assert not read(OTHER, Role.THERAPIST, shared=False)
    assert read(OTHER, Role.THERAPIST, shared=True)
    assert not read(OTHER, Role.THERAPIST, team=(AUTHOR,), shared=True)


@pytest.mark.parametrize(
    "role", [Role.CLINIC_ADMIN, Role.FRONT_DESK, Role.PRESCRIBER, Role.NURSE, None, "patient"]
)
@pytest.mark.parametrize("shared", [False, True])
def test_never_other_roles_nor_the_patient(role, shared):
    assert not read(OTHER, role, shared=shared)


def test_only_a_therapist_on_the_care_team_writes():
    assert may_write(writer_id=OTHER, writer_role=Role.THERAPIST, treating_therapist_ids={OTHER})
    assert not may_write(writer_id=OTHER, writer_role=Role.THERAPIST, treating_therapist_ids={AUTHOR})
    assert not may_write(writer_id=OTHER, writer_role=Role.PRESCRIBER, treating_therapist_ids={OTHER})
    assert not may_write(writer_id=OTHER, writer_role=Role.FRONT_DESK, treating_therapist_ids={OTHER})


def test_only_the_author_edits_and_only_a_draft():
    assert may_edit(editor_id=AUTHOR, author_id=AUTHOR, signed=False)
    assert not may_edit(editor_id=AUTHOR, author_id=AUTHOR, signed=True)
    assert not may_edit(editor_id=OTHER, author_id=AUTHOR, signed=False)
