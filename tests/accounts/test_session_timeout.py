"""Sessions end after the clinic's idle timeout, and after an absolute maximum length."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kapflow.accounts.sessions import SESSION_IDLE_MINUTES, SESSION_LAST_SEEN, SESSION_STARTED
from tests.accounts.conftest import is_signed_in

CLINIC_HOME = reverse("clinic_home", kwargs={"clinic": "demo"})
IDLE_MESSAGE = "You were signed out after a period without activity."
ABSOLUTE_MESSAGE = "Your session reached its maximum length."


def age_session(client, *, idle_minutes: float = 0, started_hours: float = 0) -> None:
    """Pretend the last request was ``idle_minutes`` ago and sign-in ``started_hours`` ago."""
    now = time.time()
    session = client.session
    session[SESSION_LAST_SEEN] = now - idle_minutes * 60
    session[SESSION_STARTED] = now - max(started_hours * 3600, idle_minutes * 60)
    session.save()


def test_activity_within_the_default_fifteen_minutes_keeps_the_session(world, login):
    client = login(world.therapist)
    age_session(client, idle_minutes=14)
    assert client.get(CLINIC_HOME).status_code == 200
    assert is_signed_in(client)


def test_sixteen_minutes_without_activity_sign_the_person_out(world, login):
    client = login(world.therapist)
    age_session(client, idle_minutes=16)
    response = client.get(CLINIC_HOME)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={CLINIC_HOME}"
    assert not is_signed_in(client)


def test_the_sign_in_page_says_why_the_person_was_signed_out(world, login):
    client = login(world.therapist)
    age_session(client, idle_minutes=16)
    response = client.get(CLINIC_HOME, follow=True)
    assert IDLE_MESSAGE in response.content.decode()


def test_each_request_restarts_the_idle_clock(world, login):
    client = login(world.therapist)
    age_session(client, idle_minutes=10)
    client.get(CLINIC_HOME)
    assert time.time() - client.session[SESSION_LAST_SEEN] < 60
    # Ten more minutes: twenty since sign-in, but only ten idle.
    session = client.session
    session[SESSION_LAST_SEEN] -= 10 * 60
    session.save()
    assert client.get(CLINIC_HOME).status_code == 200


def test_the_clinic_page_records_the_clinic_idle_timeout_in_the_session(world, login):
    world.demo.idle_timeout_minutes = 5
    world.demo.save()
    client = login(world.therapist)
    client.get(CLINIC_HOME)
    assert client.session[SESSION_IDLE_MINUTES] == 5


def test_a_clinic_with_a_five_minute_timeout_signs_people_out_after_six(world, login):
    world.demo.idle_timeout_minutes = 5
    world.demo.save()
    client = login(world.therapist)
    assert client.get(CLINIC_HOME).status_code == 200
    age_session(client, idle_minutes=6)
    response = client.get(CLINIC_HOME, follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("accounts:login"))
    assert IDLE_MESSAGE in response.content.decode()
    assert not is_signed_in(client)


def test_a_clinic_with_a_five_minute_timeout_keeps_people_after_four(world, login):
    world.demo.idle_timeout_minutes = 5
    world.demo.save()
    client = login(world.therapist)
    client.get(CLINIC_HOME)
    age_session(client, idle_minutes=4)
    assert client.get(CLINIC_HOME).status_code == 200


def test_a_clinic_with_a_long_timeout_keeps_people_after_sixteen_minutes(world, login):
    world.demo.idle_timeout_minutes = 60
    world.demo.save()
    client = login(world.therapist)
    client.get(CLINIC_HOME)
    age_session(client, idle_minutes=16)
    assert client.get(CLINIC_HOME).status_code == 200


def test_the_clock_is_read_from_django_timezone_now(world, login, monkeypatch):
    """Same rule, moving the clock forward instead of the session back."""
    client = login(world.therapist)
    assert client.get(CLINIC_HOME).status_code == 200
    later = timezone.now() + timedelta(minutes=16)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert client.get(CLINIC_HOME).status_code == 302
    assert not is_signed_in(client)


def test_pages_outside_a_clinic_also_end_an_idle_session(world, login):
    client = login(world.therapist)
    age_session(client, idle_minutes=16)
    client.get(reverse("accounts:two_factor"))
    assert not is_signed_in(client)


def test_htmx_requests_are_told_to_go_to_the_sign_in_page(world, login):
    client = login(world.therapist)
    age_session(client, idle_minutes=16)
    response = client.get(CLINIC_HOME, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("accounts:login")


def test_keepalive_counts_as_activity(world, login):
    client = login(world.therapist)
    age_session(client, idle_minutes=10)
    assert client.post(reverse("accounts:keepalive")).status_code == 204
    assert time.time() - client.session[SESSION_LAST_SEEN] < 60


def test_keepalive_after_the_timeout_answers_401_so_the_page_reloads(world, login):
    client = login(world.therapist)
    age_session(client, idle_minutes=16)
    response = client.post(reverse("accounts:keepalive"))
    # Not a redirect: fetch() would follow it to the sign-in page and see "200 OK".
    assert response.status_code == 401
    assert not is_signed_in(client)


@pytest.mark.parametrize("hours", [13, 100])
def test_a_session_older_than_twelve_hours_ends_even_when_active(world, login, hours):
    client = login(world.therapist)
    age_session(client, idle_minutes=0, started_hours=hours)
    response = client.get(CLINIC_HOME, follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("accounts:login"))
    assert ABSOLUTE_MESSAGE in response.content.decode()
    assert not is_signed_in(client)


def test_a_session_of_eleven_hours_is_still_open(world, login):
    client = login(world.therapist)
    age_session(client, idle_minutes=1, started_hours=11)
    assert client.get(CLINIC_HOME).status_code == 200


def test_the_absolute_length_follows_the_setting(world, login, settings):
    settings.KAPFLOW_SESSION_ABSOLUTE_HOURS = 2
    client = login(world.therapist)
    age_session(client, idle_minutes=1, started_hours=3)
    response = client.get(CLINIC_HOME, follow=True)
    assert ABSOLUTE_MESSAGE in response.content.decode()
    assert not is_signed_in(client)


def test_a_timed_out_session_cannot_be_reused(world, login):
    client = login(world.therapist)
    key = client.session.session_key
    age_session(client, idle_minutes=16)
    client.get(CLINIC_HOME)
    assert not Session.objects.filter(session_key=key).exists()


def test_keepalive_without_a_session_answers_401(world, client):
    assert client.post(reverse("accounts:keepalive")).status_code == 401


def test_a_page_refreshing_itself_on_a_timer_does_not_keep_an_idle_session_alive(world, login):
    """The today board and the live dosing page poll; a poll is not someone at the keyboard."""
    client = login(world.therapist)
    age_session(client, idle_minutes=10)
    board_rows = reverse("calendar:today_rows", kwargs={"clinic": "demo"})
    assert client.get(board_rows, HTTP_HX_REQUEST="true", HTTP_X_KAPFLOW_POLL="1").status_code == 200
    assert time.time() - client.session[SESSION_LAST_SEEN] > 9 * 60
    age_session(client, idle_minutes=16)
    polled = client.get(board_rows, HTTP_HX_REQUEST="true", HTTP_X_KAPFLOW_POLL="1")
    assert polled.status_code == 204 and polled["HX-Redirect"] == reverse("accounts:login")
    assert not is_signed_in(client)


def test_pages_opened_in_quick_succession_write_the_session_once(world, login):
    """The idle clock needs no database write on every page: one per half minute is enough."""
    client = login(world.therapist)
    age_session(client, idle_minutes=1)
    for expected_writes in (1, 0, 0):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(CLINIC_HOME).status_code == 200
        writes = [q for q in queries if q["sql"].startswith("UPDATE") and "django_session" in q["sql"]]
        assert len(writes) == expected_writes
    assert time.time() - client.session[SESSION_LAST_SEEN] < 60
