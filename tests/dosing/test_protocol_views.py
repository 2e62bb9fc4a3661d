"""The clinic admin's dosing protocols: the shipped examples labelled as such, saving a new
version (the old one stays as it was), every bad value refused next to its field, a stale page
refused with 409, and no one but Demo's admin opening any of it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from kapflow.core.models import AccessLogEntry, AuditOutcome, DataCategory
from kapflow.dosing import protocol as rules
from kapflow.dosing import protocols
from kapflow.dosing.models import ProtocolVersion
from kapflow.dosing.protocol_forms import initial_for
from tests.html import field_error, field_value

ROUTES = ["sublingual", "buccal", "intramuscular", "intravenous", "nasal"]
DASH = "\N{EN DASH}"
SAVED = "Version 2 saved. Sessions already held keep the version they ran under."


def url(name: str, clinic: str = "demo", **kwargs: object) -> str:
    return reverse(f"protocols:{name}", kwargs={"clinic": clinic, **kwargs})


def form_data(world: Any, route: str = "sublingual", **changes: object) -> dict[str, Any]:
    """What the edit page posts when the admin changes nothing but ``changes``."""
    version = protocols.current(world.demo, route)
    data: dict[str, Any] = {}
    for name, value in initial_for(protocols.parsed(version), version.version).items():
        if value is None:
            data[name] = ""
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list):
            data[name] = value
        else:
            data[name] = str(value)
    data["change_note"] = "Medical director: highest dose 300 mg"
    data.update(changes)
    return data


def row_of(page: str, label: str) -> str:
    found = re.search(rf"<tr>\s*<th scope=\"row\">{re.escape(label)}</th>(.*?)</tr>", page, re.S)
    assert found is not None, label
    return found.group(1)


# --- the list and the shipped examples ------------------------------------------------------
def test_admin_sees_the_example_label_for_every_route_on_first_visit(world, login):
    client = login(world.admin)
    response = client.get(url("list"))
    assert response.status_code == 200
    page = response.content.decode()
    for label in (
        "Sublingual lozenge or tablet",
        "Buccal",
        "Intramuscular injection",
        "Intravenous infusion",
        "Nasal spray",
    ):
        row = row_of(page, label)
        assert rules.EXAMPLE_LABEL in row
        assert re.search(r"<td>1<br>", row), "version 1"
        assert "kapflow (shipped example)" in row
    assert f"100{DASH}400 mg, max 400 mg per session" in row_of(page, "Sublingual lozenge or tablet")
    assert f"0.5{DASH}0.75 mg/kg over 40 min" in row_of(page, "Intravenous infusion")
    assert f"56{DASH}84 mg" in row_of(page, "Nasal spray")
    assert "120 minutes" in row_of(page, "Nasal spray")
    assert ProtocolVersion.objects.filter(clinic=world.demo, is_example=True).count() == 5


@pytest.mark.parametrize("route", ROUTES)
def test_the_edit_page_shows_the_example_label_and_the_sources_next_to_the_values(world, login, route):
    page = login(world.admin).get(url("edit", route=route)).content.decode()
    assert rules.EXAMPLE_LABEL in page
    example = rules.EXAMPLES[route]
    for key in ("dose", "monitoring", "before", "fasting"):
        assert example["sources"][key].replace("'", "&#x27;") in page
    assert field_value(page, "dose_max") == example["dose_max"]
    assert field_value(page, "monitoring_vitals") == ", ".join(
        str(m) for m in example["monitoring"]["vitals"]
    )
    assert field_value(page, "before_systolic_caution") == "140"
    assert field_value(page, "base_version") == "1"
    assert 'name="rules"' not in page and "<textarea" in page  # real fields; only the note is a textarea
    assert (field_value(page, "infusion_minutes") is not None) == (route == "intravenous")


def test_the_protocols_link_is_in_the_admins_navigation_only(world, login):
    link = f'href="{url("list")}"'
    assert link in login(world.admin).get(reverse("clinic_home", kwargs={"clinic": "demo"})).content.decode()
    assert (
        link
        not in login(world.prescriber).get(reverse("clinic_home", kwargs={"clinic": "demo"})).content.decode()
    )


# --- saving a new version -------------------------------------------------------------------
def test_saving_a_change_makes_version_2_and_version_1_stays_readable_and_unchanged(world, login):
    client = login(world.admin)
    response = client.post(
        url("edit", route="sublingual"), form_data(world, dose_max="300", max_cumulative="300")
    )
    assert response.status_code == 302
    assert response["Location"] == url("list")
    listing = client.get(response["Location"]).content.decode()
    assert SAVED in listing
    row = row_of(listing, "Sublingual lozenge or tablet")
    assert rules.EXAMPLE_LABEL not in row and "Alex Admin" in row
    assert f"100{DASH}300 mg, max 300 mg per session" in row

    v1, v2 = ProtocolVersion.objects.filter(clinic=world.demo, route="sublingual").order_by("version")
    assert v1.values == rules.EXAMPLES["sublingual"] and v1.is_example
    assert v2.version == 2 and not v2.is_example and v2.created_by == world.admin.user
    assert v2.change_note == "Medical director: highest dose 300 mg"
    saved = protocols.parsed(v2)
    assert (saved.dose_min, saved.dose_max, saved.max_cumulative) == (100, 300, 300)
    assert saved.monitoring == protocols.parsed(v1).monitoring
    # The dose's source is now the clinic; the untouched values keep theirs.
    today = timezone.localdate().isoformat()
    assert saved.sources["dose"] == f"set by Demo KAP Clinic on {today}"
    assert saved.sources["monitoring"] == rules.EXAMPLES["sublingual"]["sources"]["monitoring"]
    assert AccessLogEntry.objects.filter(
        clinic=world.demo, category=DataCategory.CLINIC, detail="sublingual protocol version 2"
    ).exists()

    old = client.get(url("version", route="sublingual", version=1)).content.decode()
    assert f"100{DASH}400 mg, max 400 mg per session" in old
    assert rules.EXAMPLE_LABEL in old and "replaced; the current version is 2" in old
    new = client.get(url("version", route="sublingual", version=2)).content.decode()
    assert (
        f"100{DASH}300 mg, max 300 mg per session" in new and "Medical director: highest dose 300 mg" in new
    )
    history = client.get(url("history", route="sublingual")).content.decode()
    assert history.index("Version 2") < history.index("Version 1")

    edit = client.get(url("edit", route="sublingual")).content.decode()
    assert field_value(edit, "base_version") == "2" and field_value(edit, "dose_max") == "300"
    assert rules.EXAMPLE_LABEL not in edit


def test_every_value_can_be_changed_through_its_field(world, login):
    data = form_data(
        world,
        route="intravenous",
        dose_unit="mg_per_kg",
        dose_min="0.4",
        dose_max="0.6",
        max_cumulative="0.8",
        infusion_minutes="45",
        monitoring_vitals="0 15 30 45 60",
        monitoring_moaas="15, 30",
        monitoring_dissociation="30, 60",
        dissociation_instrument="moaas",
        during_spo2_low_caution="",
        during_spo2_low_hard_stop="88",
        min_observation_minutes="75",
        discharge_criteria=["min_observation", "vitals_ok", "escort_present"],
        fasting_food_hours="6",
        fasting_liquid_minutes="120",
        pregnancy_test_required="on",
        weight_valid_days="14",
        hard_stop_overridable="on",
    )
    data.pop("dose_override_allowed", None)
    response = login(world.admin).post(url("edit", route="intravenous"), data)
    assert response.status_code == 302, response.content.decode()
    saved = protocols.parsed(protocols.current(world.demo, "intravenous"))
    assert saved.dose_max == rules.Decimal("0.6") and saved.max_cumulative == rules.Decimal("0.8")
    assert saved.infusion_minutes == 45
    assert saved.monitoring == {
        rules.CheckKind.VITALS: (0, 15, 30, 45, 60),
        rules.CheckKind.MOAAS: (15, 30),
        rules.CheckKind.DISSOCIATION: (30, 60),
    }
    assert saved.dissociation_instrument == "moaas"
    assert saved.during["spo2_low"] == rules.Limit(caution=None, hard_stop=88)
    assert (
        saved.before == protocols.parsed(ProtocolVersion.objects.get(route="intravenous", version=1)).before
    )
    assert saved.discharge_criteria == {
        rules.DischargeItem.MIN_OBSERVATION,
        rules.DischargeItem.VITALS_OK,
        rules.DischargeItem.ESCORT_PRESENT,
    }
    assert (saved.fasting_food_hours, saved.fasting_liquid_minutes, saved.weight_valid_days) == (6, 120, 14)
    assert saved.pregnancy_test_required and saved.hard_stop_overridable and not saved.dose_override_allowed
    assert saved.min_observation_minutes == 75


# --- bad values -----------------------------------------------------------------------------
BAD = [
    (
        "min above max",
        {"dose_min": "350", "dose_max": "300"},
        "dose_min",
        "lowest dose cannot be above the highest",
    ),
    ("text in a number field", {"dose_max": "four hundred"}, "dose_max", "Enter a number."),
    (
        "text in a whole-number field",
        {"min_observation_minutes": "two hours"},
        "min_observation_minutes",
        "whole number",
    ),
    (
        "caution above the hard stop",
        {"before_systolic_caution": "170"},
        "before_systolic_caution",
        "caution level must be below the hard stop",
    ),
    (
        "caution below a low hard stop",
        {"during_heart_rate_low_caution": "35"},
        "during_heart_rate_low_caution",
        "caution level must be above the hard stop",
    ),
    (
        "a limit no body shows",
        {"during_spo2_low_hard_stop": "20"},
        "during_spo2_low_hard_stop",
        "greater than or equal to 50",
    ),
    (
        "minutes with a word",
        {"monitoring_vitals": "10, ten"},
        "monitoring_vitals",
        "“ten” is not a whole number of minutes",
    ),
    (
        "duplicate minutes",
        {"monitoring_moaas": "20, 40, 20"},
        "monitoring_moaas",
        "20 appears more than once",
    ),
    (
        "no vitals minutes",
        {"monitoring_vitals": ""},
        "monitoring_vitals",
        "At least one vital-signs check is required",
    ),
    ("dose max 5000 mg", {"dose_max": "5000"}, "dose_max", "Enter a number from 0.01 to 1000"),
    (
        "cumulative below the highest dose",
        {"max_cumulative": "200"},
        "max_cumulative",
        "cumulative maximum cannot be below the highest single dose",
    ),
    ("observation too short", {"min_observation_minutes": "5"}, "min_observation_minutes", "from 15 to 1440"),
    (
        "an unknown questionnaire",
        {"dissociation_instrument": "cadss"},
        "dissociation_instrument",
        "No questionnaire has the key “cadss”",
    ),
    ("no change note", {"change_note": ""}, "change_note", "This field is required."),
]


@pytest.mark.parametrize(("changes", "field", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_values_are_refused_next_to_their_field_and_nothing_is_saved(
    world, login, changes, field, message
):
    client = login(world.admin)
    data = form_data(world, **changes)
    response = client.post(url("edit", route="sublingual"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in field_error(page, field)
    assert "Please correct the problems below; nothing has been saved yet." in page
    assert field_value(page, field) == data[field]  # the typed value stays
    assert field_value(page, "change_note") == data["change_note"]
    assert ProtocolVersion.objects.filter(clinic=world.demo, route="sublingual").count() == 1


def test_several_problems_are_each_shown_at_their_own_field(world, login):
    data = form_data(
        world, dose_min="350", dose_max="300", before_diastolic_caution="105", monitoring_vitals=""
    )
    page = login(world.admin).post(url("edit", route="sublingual"), data).content.decode()
    assert "lowest dose" in field_error(page, "dose_min")
    assert "caution level" in field_error(page, "before_diastolic_caution")
    assert "vital-signs check" in field_error(page, "monitoring_vitals")
    assert field_error(page, "dose_max") == ""


def test_a_stale_page_is_refused_with_409_and_the_typed_values_kept(world, login):
    client = login(world.admin)
    stale = form_data(world, dose_max="350", change_note="Alex: 350 mg")
    assert client.post(url("edit", route="sublingual"), form_data(world, dose_max="300")).status_code == 302
    response = client.post(url("edit", route="sublingual"), stale)
    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone saved version 2 of this protocol after you opened it" in page
    assert field_value(page, "dose_max") == "350" and field_value(page, "change_note") == "Alex: 350 mg"
    assert url("version", route="sublingual", version=2) in page
    assert ProtocolVersion.objects.filter(clinic=world.demo, route="sublingual").count() == 2
    assert protocols.parsed(protocols.current(world.demo, "sublingual")).dose_max == 300


# --- who may -------------------------------------------------------------------------------
def every_page() -> list[str]:
    return [
        url("list"),
        url("edit", route="sublingual"),
        url("history", route="sublingual"),
        url("version", route="sublingual", version=1),
    ]


@pytest.mark.parametrize("persona", ["frontdesk", "therapist", "prescriber", "nurse"])
def test_only_the_clinic_admin_opens_or_posts_to_any_protocol_page(world, login, persona):
    protocols.current(world.demo, "sublingual")
    data = form_data(world, dose_max="300")
    client = login(world.member(persona))
    for path in every_page():
        denied = AccessLogEntry.objects.filter(
            outcome=AuditOutcome.DENIED, user_id=world.member(persona).user_id
        )
        before = denied.count()
        assert client.get(path).status_code == 403, path
        assert client.post(path, data).status_code == 403, path
        assert denied.count() == before + 2
        assert "clinic.configure" in denied.latest("id").detail
    assert ProtocolVersion.objects.filter(clinic=world.demo).count() == 1


def test_the_other_clinics_admin_cannot_see_demos_protocols(world, login):
    login(world.admin).post(url("edit", route="sublingual"), form_data(world, dose_max="300"))
    client = login(world.other_admin)
    for path in every_page():
        assert client.get(path).status_code == 404, path
        assert client.post(path, form_data(world, dose_max="250")).status_code == 404, path
    # Their own clinic has its own protocols: still the example, and no version 2.
    own = client.get(url("list", clinic="other")).content.decode()
    assert rules.EXAMPLE_LABEL in row_of(own, "Sublingual lozenge or tablet")
    assert f"100{DASH}400 mg" in row_of(own, "Sublingual lozenge or tablet")
    assert client.get(url("version", clinic="other", route="sublingual", version=2)).status_code == 404
    assert ProtocolVersion.objects.filter(clinic=world.demo, route="sublingual").count() == 2


def test_an_unknown_route_or_version_is_404(world, login):
    client = login(world.admin)
    assert client.get(url("edit", route="oral")).status_code == 404
    assert client.post(url("edit", route="oral"), {}).status_code == 404
    assert client.get(url("history", route="oral")).status_code == 404
    assert client.get(url("version", route="oral", version=1)).status_code == 404
    assert client.get(url("version", route="sublingual", version=7)).status_code == 404
    assert not ProtocolVersion.objects.filter(route="oral").exists()
