"""The public appointment request: validation, spam defences, rate limit, the clinic's email."""

import pytest
from django.core import mail

from kapflow.core.models import AccessLogEntry
from kapflow.intake.models import AppointmentRequest
from tests.intake.conftest import CONTACT, PRESCREEN


def send(client, data=None, address="203.0.113.5", **changes):
    return client.post("/contact/", {**(data or CONTACT), **changes}, REMOTE_ADDR=address)


def test_a_request_is_stored_and_the_person_is_told_what_happens_next(
    world, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client)
    assert response.status_code == 302
    assert response["Location"] == "/contact/thanks/"
    request = AppointmentRequest.objects.get()
    assert (request.clinic, request.name, request.email, request.status) == (
        world.demo,
        "Casey Morgan",
        "casey@example.org",
        "new",
    )
    assert "What happens next" in client.get(response["Location"]).content.decode()
    entry = AccessLogEntry.objects.filter(clinic=world.demo, category="intake", action="create").get()
    assert str(request.public_id) in entry.detail


def test_the_clinic_email_holds_only_a_link_and_nothing_of_the_person(
    world, client, django_capture_on_commit_callbacks
):
    world.demo.email = "desk@demo.test"
    world.demo.save()
    with django_capture_on_commit_callbacks(execute=True):
        send(client, phone="+1 303 555 0123", preferred_times="Tuesdays at noon")
    request = AppointmentRequest.objects.get()
    (message,) = mail.outbox
    assert message.to == ["desk@demo.test"]
    assert f"/c/demo/intake/{request.public_id}/" in message.body
    whole = f"{message.subject} {message.body}"
    for value in ["Casey", "Morgan", "casey@example.org", "555 0123", "Tuesdays", "depression", "friend"]:
        assert value not in whole


def test_without_a_clinic_address_the_admins_and_front_desk_are_told(
    world, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send(client)
    assert sorted(mail.outbox[0].to) == sorted([world.admin.user.email, world.frontdesk.user.email])


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "", "phone": ""}, "email", "Give an email address or a phone number"),
        ({"email": "not-an-address"}, "email", "Enter a valid email address"),
        ({"phone": "call me maybe"}, "phone", "Enter a phone number"),
        ({"name": ""}, "name", "This field is required"),
        ({"consent_to_contact": ""}, "consent_to_contact", "agree to be contacted"),
        ({"hopes": "x" * 20000}, "hopes", "at most 3000 characters"),
        ({"preferred_contact": "pigeon"}, "preferred_contact", "Select a valid choice"),
        ({"preferred_contact": "phone"}, "preferred_contact", "no phone number"),
    ],
)
def test_bad_input_is_explained_keeps_what_was_typed_and_stores_nothing(
    world, client, changes, field, message
):
    response = send(client, **changes)
    text = response.content.decode()
    assert response.status_code == 400
    assert message in text
    assert f'id="id_{field}_error"' in text
    assert "Some hope after years of depression." in text or "hopes" in changes
    assert AppointmentRequest.objects.count() == 0


def test_html_typed_into_a_field_is_shown_escaped_to_staff(world, client, login):
    send(client, name="<script>alert('x')</script> Lee")
    request = AppointmentRequest.objects.get()
    staff = login(world.frontdesk)
    for url in ["/c/demo/intake/", f"/c/demo/intake/{request.public_id}/"]:
        text = staff.get(url).content.decode()
        assert "&lt;script&gt;" in text
        assert "<script>alert" not in text


def test_a_filled_honeypot_is_thanked_but_nothing_is_stored(world, client):
    response = send(client, website="http://spam.example")
    assert response.status_code == 302
    assert AppointmentRequest.objects.count() == 0


def test_the_sixth_request_from_one_address_within_the_hour_is_refused(world, client):
    for n in range(5):
        assert send(client, name=f"Person {n}").status_code == 302
    response = send(client, name="Person 6")
    assert response.status_code == 429
    assert "Please wait a while" in response.content.decode()
    assert "Person 6" in response.content.decode()  # what they typed is still there
    assert AppointmentRequest.objects.count() == 5
    assert send(client, name="Someone else", address="198.51.100.7").status_code == 302


def test_the_rate_window_passes(world, client, settings):
    settings.KAPFLOW_INTAKE_RATE_LIMIT = 1
    assert send(client).status_code == 302
    AppointmentRequest.objects.update(created_at="2000-01-01T00:00:00Z")
    assert send(client).status_code == 302


def test_self_check_answers_travel_with_the_request(world, client):
    page = client.post("/is-kap-for-me/", {**PRESCREEN, "medicines": "yes"}).content.decode()
    token = page.split('name="prescreen_token" value="', 1)[1].split('"', 1)[0]
    assert send(client, prescreen_token=token).status_code == 302
    request = AppointmentRequest.objects.get()
    assert request.prescreen is not None
    assert request.prescreen["medicines"] == "yes"
    assert request.prescreen_outcome == "review"


def test_changed_self_check_answers_are_refused_and_nothing_is_stored(world, client):
    page = client.post("/is-kap-for-me/", PRESCREEN).content.decode()
    token = page.split('name="prescreen_token" value="', 1)[1].split('"', 1)[0]
    response = send(client, prescreen_token=token[:-3] + "AAA")
    assert response.status_code == 400
    assert "could not be attached" in response.content.decode()
    assert AppointmentRequest.objects.count() == 0


def test_a_request_to_another_clinic_goes_to_that_clinic(world, client):
    response = client.post("/clinics/other/contact/", CONTACT, REMOTE_ADDR="203.0.113.9")
    assert response["Location"] == "/clinics/other/contact/thanks/"
    assert AppointmentRequest.objects.get().clinic == world.other
