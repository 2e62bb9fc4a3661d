"""The care team: the front desk adds and removes clinicians, and that decides clinical access."""

from __future__ import annotations

from kapflow.core.models import AccessLogEntry, AuditAction, AuditOutcome, DataCategory
from kapflow.patients.models import CareTeamMember, CareTeamRole
from tests.patients.forms import url


def current_team(patient) -> set[str]:
    rows = CareTeamMember.objects.filter(patient=patient, removed_at__isnull=True)
    return set(rows.values_list("user__email", flat=True))


def row_of(world, member) -> CareTeamMember:
    return CareTeamMember.objects.get(patient=world.patient, user=member.user, removed_at__isnull=True)


def test_front_desk_adds_a_nurse_who_then_sees_the_clinical_summary(world, login):
    nurse = login(world.nurse)
    assert nurse.get(url("clinical", world.patient)).status_code == 403
    assert "Clinical summary" not in nurse.get(url("chart", world.patient)).content.decode()

    desk = login(world.frontdesk)
    response = desk.post(url("care_team_add", world.patient), {"member": world.nurse.pk})
    assert response.status_code == 302
    assert response["Location"] == url("chart", world.patient)
    assert "Nico Nurse added to the care team." in desk.get(response["Location"]).content.decode()
    assert row_of(world, world.nurse).team_role == CareTeamRole.MEDICAL
    assert row_of(world, world.nurse).added_by == world.frontdesk.user

    nurse = login(world.nurse)
    assert "Clinical summary" in nurse.get(url("chart", world.patient)).content.decode()
    assert nurse.get(url("clinical", world.patient)).status_code == 200


def test_adding_to_the_care_team_is_logged(world, login):
    login(world.frontdesk).post(url("care_team_add", world.patient), {"member": world.nurse.pk})
    entry = AccessLogEntry.objects.filter(patient=world.patient).latest("id")
    assert (entry.action, entry.category, entry.outcome) == (
        AuditAction.UPDATE,
        DataCategory.CARE_TEAM,
        AuditOutcome.ALLOWED,
    )
    assert entry.detail == "added nico@demo.test as medical"


def test_only_active_clinicians_not_yet_on_the_team_can_be_added(world, login):
    desk = login(world.frontdesk)
    before = current_team(world.patient)
    for refused in (world.therapist, world.admin, world.other_therapist):
        response = desk.post(url("care_team_add", world.patient), {"member": refused.pk}, follow=True)
        assert "Choose a clinician to add to the care team." in response.content.decode()
    assert current_team(world.patient) == before
    assert CareTeamMember.objects.filter(patient=world.patient).count() == 2


def test_removal_ends_clinical_access_but_keeps_the_row(world, login):
    row = row_of(world, world.therapist)
    response = login(world.frontdesk).post(url("care_team_remove", world.patient, row_id=row.pk))
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.removed_at is not None
    assert row.removed_by == world.frontdesk.user
    assert current_team(world.patient) == {"priya@demo.test"}

    desk_chart = login(world.frontdesk).get(url("chart", world.patient)).content.decode()
    assert "<li>Priya Prescriber " in desk_chart
    assert "<li>Theo Therapist " not in desk_chart
    assert ">Theo Therapist (Therapist)</option>" in desk_chart  # offered to be added back

    therapist = login(world.therapist)
    assert therapist.get(url("clinical", world.patient)).status_code == 403
    assert "Clinical summary" not in therapist.get(url("chart", world.patient)).content.decode()


def test_removing_someone_already_removed_says_so_and_changes_nothing(world, login):
    row = row_of(world, world.therapist)
    desk = login(world.frontdesk)
    desk.post(url("care_team_remove", world.patient, row_id=row.pk))
    row.refresh_from_db()
    removed_at = row.removed_at
    again = desk.post(url("care_team_remove", world.patient, row_id=row.pk), follow=True)
    assert "That person is no longer on the care team." in again.content.decode()
    row.refresh_from_db()
    assert row.removed_at == removed_at


def test_a_removed_clinician_can_be_added_back_as_a_new_row(world, login):
    desk = login(world.frontdesk)
    desk.post(url("care_team_remove", world.patient, row_id=row_of(world, world.therapist).pk))
    desk.post(url("care_team_add", world.patient), {"member": world.therapist.pk})
    rows = CareTeamMember.objects.filter(patient=world.patient, user=world.therapist.user)
    assert rows.count() == 2
    assert rows.filter(removed_at__isnull=True).count() == 1


def test_history_records_who_added_and_who_removed(world, login):
    desk = login(world.frontdesk)
    desk.post(url("care_team_add", world.patient), {"member": world.nurse.pk})
    row = row_of(world, world.nurse)
    desk.post(url("care_team_remove", world.patient, row_id=row.pk))
    history = list(row.history.order_by("history_id"))
    assert [h.history_type for h in history] == ["+", "~"]
    assert [h.history_user for h in history] == [world.frontdesk.user, world.frontdesk.user]
    assert history[0].removed_at is None
    assert history[1].removed_at is not None


def test_clinicians_cannot_change_the_care_team(world, login):
    row = row_of(world, world.prescriber)
    therapist = login(world.therapist)
    assert therapist.post(url("care_team_add", world.patient), {"member": world.nurse.pk}).status_code == 403
    assert therapist.post(url("care_team_remove", world.patient, row_id=row.pk)).status_code == 403
    assert current_team(world.patient) == {"theo@demo.test", "priya@demo.test"}
    denied = AccessLogEntry.objects.filter(
        user=world.therapist.user, outcome=AuditOutcome.DENIED, category=DataCategory.CARE_TEAM
    )
    assert denied.count() == 2


def test_a_row_of_another_patient_cannot_be_removed_through_this_patient(world, login):
    other_row = CareTeamMember.objects.create(
        clinic=world.other,
        patient=world.other_patient,
        user=world.other_therapist.user,
        team_role=CareTeamRole.THERAPIST,
        added_by=world.other_admin.user,
    )
    response = login(world.frontdesk).post(
        url("care_team_remove", world.patient, row_id=other_row.pk), follow=True
    )
    assert "That person is no longer on the care team." in response.content.decode()
    other_row.refresh_from_db()
    assert other_row.removed_at is None
