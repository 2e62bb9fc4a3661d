"""Front desk works the queue: contact attempts, notes, status, assignment, duplicates."""

import pytest
from django.test import Client

from kapflow.core.models import AccessLogEntry
from kapflow.intake import services
from kapflow.intake.models import ActivityKind, AppointmentRequest


def make_request(clinic, name="Casey Morgan", email="casey@example.org", **extra):
    data = {
        "name": name,
        "email": email,
        "phone": "",
        "preferred_contact": "email",
        "preferred_times": "",
        "hopes": "",
        "heard_from": "",
        "consent_to_contact": True,
        **extra,
    }
    return services.request_submit(clinic=clinic, data=data, answers=None, source=name, link="http://x/{id}/")


def url(request, tail=""):
    return f"/c/{request.clinic.slug}/intake/{request.public_id}/{tail}"


def test_the_queue_shows_open_requests_newest_first_and_filters_by_status(world, login):
    first = make_request(world.demo, "First Person")
    second = make_request(world.demo, "Second Person")
    services.request_set_status(member=world.frontdesk, request=first, status="declined")
    desk = login(world.frontdesk)
    text = desk.get("/c/demo/intake/").content.decode()
    assert "Second Person" in text and "First Person" not in text
    text = desk.get("/c/demo/intake/?status=declined").content.decode()
    assert "First Person" in text and "Second Person" not in text
    text = desk.get("/c/demo/intake/?status=all").content.decode()
    assert text.index("Second Person") < text.index("First Person")
    assert second.status == "new"


def test_a_bad_filter_is_a_400_not_a_500(world, login):
    assert login(world.frontdesk).get("/c/demo/intake/?status=lost").status_code == 400


def test_recording_a_contact_attempt_moves_a_new_request_to_contacted(world, login):
    request = make_request(world.demo)
    response = login(world.frontdesk).post(
        url(request, "contact/"),
        {"contact-method": "phone", "contact-outcome": "left_message", "contact-text": "Voicemail"},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "contacted"
    activity = request.activities.get()
    assert (activity.kind, activity.method, activity.outcome, activity.text) == (
        ActivityKind.CONTACT_ATTEMPT,
        "phone",
        "left_message",
        "Voicemail",
    )
    assert AccessLogEntry.objects.filter(
        detail__contains="contact attempt", user=world.frontdesk.user
    ).exists()


def test_a_note_an_assignment_and_a_status_are_recorded(world, login):
    request = make_request(world.demo)
    desk = login(world.frontdesk)
    assert desk.post(url(request, "note/"), {"note-text": "Asked for a call after 5pm"}).status_code == 302
    assert desk.post(url(request, "assign/"), {"assign-assignee": world.admin.pk}).status_code == 302
    assert desk.post(url(request, "status/"), {"status-status": "screening_booked"}).status_code == 302
    request.refresh_from_db()
    assert request.assigned_to == world.admin.user
    assert request.status == "screening_booked"
    page = desk.get(url(request)).content.decode()
    assert "Asked for a call after 5pm" in page
    assert "Assigned to Alex Admin" in page
    assert "Casey Morgan" not in desk.get("/c/demo/intake/?mine=on&status=all").content.decode()
    admin = Client()
    admin.force_login(world.admin.user)
    assert "Casey Morgan" in admin.get("/c/demo/intake/?mine=on&status=all").content.decode()


def test_an_empty_note_is_refused_with_a_message(world, login):
    request = make_request(world.demo)
    response = login(world.frontdesk).post(url(request, "note/"), {"note-text": ""})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert request.activities.count() == 0


def test_assigning_to_someone_of_another_clinic_is_refused(world, login):
    request = make_request(world.demo)
    response = login(world.frontdesk).post(url(request, "assign/"), {"assign-assignee": world.other_admin.pk})
    assert response.status_code == 400
    request.refresh_from_db()
    assert request.assigned_to is None


def test_a_duplicate_points_to_the_original(world, login):
    original = make_request(world.demo)
    again = make_request(world.demo, "Casey M.")
    desk = login(world.frontdesk)
    assert desk.post(url(again, "duplicate/"), {"duplicate-of": str(original.public_id)}).status_code == 302
    again.refresh_from_db()
    assert (again.status, again.duplicate_of) == ("duplicate", original)


@pytest.mark.parametrize("reference", ["nonsense", "00000000-0000-0000-0000-000000000000", "self"])
def test_a_duplicate_of_nothing_or_itself_is_refused(world, login, reference):
    request = make_request(world.demo)
    reference = str(request.public_id) if reference == "self" else reference
    response = login(world.frontdesk).post(url(request, "duplicate/"), {"duplicate-of": reference})
    assert response.status_code == 400
    assert "No other request of this clinic has that reference." in response.content.decode()
    request.refresh_from_db()
    assert request.status == "new"


def test_a_duplicate_of_another_clinics_request_is_refused(world, login):
    theirs = make_request(world.other)
    ours = make_request(world.demo)
    response = login(world.frontdesk).post(url(ours, "duplicate/"), {"duplicate-of": str(theirs.public_id)})
    assert response.status_code == 400


def test_an_unknown_action_is_404(world, login):
    request = make_request(world.demo)
    assert login(world.frontdesk).post(url(request, "delete/")).status_code == 404


@pytest.mark.parametrize("persona", ["therapist", "prescriber", "nurse"])
def test_clinicians_are_refused_the_queue_and_the_requests(world, login, persona):
    request = make_request(world.demo)
    client = login(world.member(persona))
    assert client.get("/c/demo/intake/").status_code == 403
    assert client.get(url(request)).status_code == 403
    assert client.post(url(request, "note/"), {"note-text": "x"}).status_code == 403
    assert request.activities.count() == 0


def test_another_clinics_request_is_404(world, login):
    theirs = make_request(world.other)
    assert login(world.frontdesk).get(f"/c/demo/intake/{theirs.public_id}/").status_code == 404
    assert login(world.other_admin).get(f"/c/other/intake/{theirs.public_id}/").status_code == 200


def test_reading_a_request_is_audited(world, login):
    request = make_request(world.demo)
    login(world.frontdesk).get(url(request))
    assert AccessLogEntry.objects.filter(
        user=world.frontdesk.user, action="view", category="intake", detail=f"request {request.public_id}"
    ).exists()
    assert AppointmentRequest.objects.count() == 1
