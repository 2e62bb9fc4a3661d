"""No secrets or health data in the logs: not in any record Django, django-axes or kapflow
make, not in what the console handler writes, not in gunicorn's access or error log."""

from __future__ import annotations

import io
import logging
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from gunicorn.config import Config
from rest_framework.test import APIClient

from kapflow.accounts.services import invitation_create
from kapflow.api.tokens import token_create, token_revoke
from kapflow.core import logs
from kapflow.core.logs import ACCESS_LOG_FORMAT, AccessLogger, RedactFilter, redact, redact_path
from kapflow.patients import services as patients
from kapflow.portal.services import portal_invitation_send
from kapflow.scheduling.feed_views import feed_create, feed_revoke
from tests.api.helpers import token_for

NAME = "Quillon"  # the patient's family name: only ever in a query string or a form
PASSWORD = "hunter2-Quillon-secret"
NOTE = "sertraline-withdrawal-marker"


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def written(caplog):
    """Every log record at DEBUG (caplog), the configured console handler's output, and the
    lines of kapflow's gunicorn logger (``served`` writes one per response)."""
    for name in ["", *list(logging.root.manager.loggerDict)]:
        caplog.set_level(logging.DEBUG, logger=name)
    consoles = [
        h for h in logging.getLogger().handlers if any(isinstance(f, RedactFilter) for f in h.filters)
    ]
    assert consoles, "settings.LOGGING's console handler redacts"
    console = io.StringIO()
    old_streams = [h.setStream(console) for h in consoles]  # type: ignore[attr-defined]
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", ACCESS_LOG_FORMAT)
    gunicorn = AccessLogger(cfg)
    access, error = Lines(), Lines()
    gunicorn.access_log.addHandler(access)
    gunicorn.error_log.addHandler(error)
    yield SimpleNamespace(caplog=caplog, console=console, gunicorn=gunicorn, access=access, error=error)
    gunicorn.access_log.removeHandler(access)
    gunicorn.error_log.removeHandler(error)
    for handler, stream in zip(consoles, old_streams, strict=True):
        handler.setStream(stream)  # type: ignore[attr-defined]


def served(written, client, method: str, path: str, *args, **kwargs):
    """The request through the test client, and gunicorn's access line for it."""
    response = getattr(client, method)(path, *args, **kwargs)
    environ = dict(response.wsgi_request.environ)
    query = environ.get("QUERY_STRING", "")
    environ.update(
        RAW_URI=environ["PATH_INFO"] + (f"?{query}" if query else ""),
        SERVER_PROTOCOL="HTTP/1.1",
        HTTP_REFERER=f"https://kapflow.example.org/c/demo/patients/?q={NAME}",
    )
    resp = SimpleNamespace(
        status=f"{response.status_code} {response.reason_phrase}", sent=len(response.content), headers=[]
    )
    req = SimpleNamespace(
        headers=[(k[5:].replace("_", "-"), v) for k, v in environ.items() if k.startswith("HTTP_")]
    )
    written.gunicorn.access(resp, req, environ, timedelta(milliseconds=12))
    return response


def everything(written) -> str:
    records = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in written.caplog.records
    )
    return "\n".join([records, written.console.getvalue(), *written.access.lines, *written.error.lines])


def test_requests_with_secrets_and_health_data_leave_none_in_the_logs(world, written, login):
    patient = patients.patient_create(
        member=world.frontdesk,
        data={
            "legal_given_name": "Ada",
            "legal_family_name": NAME,
            "date_of_birth": date(1980, 1, 1),
            "email": "ada.quillon@example.org",
            "record_number": "R-77",
        },
    )
    secrets: list[str] = [NAME, PASSWORD, NOTE, "ada.quillon@example.org"]

    staff = login(world.frontdesk)
    # A patient search: the name is in the query string.
    assert served(written, staff, "get", "/c/demo/patients/", {"q": NAME}).status_code == 200
    # A form refused (400) with health text in it.
    edit = reverse("patients:clinical", kwargs={"clinic": "demo", "patient_id": patient.public_id})
    served(written, login(world.therapist), "post", edit, {"presenting_concerns": NOTE, "version": "x"})

    # A password-reset link, valid (302) and unknown (200).
    user = world.nurse.user
    uid, reset = urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)
    secrets += [reset]
    served(written, Client(), "get", f"/accounts/password-reset/{uid}/{reset}/")
    served(written, Client(), "get", f"/accounts/password-reset/{uid}/{reset[:-3]}zzz/")

    # A staff invitation: opened, then the form refused (400), then revoked (410).
    _invitation, invite = invitation_create(
        actor=world.admin.user,
        clinic=world.demo,
        email="new.nurse@example.org",
        full_name="New Nurse",
        role="nurse",
        accept_url="https://kapflow.example.org/accounts/invitation/{token}/",
    )
    secrets += [invite, "new.nurse@example.org"]
    served(written, Client(), "get", f"/accounts/invitation/{invite}/")
    served(
        written,
        Client(),
        "post",
        f"/accounts/invitation/{invite}/",
        {"password1": PASSWORD, "password2": "x"},
    )
    served(written, Client(), "get", f"/accounts/invitation/{invite}x/")

    # A portal invitation: the form refused (400) on a live link.
    _portal, join = portal_invitation_send(
        member=world.frontdesk,
        patient=patient,
        email="ada.quillon@example.org",
        accept_url="https://kapflow.example.org/portal/join/{token}/",
    )
    secrets += [join]
    served(written, Client(), "post", f"/portal/join/{join}/", {"password1": PASSWORD, "password2": "nope"})

    # A calendar feed: fetched (200), then revoked (404).
    feed, feed_token = feed_create(member=world.therapist, label="phone")
    secrets += [feed_token]
    served(written, Client(), "get", f"/feeds/{feed_token}.ics")
    feed_revoke(member=world.therapist, feed=feed)
    served(written, Client(), "get", f"/feeds/{feed_token}.ics")

    # Failed sign-ins with a password, for a patient's email and for a member of staff.
    served(
        written,
        Client(),
        "post",
        "/accounts/login/",
        {"email": "ada.quillon@example.org", "password": PASSWORD},
    )
    served(written, Client(), "post", "/accounts/login/", {"email": "theo@demo.test", "password": PASSWORD})

    # API calls: a good token reading a patient that is not there (404), a revoked token (401).
    good = token_for(world.therapist)
    old, revoked = token_create(user=world.nurse.user, membership=world.nurse, name="x", read_only=True)
    token_revoke(user=world.nurse.user, token=old)
    secrets += [good, revoked, good[3:], revoked[3:]]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {good}")
    served(written, api, "get", "/api/v1/patients/00000000-0000-0000-0000-000000000000/", {"q": NAME})
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {revoked}")
    served(written, api, "get", "/api/v1/patients/", {"search": NAME})

    # gunicorn's own error line for a request it could not handle.
    try:
        raise RuntimeError(f"boom on /portal/join/{join}/")
    except RuntimeError:
        written.gunicorn.exception("Error handling request %s", f"/c/demo/patients/?q={NAME}")

    text = everything(written)
    assert written.access.lines and written.error.lines and written.caplog.records
    assert "Bad Request" in text and "Gone" in text and "Not Found" in text and "Unauthorized" in text
    leaked = sorted({s for s in secrets if s.lower() in text.lower()})
    assert leaked == [], f"in the logs: {leaked}"


def test_the_access_line_is_method_path_status_size_time(written):
    response = SimpleNamespace(status="302 Found", sent=0, headers=[("Location", "/x/?q=Ada")])
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/accounts/password-reset/MTI/c4q-0123456789abcdef/",
        "QUERY_STRING": "next=/c/demo/patients/?q=Ada",
        "RAW_URI": "/accounts/password-reset/MTI/c4q-0123456789abcdef/?next=x",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": "https://kapflow.example.org/c/demo/patients/?q=Ada",
        "HTTP_USER_AGENT": "Mozilla/5.0",
        "HTTP_AUTHORIZATION": "Bearer kf_abc",
    }
    request = SimpleNamespace(headers=[("AUTHORIZATION", "Bearer kf_abc")])
    written.gunicorn.access(response, request, environ, timedelta(seconds=1, microseconds=234_000))
    assert written.access.lines == ["GET /accounts/password-reset/[redacted]/[redacted]/ 302 0 1234ms"]
    # Whatever format an operator sets, the unsafe parts are not there to print.
    written.gunicorn.cfg.set("access_log_format", '%(h)s %(r)s %(q)s "%(f)s" "%(a)s" %({authorization}i)s')
    written.gunicorn.access(response, request, environ, timedelta(seconds=1))
    assert written.access.lines[-1] == '- - - "-" "-" -'


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/accounts/invitation/AbC-123_x/", "/accounts/invitation/[redacted]/"),
        ("/portal/join/AbC-123_x/", "/portal/join/[redacted]/"),
        ("/feeds/AbC-123_x.ics", "/feeds/[redacted].ics"),
        ("/accounts/password-reset/MTI/set-password/", "/accounts/password-reset/[redacted]/[redacted]/"),
        ("/accounts/password-reset/sent/", "/accounts/password-reset/sent/"),
        ("/accounts/password-reset/complete/", "/accounts/password-reset/complete/"),
        ("/c/demo/patients/?q=Ada+Quillon", "/c/demo/patients/"),
        (
            "/c/demo/patients/0b6f5c1e-8d0e-4c4e-9a53-0c1c1c1c1c1c/",
            "/c/demo/patients/0b6f5c1e-8d0e-4c4e-9a53-0c1c1c1c1c1c/",
        ),
    ],
)
def test_secret_segments_and_query_strings_are_masked(path, logged):
    assert redact_path(path) == logged
    assert redact(f"Not Found: {path}") == f"Not Found: {logged}" + ("?[redacted]" if "?" in path else "")


def test_tokens_and_email_addresses_are_masked_in_any_message():
    text = redact("Bearer kf_AbC123 from ada@example.org failed; token kf_xyz")
    assert text == "Bearer [redacted] from [redacted]@… failed; token kf_[redacted]"
    assert redact("Is it? Yes.") == "Is it? Yes."


def test_records_are_redacted_as_they_are_made(caplog):
    assert getattr(logging.getLogRecordFactory(), "kapflow_redacts", False)
    logs.install()  # a second call does not wrap twice
    with caplog.at_level(logging.WARNING, logger="kapflow"):
        logging.getLogger("kapflow.test").warning("Gone: %s", "/portal/join/secret-token/")
    assert caplog.records[-1].getMessage() == "Gone: /portal/join/[redacted]/"


def test_the_failed_attempts_axes_keeps_mask_the_password_the_email_and_the_code(world, client):
    from axes.models import AccessAttempt
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.accounts.conftest import VERIFY_URL, sign_in, wrong_code_for

    sign_in(client, "theo@demo.test", PASSWORD)
    device = TOTPDevice.objects.create(user=world.nurse.user, name="phone", confirmed=True)
    assert sign_in(client, "nico@demo.test")["Location"] == VERIFY_URL
    code = wrong_code_for(device)
    assert client.post(VERIFY_URL, {"code": code}).status_code == 400
    stored = "\n".join(a.post_data + a.get_data for a in AccessAttempt.objects.all())
    assert stored.count("email=") == 1 and "code=" in stored  # both attempts are kept ...
    for secret in (PASSWORD, "theo@demo.test", f"code={code}"):
        assert secret not in stored  # ... without their values
