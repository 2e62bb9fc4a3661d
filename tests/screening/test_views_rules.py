"""The clinic's eligibility rules: shipped as labelled examples, edited as new versions."""

import json

import pytest

from kapflow.screening import services
from kapflow.screening.models import ClinicRules
from kapflow.screening.rules import DEFAULT_RULES, rules_to_data

URL = "/c/demo/screening/rules/"


def test_the_shipped_rules_are_shown_as_examples(world, login):
    page = login(world.admin).get(URL).content.decode()
    assert "example rules" in page
    assert DEFAULT_RULES.version in page


def test_an_edited_rule_set_becomes_the_clinics_new_version(world, login):
    data = rules_to_data(DEFAULT_RULES)
    data.update({"version": "clinic-2", "bp_caution": [135, 85], "example": False})
    response = login(world.admin).post(URL, {"rules": json.dumps(data)})
    assert response.status_code == 302
    rules = services.rules_for(world.demo)
    assert (rules.version, rules.bp_caution) == ("clinic-2", (135, 85))
    assert services.rules_for(world.other).version == DEFAULT_RULES.version


@pytest.mark.parametrize(("text", "message"), [("{nope", "Not valid JSON"), ('{"version": ""}', "")])
def test_malformed_rules_are_refused_with_the_problem(world, login, text, message):
    response = login(world.admin).post(URL, {"rules": text})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ClinicRules.objects.exists()


@pytest.mark.parametrize("persona", ["frontdesk", "therapist", "prescriber", "nurse"])
def test_only_the_clinic_admin_edits_the_rules(world, login, persona):
    assert login(world.member(persona)).get(URL).status_code == 403
