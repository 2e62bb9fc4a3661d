"""Two Submit clicks that reach the server at the same moment store one response."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.test import Client

from kapflow.measures.models import MeasureResponse, SafetyAlert
from tests.measures.portal.conftest import answer, submit_url


@pytest.mark.django_db(transaction=True)
def test_simultaneous_submits_store_one_response_and_one_alert(world, portal_user, patient_client, assign):
    request = assign("phq9")
    for n in range(1, 10):
        answer(patient_client, request, f"q{n}", 1)  # item 9 "several days": one alert
    start = threading.Barrier(4)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def click() -> None:
        try:
            client = Client()
            client.force_login(portal_user)
            start.wait()
            statuses.append(client.post(submit_url(request)).status_code)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(statuses) == [302, 409, 409, 409]
    assert MeasureResponse.objects.filter(request=request).count() == 1
    assert SafetyAlert.objects.count() == 1
