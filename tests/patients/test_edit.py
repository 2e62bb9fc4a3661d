"""Editing a patient's details: saves that are logged, and no silent overwrite of a newer save."""

from __future__ import annotations

from django.test import Client

from kapflow.core.models import AccessLogEntry, AuditAction, DataCategory
from kapflow.patients.models import Patient
from kapflow.patients.services import STALE_EDIT
from tests.html import field_error, field_value
from tests.patients.forms import as_posted, url


def signed_in(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def reload(patient: Patient) -> Patient:
    return Patient.objects.get(pk=patient.pk)


def test_front_desk_saves_new_contact_details(world, login):
    client = login(world.frontdesk)
    page = client.get(url("edit", world.patient)).content.decode()
    assert field_value(page, "phone") == "+1 303 555 0101"
    response = client.post(url("edit", world.patient), as_posted(world.patient, phone="+1 720 555 0123"))
    assert response.status_code == 302
    assert response["Location"] == url("chart", world.patient)
    saved = reload(world.patient)
    assert saved.phone == "+1 720 555 0123"
    assert saved.version == world.patient.version + 1
    assert saved.updated_by == world.frontdesk.user
    assert "+1 720 555 0123" in client.get(response["Location"]).content.decode()


def test_an_update_writes_an_update_entry_naming_the_changed_fields(world, login):
    login(world.admin).post(
        url("edit", world.patient), as_posted(world.patient, phone="+1 720 555 0123", pronouns="they/them")
    )
    entry = AccessLogEntry.objects.filter(patient=world.patient, action=AuditAction.UPDATE).latest("id")
    assert entry.category == DataCategory.DEMOGRAPHICS
    assert entry.user == world.admin.user
    assert "phone" in entry.detail and "pronouns" in entry.detail
    assert "legal_given_name" not in entry.detail


def test_opening_the_edit_page_is_logged_as_a_view(world, login):
    login(world.frontdesk).get(url("edit", world.patient))
    entry = AccessLogEntry.objects.filter(patient=world.patient).latest("id")
    assert (entry.action, entry.category, entry.user) == (
        AuditAction.VIEW,
        DataCategory.DEMOGRAPHICS,
        world.frontdesk.user,
    )


def test_a_second_edit_from_the_same_starting_point_is_refused_with_the_typed_values(world):
    frankie, alex = signed_in(world.frontdesk), signed_in(world.admin)
    # Both open the form while the record is at the same version.
    base = as_posted(world.patient)
    first = frankie.post(url("edit", world.patient), dict(base, phone="+1 720 555 0001"))
    assert first.status_code == 302

    second = alex.post(url("edit", world.patient), dict(base, email="new@example.org", pronouns="she/her"))
    assert second.status_code == 409
    page = second.content.decode()
    assert STALE_EDIT in page
    assert "+1 720 555 0001" in page  # what is saved now is shown for comparison
    assert field_value(page, "email") == "new@example.org"
    assert field_value(page, "pronouns") == "she/her"
    saved = reload(world.patient)
    assert saved.phone == "+1 720 555 0001"
    assert saved.email == "jordan@example.org"
    assert saved.pronouns == ""

    # The re-rendered form carries the current version, so saving it again succeeds.
    resubmitted = {name: field_value(page, name) or "" for name in base}
    assert resubmitted["version"] == str(saved.version)
    resubmitted["phone"] = "+1 720 555 0001"  # Alex keeps Frankie's new phone number
    third = alex.post(url("edit", world.patient), resubmitted)
    assert third.status_code == 302
    final = reload(world.patient)
    assert (final.email, final.pronouns, final.phone) == ("new@example.org", "she/her", "+1 720 555 0001")
    updates = AccessLogEntry.objects.filter(
        patient=world.patient, action=AuditAction.UPDATE, category=DataCategory.DEMOGRAPHICS
    )
    assert updates.count() == 2  # the refused save was not logged as a change


def test_a_record_number_already_used_is_refused_on_edit_and_nothing_is_saved(world, login):
    client = login(world.frontdesk)
    client.post(
        url("create"),
        as_posted(world.patient, record_number="R-2", legal_given_name="Kim", version=""),
    )
    response = client.post(
        url("edit", world.patient), as_posted(world.patient, record_number="r-2", phone="+1 720 555 0777")
    )
    assert response.status_code == 400
    assert field_error(response.content.decode(), "record_number") == (
        "Record number r-2 is already used in this clinic."
    )
    saved = reload(world.patient)
    assert (saved.record_number, saved.phone) == ("R-1", "+1 303 555 0101")


def test_the_record_number_cannot_be_emptied_on_edit(world, login):
    response = login(world.frontdesk).post(
        url("edit", world.patient), as_posted(world.patient, record_number="")
    )
    assert response.status_code == 400
    assert field_error(response.content.decode(), "record_number") == "This field is required."
    assert reload(world.patient).record_number == "R-1"


def test_a_clinician_on_the_care_team_may_correct_details_but_one_off_it_may_not(world, login):
    data = as_posted(world.patient, preferred_name="Jo")
    assert login(world.therapist).post(url("edit", world.patient), data).status_code == 302
    assert reload(world.patient).preferred_name == "Jo"
    refused = signed_in(world.nurse).post(url("edit", world.patient), as_posted(reload(world.patient)))
    assert refused.status_code == 403
    assert reload(world.patient).version == world.patient.version + 1


def test_history_keeps_every_saved_version(world, login):
    login(world.frontdesk).post(url("edit", world.patient), as_posted(world.patient, phone="+1 720 555 0123"))
    phones = list(world.patient.history.order_by("history_id").values_list("phone", flat=True))
    assert phones == ["+1 303 555 0101", "+1 720 555 0123"]
    assert reload(world.patient).history.latest().history_user == world.frontdesk.user
