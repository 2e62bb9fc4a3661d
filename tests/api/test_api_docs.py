"""The OpenAPI schema and the documentation page: staff read them; nobody else does; the page
needs nothing from the internet and nothing the Content-Security-Policy forbids."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.api.helpers import api

pytestmark = pytest.mark.django_db

DOCS = reverse("api:docs")
SCHEMA = reverse("api:schema")
PROBLEM = "application/problem+json"


def test_a_staff_member_reads_the_documentation_page_and_the_schema(world, login):
    client = login(world.therapist)
    page = client.get(DOCS)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<title>kapflow API</title>" in html

    schema = client.get(SCHEMA, {"format": "json"})
    assert schema.status_code == 200
    document = schema.json()
    assert document["info"]["title"] == "kapflow API"
    assert "/api/v1/patients/" in document["paths"]

    script_url = re.search(r'<script src="([^"]*\?[^"]*script=[^"]*)"', html)
    assert script_url is not None, "Swagger UI is started by a script file, not an inline script"
    script = client.get(script_url.group(1).replace("&amp;", "&"))
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode() and SCHEMA in script.content.decode()


def test_the_page_runs_under_the_sites_content_security_policy_from_local_files(world, login):
    page = login(world.admin).get(DOCS)
    html = page.content.decode()
    policy = page["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy and "style-src 'self'" in policy
    assert "<style" not in html and " style=" not in html, "inline styles are refused by the policy"
    assert all(re.search(r"\bsrc=", tag) for tag in re.findall(r"<script[^>]*>", html)), "no inline script"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/") for a in assets), f"every asset is served by kapflow: {assets}"
    for asset in (a for a in assets if a.startswith("/static/")):
        assert "swagger" in asset or "kapflow" in asset


def test_a_token_reads_the_schema(world):
    response = api(world.nurse, read_only=True).get(SCHEMA, {"format": "json"})
    assert response.status_code == 200 and response.json()["openapi"].startswith("3.")


def test_an_anonymous_visitor_is_refused(client):
    page = client.get(DOCS)
    assert page.status_code == 302 and page["Location"].startswith(reverse("accounts:login") + "?next=")
    schema = client.get(SCHEMA)
    assert schema.status_code == 401 and schema["Content-Type"] == PROBLEM
    assert schema.json()["status"] == 401, "a problem is JSON, even where the schema itself would be YAML"


def test_a_patient_signed_in_to_the_portal_finds_neither(world, portal_user, client):
    client.force_login(portal_user)
    assert client.get(DOCS).status_code == 404
    assert client.get(SCHEMA).status_code == 401


def test_the_schema_tells_how_to_authenticate_and_how_each_operation_refuses(world):
    document = api(world.admin).get(SCHEMA, {"format": "json"}).json()
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert {"bearerAuth": []} in operation["security"], (method, path)
            for status in ("400", "401", "403", "404", "429"):
                content = operation["responses"][status]["content"]
                assert PROBLEM in content, (method, path, status)
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            if "If-Match" in names:
                assert {"412", "428"} <= set(operation["responses"]), (method, path)
