"""Hardening: security headers on every kind of response, no inline script or style a strict
Content-Security-Policy would block, production cookies, upload limits, token guessing throttled.

(Sign-in rate limits: tests/accounts/test_login_rate_limit.py. Logs: tests/core/test_logs.py.
The deploy check: tests/accounts/test_production_settings.py.)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

import kapflow
from kapflow.api.tokens import token_create, token_revoke
from kapflow.core import ratelimit
from kapflow.measures.instruments.builtin import BUILT_IN
from kapflow.measures.instruments.definitions import to_definition
from kapflow.measures.models import ClinicInstrument
from tests.api.helpers import api, token_for
from tests.consent.conftest import sign

PROBLEM = "application/problem+json"


# --- headers --------------------------------------------------------------------------------------
def directives(policy: str) -> dict[str, list[str]]:
    found = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            found[words[0]] = words[1:]
    return found


def assert_hardened(response, what: str) -> None:
    policy = response.get("Content-Security-Policy")
    assert policy, f"{what}: no Content-Security-Policy"
    parsed = directives(policy)
    for name, sources in parsed.items():
        assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources, (
            f"{what}: {name} {sources}"
        )
    assert parsed.get("frame-ancestors") == ["'none'"], what
    assert parsed.get("object-src") == ["'none'"], what
    assert "default-src" in parsed and "script-src" in parsed, what
    assert response.get("X-Content-Type-Options") == "nosniff", what
    assert response.get("Referrer-Policy") == "same-origin", what
    assert response.get("X-Frame-Options") == "DENY", what
    assert response.get("Cross-Origin-Opener-Policy") == "same-origin", what


def patient_url(world, name: str, **kwargs) -> str:
    return reverse(name, kwargs={"clinic": "demo", "patient_id": world.patient.public_id, **kwargs})


PAGES: dict[str, tuple[str, int, str]] = {
    # what: (who, expected status, content type it starts with)
    "public page": ("anonymous", 200, "text/html"),
    "sign-in": ("anonymous", 200, "text/html"),
    "staff page": ("frontdesk", 200, "text/html"),
    "patient page": ("therapist", 200, "text/html"),
    "chart SVG": ("therapist", 200, "image/svg+xml"),
    "portal": ("patient", 200, "text/html"),
    "API": ("token", 200, "application/json"),
    "API error": ("anonymous", 401, PROBLEM),
    "FHIR": ("token", 200, "application/fhir+json"),
    "404 page": ("anonymous", 404, "text/html"),
    "PDF": ("patient", 200, "application/pdf"),
    "API docs": ("admin", 200, "text/html"),
    "too large": ("anonymous", 413, "text/html"),
}


def fetch(world, portal_user, what: str):
    who = PAGES[what][0]
    client: Any = APIClient() if who in ("token", "anonymous") else Client()
    if who == "token":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(world.therapist)}")
    elif who == "patient":
        client.force_login(portal_user)
    elif who != "anonymous":
        client.force_login(world.member(who).user)
    if what == "public page":
        return client.get("/clinics/demo/")
    if what == "sign-in":
        return client.get(reverse("accounts:login"))
    if what == "staff page":
        return client.get("/c/demo/patients/", {"q": "Rivera"})
    if what == "patient page":
        return client.get(patient_url(world, "patients:chart"))
    if what == "chart SVG":
        return client.get(patient_url(world, "measures:trajectory_svg", key="phq9"))
    if what == "portal":
        return client.get(reverse("portal:home"))
    if what in ("API", "API error"):
        return client.get("/api/v1/patients/")
    if what == "FHIR":
        return client.get(f"/fhir/Patient/{world.patient.public_id}")
    if what == "404 page":
        return client.get("/no-such-page/")
    if what == "PDF":
        signature = sign(world, portal_user)
        return client.get(reverse("portal_consent:pdf", kwargs={"signature_id": signature.public_id}))
    if what == "API docs":
        return client.get(reverse("api:docs"))
    if what == "too large":
        return client.post(
            reverse("accounts:login"), data=b"x" * (1024 * 1024 + 1), content_type="text/plain"
        )
    raise AssertionError(what)


@pytest.mark.parametrize("what", sorted(PAGES))
def test_every_kind_of_response_carries_the_security_headers(world, portal_user, what):
    response = fetch(world, portal_user, what)
    _who, status, content_type = PAGES[what]
    assert response.status_code == status, (what, response.content[:300])
    assert response["Content-Type"].startswith(content_type), (what, response["Content-Type"])
    assert_hardened(response, what)


def test_the_chart_svg_needs_no_inline_style(world, login):
    svg = login(world.therapist).get(patient_url(world, "measures:trajectory_svg", key="phq9"))
    body = svg.content.decode()
    assert "<svg" in body and " style=" not in body and "<style" not in body


# --- templates: nothing the policy would block ----------------------------------------------------
TEMPLATE_ROOT = Path(kapflow.__file__).parent
# Rendered by WeasyPrint into a PDF, never served as a page: their <style> is not under the CSP.
PDF_TEMPLATES = {"consent/pdf.html", "dosing/pdf.html", "outcomes/summary_pdf.html"}
BLOCKED = [
    (re.compile(r"\bstyle\s*="), "an inline style attribute"),
    (re.compile(r"<style\b"), "a <style> element"),
    (re.compile(r"\son[a-z]+\s*="), "an inline event handler"),
    (re.compile(r"javascript:", re.IGNORECASE), "a javascript: URL"),
    (re.compile(r"\bhx-on\b|\bhx-vars\b|\bjs:"), "htmx evaluating script"),
]


def templates() -> list[Path]:
    return sorted(p for p in TEMPLATE_ROOT.rglob("templates/**/*.html"))


def template_name(path: Path) -> str:
    return str(path).split("/templates/", 1)[1]


def test_no_template_has_inline_script_or_style_the_policy_would_block():
    found = templates()
    assert len(found) > 100, "the scan found the templates"
    problems = []
    for path in found:
        if template_name(path) in PDF_TEMPLATES:
            continue
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), 1):
            for pattern, what in BLOCKED:
                if pattern.search(line):
                    problems.append(f"{template_name(path)}:{number}: {what}: {line.strip()[:100]}")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and "nonce=" not in tag:
                problems.append(f"{template_name(path)}: an inline <script> without a nonce: {tag}")
    assert problems == []


def test_the_scan_would_find_what_it_looks_for():
    bad = '<p style="x" onclick="y"><a href="javascript:z"><script>alert(1)</script><div hx-on:click="x">'
    assert {what for pattern, what in BLOCKED if pattern.search(bad)} == {
        "an inline style attribute",
        "an inline event handler",
        "a javascript: URL",
        "htmx evaluating script",
    }


# --- production cookies and HSTS ------------------------------------------------------------------
PRODUCTION_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({k: getattr(s, k) for k in ("
    "'SESSION_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'SESSION_COOKIE_SAMESITE', "
    "'CSRF_COOKIE_SECURE', 'CSRF_COOKIE_HTTPONLY', 'CSRF_COOKIE_SAMESITE', 'SECURE_HSTS_SECONDS', "
    "'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_HSTS_PRELOAD', 'SECURE_SSL_REDIRECT', "
    "'SECURE_PROXY_SSL_HEADER')}))"
)


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> dict[str, object]:
    """The cookie and HSTS settings of a production environment (a fresh interpreter)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAPFLOW_") and k != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="kapflow.settings",
        KAPFLOW_ENV="production",
        KAPFLOW_SECRET_KEY="x" * 60,
        KAPFLOW_ALLOWED_HOSTS="kapflow.example.org",
        KAPFLOW_DATA_DIR=str(tmp_path_factory.mktemp("production")),
    )
    result = subprocess.run(  # noqa: S603 - our interpreter, fixed arguments
        [sys.executable, "-c", PRODUCTION_SETTINGS], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_sets_hsts_and_secure_httponly_samesite_cookies(production):
    assert production["SECURE_HSTS_SECONDS"] >= 31536000
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and production["SECURE_HSTS_PRELOAD"]
    assert production["SECURE_SSL_REDIRECT"]
    for cookie in ("SESSION", "CSRF"):
        assert production[f"{cookie}_COOKIE_SECURE"] is True
        assert production[f"{cookie}_COOKIE_HTTPONLY"] is True
        assert production[f"{cookie}_COOKIE_SAMESITE"] in ("Lax", "Strict")


def test_with_the_production_settings_the_cookies_a_browser_gets_are_flagged(world, settings, production):
    for name, value in production.items():
        setattr(settings, name, tuple(value) if isinstance(value, list) else value)
    client = Client()
    form = client.get(reverse("accounts:login"), secure=True)
    assert "max-age=31536000" in form["Strict-Transport-Security"]
    assert "includeSubDomains" in form["Strict-Transport-Security"]
    signed_in = client.post(
        reverse("accounts:login"),
        {"email": "theo@demo.test", "password": "correct-horse-battery"},
        secure=True,
    )
    assert signed_in.status_code == 302
    cookies = {**form.cookies, **signed_in.cookies}
    for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
        morsel = cookies[name]
        assert morsel["secure"] is True and morsel["httponly"] is True, name
        assert (
            morsel["samesite"] == production[f"{'SESSION' if 'session' in name else 'CSRF'}_COOKIE_SAMESITE"]
        )


# --- uploads -------------------------------------------------------------------------------------
UPLOAD = "/c/demo/measures/instruments/"


def definition() -> bytes:
    data = to_definition(BUILT_IN["gad7"])
    data.update({"key": "calm5", "name": "Calm scale", "short_name": "CALM-5", "version": "1"})
    return json.dumps(data).encode()


def multipart_of_size(total: int) -> tuple[bytes, str]:
    boundary = "kapflowboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="definition"; filename="big.json"\r\n'
        "Content-Type: application/json\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head + b" " * (total - len(head) - len(tail)) + tail, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("size", [1024 * 1024 + 1, 5 * 1024 * 1024])
def test_an_oversized_upload_is_refused_with_a_page_and_nothing_is_saved(world, login, size):
    body, content_type = multipart_of_size(size)
    response = login(world.admin).generic("POST", UPLOAD, body, content_type=content_type)
    assert response.status_code == 413
    page = response.content.decode()
    assert "Too much sent at once" in page and "1024 KB" in page and "nothing was read or saved" in page
    assert not ClinicInstrument.objects.exists()


def test_an_oversized_form_anywhere_is_refused_before_it_is_read(world, login):
    response = login(world.frontdesk).post(
        "/c/demo/patients/new/", {"legal_given_name": "x" * (1024 * 1024 + 10)}
    )
    assert response.status_code == 413 and "Too much sent at once" in response.content.decode()


def test_a_file_just_under_the_limit_reaches_the_form_and_gets_its_message(world, login):
    body, content_type = multipart_of_size(1000 * 1024)
    response = login(world.admin).generic("POST", UPLOAD, body, content_type=content_type)
    assert response.status_code == 400 and "larger than 256 KB" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("scale.txt", None, "Choose a JSON file (its name ends in .json)."),
        ("scale.json.exe", None, "Choose a JSON file"),
        ("scale", None, "Choose a JSON file"),
        ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00", "Choose a JSON file"),
        ("photo.json", b"\x89PNG\r\n\x1a\n\x00\x00", "not text in UTF-8"),
        ("page.json", b"<html><script>alert(1)</script></html>", "not valid JSON"),
    ],
)
def test_a_file_of_another_type_is_refused_with_a_form_error(world, login, name, content, message):
    upload = SimpleUploadedFile(name, content or definition(), content_type="application/json")
    response = login(world.admin).post(UPLOAD, {"definition": upload})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ClinicInstrument.objects.exists()


def test_two_files_in_one_form_are_refused_without_an_error_page(world, login):
    files = [
        SimpleUploadedFile(f"s{i}.json", definition(), content_type="application/json") for i in range(2)
    ]
    response = login(world.admin).post(UPLOAD, {"definition": files})
    assert response.status_code == 400
    assert not ClinicInstrument.objects.exists()


def test_a_json_definition_is_still_accepted(world, login):
    upload = SimpleUploadedFile("Scale.JSON", definition(), content_type="application/octet-stream")
    response = login(world.admin).post(UPLOAD, {"definition": upload})
    assert response.status_code == 302
    assert ClinicInstrument.objects.get().key == "calm5"


# --- guessing API tokens ----------------------------------------------------------------------------
@pytest.fixture
def window_start(monkeypatch) -> float:
    """The counts are per fixed window (``now // 60``): a test that crossed a window's end half-way
    (a busy CI machine) would see its count start again. These run at the start of a window (a
    multiple of 300 s, so of 60 s too)."""
    start = (ratelimit._now() // 300 + 1) * 300 + 1
    monkeypatch.setattr(ratelimit, "_now", lambda: start)
    return start


def guess(client: APIClient, secret: str, path: str = "/api/v1/patients/"):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client.get(path)


def test_unknown_tokens_from_one_address_are_throttled_with_retry_after(world, settings, window_start):
    settings.KAPFLOW_API_BAD_TOKEN_LIMIT = 20
    guesser = APIClient(REMOTE_ADDR="198.51.100.7")
    statuses = [guess(guesser, f"kf_guess{i:040d}").status_code for i in range(21)]
    assert statuses == [401] * 20 + [429]
    refused = guess(guesser, "kf_guess-again")
    assert refused.status_code == 429 and refused["Content-Type"] == PROBLEM
    assert 1 <= int(refused["Retry-After"]) <= 61
    assert refused.json()["status"] == 429 and "unknown or revoked tokens" in refused.json()["detail"]
    # A right token from that address waits too, or a guess would still be told apart.
    assert guess(guesser, token_for(world.therapist)).status_code == 429
    # Another address is not affected, and nor is the browser's session.
    assert api(world.therapist).get("/api/v1/patients/").status_code == 200


def test_revoked_tokens_count_as_guesses_and_fhir_is_throttled_alike(world, settings, window_start):
    settings.KAPFLOW_API_BAD_TOKEN_LIMIT = 3
    token, secret = token_create(user=world.nurse.user, membership=world.nurse, name="old", read_only=True)
    token_revoke(user=world.nurse.user, token=token)
    client = APIClient(REMOTE_ADDR="198.51.100.8")
    fhir = f"/fhir/Patient/{world.patient.public_id}"
    assert [guess(client, secret, fhir).status_code for _ in range(3)] == [401, 401, 401]
    refused = guess(client, secret, fhir)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1


def test_the_window_ends_and_right_tokens_never_count(world, settings, monkeypatch, window_start):
    settings.KAPFLOW_API_BAD_TOKEN_LIMIT = 2
    client = APIClient(REMOTE_ADDR="198.51.100.9")
    good = token_for(world.therapist)
    assert [guess(client, good).status_code for _ in range(5)] == [200] * 5
    assert [guess(client, "kf_nope").status_code for _ in range(3)] == [401, 401, 429]
    later = ratelimit._now() + 61
    monkeypatch.setattr(ratelimit, "_now", lambda: later)
    assert guess(client, good).status_code == 200
