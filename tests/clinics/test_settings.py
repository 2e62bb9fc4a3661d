"""Clinic settings: the admin edits the clinic, its locations and rooms; no one else can."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from kapflow.clinics.models import Clinic, Location, Room
from kapflow.core.models import AccessLogEntry, AuditAction, DataCategory
from tests.html import field_error, field_value


def url(name: str, clinic: str = "demo", **kwargs: object) -> str:
    return reverse(f"clinics:{name}", kwargs={"clinic": clinic, **kwargs})


def clinic_form(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Demo KAP Clinic",
        "time_zone": "America/Denver",
        "address": "",
        "phone": "",
        "email": "",
        "crisis_line_text": "In an emergency call 911.",
        "idle_timeout_minutes": 15,
        "alert_hours_high": 4,
        "alert_hours_moderate": 24,
        "preparation_visits_required": 2,
        "integration_due_days": 3,
        "appointment_notice_hours": 24,
        "reminder_hours": "48, 2",
        "dosing_setup_minutes": 20,
        "turnover_minutes": 15,
        "report_min_group": 5,
    }
    data.update(changes)
    return data


def test_admin_edits_name_time_zone_crisis_text_and_idle_timeout(world, login):
    client = login(world.admin)
    page = client.get(url("settings")).content.decode()
    assert field_value(page, "time_zone") == "America/Denver"
    response = client.post(
        url("settings"),
        clinic_form(
            name="Demo Mountain Clinic",
            time_zone="America/Phoenix",
            crisis_line_text="Call or text 988 at any hour.",
            idle_timeout_minutes=30,
        ),
    )
    assert response.status_code == 302
    clinic = Clinic.objects.get(pk=world.demo.pk)
    assert (clinic.name, clinic.time_zone, clinic.crisis_line_text, clinic.idle_timeout_minutes) == (
        "Demo Mountain Clinic",
        "America/Phoenix",
        "Call or text 988 at any hour.",
        30,
    )
    after = client.get(response["Location"]).content.decode()
    assert "Clinic settings saved." in after
    assert re.search(r'class="tz"[^>]*>America/Phoenix<', after)  # the header shows the new zone
    entry = AccessLogEntry.objects.filter(clinic=world.demo, category=DataCategory.CLINIC).latest("id")
    assert entry.action == AuditAction.UPDATE
    assert "time_zone" in entry.detail and "name" in entry.detail


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("time_zone", "Mars/Olympus_Mons", "Select a valid choice."),
        ("idle_timeout_minutes", 1, "greater than or equal to 2"),
        ("idle_timeout_minutes", 999, "less than or equal to 240"),
        ("name", "", "This field is required."),
    ],
)
def test_invalid_settings_are_refused_next_to_the_field(world, login, field, value, message):
    response = login(world.admin).post(url("settings"), clinic_form(**{"name": "Typed Name", field: value}))
    assert response.status_code == 400
    page = response.content.decode()
    assert message in field_error(page, field)
    if field != "name":
        assert field_value(page, "name") == "Typed Name"
    clinic = Clinic.objects.get(pk=world.demo.pk)
    assert (clinic.name, clinic.time_zone, clinic.idle_timeout_minutes) == (
        "Demo KAP Clinic",
        "America/Denver",
        15,
    )


def test_admin_adds_a_location_and_rooms_in_it(world, login):
    client = login(world.admin)
    response = client.post(
        url("location_create"), {"name": "Annex", "address": "2 Side St", "is_active": "on"}
    )
    assert response.status_code == 302
    annex = Location.objects.get(clinic=world.demo, name="Annex")
    for name in ("Dosing room A", "Consult 1"):
        kind = "treatment" if name.startswith("Dosing") else "consultation"
        data = {"location": annex.pk, "name": name, "kind": kind, "is_active": "on"}
        assert client.post(url("room_create"), data).status_code == 302
    assert set(Room.objects.filter(location=annex).values_list("name", "kind")) == {
        ("Dosing room A", "treatment"),
        ("Consult 1", "consultation"),
    }
    assert all(room.clinic == world.demo for room in Room.objects.filter(location=annex))
    page = client.get(url("settings")).content.decode()
    assert "Annex" in page and "Dosing room A" in page and "Consult 1" in page
    created = AccessLogEntry.objects.filter(clinic=world.demo, category=DataCategory.CLINIC, action="create")
    assert created.count() == 3


def test_a_duplicate_location_name_is_a_field_error(world, login):
    response = login(world.admin).post(url("location_create"), {"name": "main", "is_active": "on"})
    assert response.status_code == 400
    assert (
        field_error(response.content.decode(), "name") == "This clinic already has a location with that name."
    )
    assert Location.objects.filter(clinic=world.demo).count() == 1


def test_the_same_location_name_is_fine_in_another_clinic(world, login):
    response = login(world.other_admin).post(url("location_create", clinic="other"), {"name": "Main"})
    assert response.status_code == 302
    assert Location.objects.filter(clinic=world.other, name="Main").exists()


def test_a_duplicate_room_name_in_a_location_is_a_field_error(world, login):
    data = {"location": world.room.location_id, "name": "dosing ROOM 1", "kind": "treatment"}
    response = login(world.admin).post(url("room_create"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert field_error(page, "name") == "That location already has a room with this name."
    assert field_value(page, "name") == "dosing ROOM 1"
    assert Room.objects.filter(location=world.room.location).count() == 1


def test_admin_renames_a_room(world, login):
    data = {"location": world.room.location_id, "name": "Dosing room 1 (east)", "kind": "treatment"}
    response = login(world.admin).post(url("room_edit", room_id=world.room.pk), data)
    assert response.status_code == 302
    world.room.refresh_from_db()
    assert world.room.name == "Dosing room 1 (east)"
    assert world.room.is_active is False  # an unticked box takes the room out of use


def test_a_room_cannot_be_put_in_another_clinics_location(world, login):
    elsewhere = Location.objects.create(clinic=world.other, name="Other main")
    data = {"location": elsewhere.pk, "name": "Sneaky", "kind": "treatment"}
    response = login(world.admin).post(url("room_create"), data)
    assert response.status_code == 400
    assert "Select a valid choice." in field_error(response.content.decode(), "location")
    assert not Room.objects.filter(name="Sneaky").exists()


@pytest.mark.parametrize("persona", ["frontdesk", "therapist", "prescriber", "nurse"])
def test_other_roles_are_refused_the_settings(world, login, persona):
    client = login(world.member(persona))
    assert client.get(url("settings")).status_code == 403
    assert client.post(url("settings"), clinic_form(name="Hijacked")).status_code == 403
    assert client.post(url("location_create"), {"name": "Hijacked"}).status_code == 403
    room = {"location": world.room.location_id, "name": "Hijacked", "kind": "other"}
    assert client.post(url("room_edit", room_id=world.room.pk), room).status_code == 403
    assert Clinic.objects.get(pk=world.demo.pk).name == "Demo KAP Clinic"
    assert not Location.objects.filter(name="Hijacked").exists()
    assert Room.objects.get(pk=world.room.pk).name == "Dosing room 1"


def test_the_other_clinics_admin_gets_404_for_our_settings(world, login):
    client = login(world.other_admin)
    assert client.get(url("settings")).status_code == 404
    assert client.post(url("settings"), clinic_form(name="Hijacked")).status_code == 404
    assert Clinic.objects.get(pk=world.demo.pk).name == "Demo KAP Clinic"


def test_the_other_clinics_admin_cannot_reach_our_room_or_location_by_id(world, login):
    client = login(world.other_admin)
    room_url = url("room_edit", clinic="other", room_id=world.room.pk)
    location_url = url("location_edit", clinic="other", location_id=world.room.location_id)
    assert client.get(room_url).status_code == 404
    assert client.get(location_url).status_code == 404
    other_main = Location.objects.create(clinic=world.other, name="Other main")
    data = {"location": other_main.pk, "name": "Stolen", "kind": "other", "is_active": "on"}
    assert client.post(room_url, data).status_code == 404
    assert client.post(location_url, {"name": "Stolen", "is_active": "on"}).status_code == 404
    world.room.refresh_from_db()
    assert (world.room.name, world.room.location.clinic) == ("Dosing room 1", world.demo)
    assert Location.objects.get(pk=world.room.location_id).name == "Main"


@pytest.mark.parametrize("hours", ["48, two", "0", "400", "2, 2", "1, 2, 3, 4, 5, 6"])
def test_reminder_times_must_be_a_short_list_of_different_hours(world, login, hours):
    response = login(world.admin).post(url("settings"), clinic_form(reminder_hours=hours))
    assert response.status_code == 400
    assert "Give up to 5 different whole numbers of hours" in response.content.decode()
