"""The public site: pages for the default clinic at /, every clinic under /clinics/<slug>/."""

import pytest

from kapflow.intake.models import PublicPage


def test_home_and_how_kap_works_are_public_with_the_crisis_line(world, client):
    world.demo.crisis_line_text = "Call the Demo crisis line on 555-0000."
    world.demo.save()
    for url in ["/", "/how-kap-works/", "/is-kap-for-me/", "/contact/", "/contact/thanks/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Call the Demo crisis line on 555-0000." in response.content.decode(), url


def test_how_kap_works_explains_the_medical_professional_routes_and_integration(world, client):
    text = client.get("/how-kap-works/").content.decode()
    for words in ["never your therapist", "lozenge", "45 minutes", "Integration", "screening"]:
        assert words in text


def test_each_clinic_has_its_pages_under_its_slug(world, client):
    response = client.get("/clinics/other/how-kap-works/")
    assert response.status_code == 200
    assert "Other KAP Clinic" in response.content.decode()


def test_an_unknown_or_closed_clinic_is_404(world, client):
    assert client.get("/clinics/nowhere/").status_code == 404
    world.other.is_active = False
    world.other.save()
    assert client.get("/clinics/other/").status_code == 404


def test_with_several_clinics_and_no_default_the_root_lists_them(world, client, settings):
    settings.KAPFLOW_PUBLIC_CLINIC = ""
    text = client.get("/").content.decode()
    assert "/clinics/demo/" in text and "/clinics/other/" in text


def test_the_only_clinic_is_served_at_the_root(world, client, settings):
    settings.KAPFLOW_PUBLIC_CLINIC = ""
    world.other.is_active = False
    world.other.save()
    assert "Demo KAP Clinic" in client.get("/").content.decode()


def test_the_admin_edits_a_page_and_the_public_sees_it_escaped(world, login):
    admin = login(world.admin)
    url = "/c/demo/intake/pages/how-kap-works/"
    assert "shipped example text" in admin.get(url).content.decode()
    body = "## Our way\nWe see you <script>alert(1)</script> first.\n\nSecond paragraph."
    response = admin.post(url, {"title": "How we work", "body": body})
    assert response.status_code == 302
    admin.logout()
    text = admin.get("/how-kap-works/").content.decode()
    assert "<h2>Our way</h2>" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script>alert(1)" not in text
    assert PublicPage.objects.get(clinic=world.demo, slug="how-kap-works").updated_by == world.admin.user


def test_an_empty_page_text_is_refused_and_keeps_the_title(world, login):
    response = login(world.admin).post("/c/demo/intake/pages/home/", {"title": "Kept title", "body": ""})
    assert response.status_code == 400
    assert "Kept title" in response.content.decode()
    assert not PublicPage.objects.exists()


@pytest.mark.parametrize("persona", ["frontdesk", "therapist", "prescriber", "nurse"])
def test_only_the_clinic_admin_edits_public_pages(world, login, persona):
    assert login(world.member(persona)).get("/c/demo/intake/pages/home/").status_code == 403


def test_an_unknown_page_is_404(world, login):
    assert login(world.admin).get("/c/demo/intake/pages/prices/").status_code == 404
