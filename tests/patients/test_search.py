"""Finding a patient by name, date of birth or record number, within one's own clinic only."""

from __future__ import annotations

import re
from datetime import date

import pytest

from kapflow.core.models import AccessLogEntry, AuditAction, DataCategory
from kapflow.patients import services
from tests.patients.forms import url


@pytest.fixture
def people(world):
    """Jordan Rivera (R-1, born 1986-04-12) is in the world already; add some namesakes."""

    def add(member, given, family, born, **extra):
        data = {"legal_given_name": given, "legal_family_name": family, "date_of_birth": born}
        return services.patient_create(member=member, data=dict(data, **extra))

    return {
        "jordan": world.patient,
        "jordana": add(world.frontdesk, "Jordana", "Smith", date(1990, 5, 5)),
        "maria": add(world.frontdesk, "Maria", "Jordan", date(1975, 3, 3), record_number="MJ-9"),
        "alex": add(world.frontdesk, "Alexandra", "Ng", date(1986, 4, 12), preferred_name="Lexi"),
        # The same name and birthday at the other clinic must never show up at Demo.
        "twin": add(world.other_admin, "Jordan", "Rivera", date(1986, 4, 12), record_number="R-1"),
        "olivia": world.other_patient,
    }


def found(response) -> set:
    ids = re.findall(r'href="/c/[\w-]+/patients/([0-9a-f-]{36})/"', response.content.decode())
    return set(ids)


def search(client, q, clinic="demo", **headers):
    return client.get(url("list", clinic=clinic), {"q": q}, **headers)


def ids(people, *names) -> set:
    return {str(people[name].public_id) for name in names}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("jor", ("jordan", "jordana", "maria")),
        ("JORDAN", ("jordan", "jordana", "maria")),
        ("riv", ("jordan",)),
        ("jordan rivera", ("jordan",)),
        ("Rivera, Jordan", ("jordan",)),
        ("jor smi", ("jordana",)),
        ("lexi", ("alex",)),
        ("jordan nobody", ()),
    ],
)
def test_search_by_name_is_partial_case_insensitive_and_matches_every_word(
    world, people, login, query, expected
):
    response = search(login(world.therapist), query)
    assert response.status_code == 200
    assert found(response) == ids(people, *expected)


@pytest.mark.parametrize("query", ["1986-04-12", "04/12/1986"])
def test_search_by_date_of_birth_in_either_format(world, people, login, query):
    assert found(search(login(world.frontdesk), query)) == ids(people, "jordan", "alex")


@pytest.mark.parametrize(("query", "expected"), [("R-1", "jordan"), ("r-1", "jordan"), ("mj-9", "maria")])
def test_search_by_record_number(world, people, login, query, expected):
    assert found(search(login(world.nurse), query)) == ids(people, expected)


@pytest.mark.parametrize("query", ["Rivera", "1986-04-12", "R-1", "Olivia", "Stone"])
def test_search_never_returns_another_clinics_patients(world, people, login, query):
    assert found(search(login(world.admin), query)).isdisjoint(ids(people, "twin", "olivia"))


def test_the_other_clinic_finds_its_own_patient_and_not_ours(world, people, login):
    assert found(search(login(world.other_therapist), "rivera", clinic="other")) == ids(people, "twin")


def test_no_match_says_so_and_offers_to_create_to_those_who_may(world, people, login):
    desk = search(login(world.frontdesk), "Zebedee").content.decode()
    assert "No patient matches “Zebedee”." in desk
    assert url("create") in desk
    therapist = search(login(world.therapist), "Zebedee").content.decode()
    assert "No patient matches" in therapist
    assert f'href="{url("create")}"' not in therapist


def test_htmx_search_returns_only_the_results_partial(world, people, login):
    client = login(world.frontdesk)
    partial = search(client, "rivera", HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    html = partial.content.decode()
    assert "<html" not in html
    assert "<form" not in html
    assert found(partial) == ids(people, "jordan")
    full = search(client, "rivera").content.decode()
    assert "<html" in full
    assert 'role="search"' in full


def test_each_search_is_logged_with_the_number_of_results(world, people, login):
    search(login(world.therapist), "jor")
    entry = AccessLogEntry.objects.filter(user=world.therapist.user, action=AuditAction.VIEW).latest("id")
    assert entry.category == DataCategory.DEMOGRAPHICS
    assert entry.detail == "patient search: 3 result(s)"
    assert entry.patient is None


def test_an_empty_search_shows_a_hint_and_lists_nobody(world, people, login):
    response = search(login(world.frontdesk), "   ")
    assert response.status_code == 200
    assert found(response) == set()
    assert "Type a name, a date of birth or a record number." in response.content.decode()
