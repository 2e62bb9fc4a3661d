"""The clinic admin publishes consent form versions; nobody else may."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import escape

from kapflow.consent import content, services
from kapflow.consent.models import ConsentTemplate
from kapflow.consent.selectors import current_template
from kapflow.core.models import AccessLogEntry
from tests.consent.conftest import publish
from tests.html import field_value

URL = reverse("consent:templates", kwargs={"clinic": "demo"})


def test_each_publication_is_a_new_version_and_the_highest_is_current(world):
    first = publish(world, body="First text.")
    second = publish(world, body="Second text.")
    assert (first.version, second.version) == (1, 2)
    assert current_template(world.demo) == second
    first.refresh_from_db()
    assert first.body == "First text."
    assert AccessLogEntry.objects.filter(detail="consent template v2 published").exists()


def test_a_published_version_cannot_be_edited(world):
    template = publish(world)
    template.body = "Changed behind everyone's back"
    with pytest.raises(TypeError):
        template.save()


def test_versions_are_numbered_per_clinic(world):
    publish(world)
    other = services.template_publish(member=world.other_admin, title="Other", body="Their text.")
    assert other.version == 1


@pytest.mark.parametrize("persona", ["frontdesk", "therapist", "prescriber", "nurse"])
def test_only_the_clinic_admin_may_publish(world, persona):
    with pytest.raises(PermissionDenied):
        services.template_publish(member=world.member(persona), title="T", body="B")
    assert not ConsentTemplate.objects.exists()


def test_the_admin_publishes_from_the_page_prefilled_with_the_example_text(world, login):
    client = login(world.admin)
    page = client.get(URL).content.decode()
    assert field_value(page, "body") == str(content.EXAMPLE_BODY)
    assert escape(str(content.EXAMPLE_LABEL)) in page
    response = client.post(URL, {"title": "Our consent", "body": "## Our text\nRead it."})
    assert response.status_code == 302
    assert current_template(world.demo).title == "Our consent"  # type: ignore[union-attr]
    # The next publication starts from the current text.
    assert field_value(client.get(URL).content.decode(), "body") == "## Our text\nRead it."


def test_an_empty_text_is_refused_and_what_was_typed_stays(world, login):
    response = login(world.admin).post(URL, {"title": "Kept title", "body": "  "})
    assert response.status_code == 400
    assert field_value(response.content.decode(), "title") == "Kept title"
    assert not ConsentTemplate.objects.exists()


def test_staff_other_than_the_admin_get_403_and_another_clinic_404(world, login):
    assert login(world.therapist).post(URL, {"title": "T", "body": "B"}).status_code == 403
    assert login(world.other_admin).get(URL).status_code == 404
    assert not ConsentTemplate.objects.exists()


def test_the_clinic_settings_page_links_to_the_consent_form(world, login):
    page = login(world.admin).get(reverse("clinics:settings", kwargs={"clinic": "demo"})).content.decode()
    assert URL in page
