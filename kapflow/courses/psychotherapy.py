"""Who may read and write a psychotherapy note: a pure rule, no Django.

A psychotherapy note is kept apart from the record. This rule applies to those who may open the
patient's clinical record at all (the care team: ``core.permissions``), so an author who has
left the care team no longer reaches the note. Its author always reads it; the other
therapists on the patient's care team read it only when the clinic allows it
(``Clinic.psychotherapy_notes_shared_with_treating_therapists``). Front desk, clinic admins,
prescribers, nurses and the patient never do. Only a therapist on the patient's care team
writes one.
"""

from __future__ import annotations

from collections.abc import Collection

from kapflow.core.roles import Role


def may_read(
    *,
    reader_id: int,
    reader_role: Role | str | None,
    author_id: int,
    treating_therapist_ids: Collection[int],
    shared_setting: bool,
) -> bool:
    """May this reader see the note's text (and learn that the note exists)?"""
    if reader_id == author_id:
        return True
    if reader_role != Role.THERAPIST:
        return False
    return shared_setting and reader_id in treating_therapist_ids


def may_write(
    *, writer_id: int, writer_role: Role | str | None, treating_therapist_ids: Collection[int]
) -> bool:
    """May this person start a psychotherapy note about the patient?"""
    return writer_role == Role.THERAPIST and writer_id in treating_therapist_ids


def may_edit(*, editor_id: int, author_id: int, signed: bool) -> bool:
    """Only the author changes or signs a note, and only while it is a draft."""
    return editor_id == author_id and not signed
