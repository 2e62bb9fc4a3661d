"""Schemathesis over every operation of the OpenAPI schema, as every staff role: no server error,
and every answer (status code, content type, body) as the schema declares it.

The schema is the one ``/api/schema/`` serves, generated in-process; the calls go to the WSGI
app in-process too, inside the test's transaction, with a read-write token of each staff role:
the clinic admin, the front desk, Theo and Priya (therapist and prescriber on Jordan's care
team) and Nico (a nurse who is not), so writes run and refusals are checked as well. Hypothesis
is derandomized (the same cases on every run); the examples per operation per role are
``KAPFLOW_FUZZ_EXAMPLES`` (a few in the suite, 100 in ``bench/fuzz.py``), and every case run is
counted (tests/fuzz/tally.py). Generated ids would only ever find nothing (404), so hooks swap
in, some of the time, the ids of real records of the world (tests/api/api_world.py), its
patient in ``?patient=``, the record's current ETag in ``If-Match`` and, for the writes, a body
a clinician would really send. The stateful run (links between operations) is in
tests/fuzz/test_api_stateful.py.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kapflow.api.versions import etag
from kapflow.courses.models import ClinicalNote, TreatmentCourse, Visit
from kapflow.dosing.models import Administration, DosingSession
from kapflow.measures.models import MeasureAssignment, MeasureResponse, SafetyAlert
from kapflow.patients.models import Patient
from kapflow.scheduling.models import Appointment
from kapflow.screening.models import EligibilityDecision
from tests.api.api_world import Records
from tests.api.helpers import token_for
from tests.fuzz import tally
from tests.scheduling.helpers import at, weekday_ahead

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ROLES = ("admin", "frontdesk", "therapist", "prescriber", "nurse")  # each with a read-write token
EXAMPLES_PER_OPERATION = tally.examples(default=4)
METHODS = ("get", "post", "put", "patch", "delete")
CURRENT_ETAG = "kapflow-test-current-etag"  # replaced by the record's ETag just before the call


def openapi() -> dict[str, Any]:
    """The schema exactly as ``/api/schema/?format=json`` serves it (no request needed)."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


schema = schemathesis.openapi.from_dict(openapi())
schema.app = get_wsgi_application()

# The records of the running test, by the collection their URLs name (filled by `known` below).
KNOWN: dict[str, list[str]] = {}
MODELS: dict[str, type[Any]] = {
    "patients": Patient,
    "courses": TreatmentCourse,
    "visits": Visit,
    "notes": ClinicalNote,
    "dosing-sessions": DosingSession,
    "administrations": Administration,
    "appointments": Appointment,
    "measure-assignments": MeasureAssignment,
    "measure-responses": MeasureResponse,
    "screening-decisions": EligibilityDecision,
    "safety-alerts": SafetyAlert,
}


def ids(r: Records) -> dict[str, list[str]]:
    found: dict[str, list[Any]] = {
        "patients": [r.patient.public_id, r.world.other_patient.public_id],
        "courses": [r.course.public_id],
        "visits": [r.draft_note.visit.public_id, r.signed_note.visit.public_id],
        "notes": [r.draft_note.public_id, r.signed_note.public_id],
        "dosing-sessions": [r.dosed_session.public_id],
        "appointments": [r.appointment.public_id],
        "measure-assignments": [r.assignment.public_id],
        "measure-responses": [r.response.public_id],
        "screening-decisions": [r.decision.public_id],
        "safety-alerts": [r.alert.public_id],
    }
    return {collection: [str(i) for i in values] for collection, values in found.items()}


def collection(path: str) -> str:
    """The collection a path names: ``/api/v1/dosing-sessions/{public_id}/readings/`` -> ``dosing-sessions``."""
    return path.removeprefix("/api/v1/").split("/", 1)[0]


# What a clinician would send to each write: one of the bodies hypothesis may choose.
def _good_bodies() -> dict[tuple[str, str], Callable[[], dict[str, Any]]]:
    jordan = lambda: KNOWN["patients"][0]  # noqa: E731
    return {
        ("POST", "/api/v1/patients/"): lambda: {
            "legal_given_name": "Casey",
            "legal_family_name": "Lee",
            "date_of_birth": "1990-05-05",
            "sex_at_birth": "female",
        },
        ("PATCH", "/api/v1/patients/{public_id}/"): lambda: {"pronouns": "they/them"},
        ("POST", "/api/v1/dosing-sessions/{public_id}/administrations/"): lambda: {
            "dose_mg": "50",
            "lot_number": "LOT-A1",
        },
        ("POST", "/api/v1/dosing-sessions/{public_id}/readings/"): lambda: {"kind": "moaas", "moaas": 4},
        ("POST", "/api/v1/dosing-sessions/{public_id}/events/"): lambda: {
            "kind": "nausea_vomiting",
            "severity": "mild",
            "outcome": "resolved",
        },
        ("PATCH", "/api/v1/notes/{public_id}/"): lambda: {"content": {"what_came_up": "Grief"}},
        ("POST", "/api/v1/notes/{public_id}/addenda/"): lambda: {"text": "Dose was 200 mg."},
        ("POST", "/api/v1/appointments/"): lambda: {
            "patient": jordan(),
            "kind": "preparation",
            "start": at(weekday_ahead(9), 13).isoformat(),
            "staff": ["theo@demo.test"],
        },
        ("POST", "/api/v1/appointments/{public_id}/cancel/"): lambda: {"reason": "Unwell"},
        ("POST", "/api/v1/measure-assignments/"): lambda: {
            "patient": jordan(),
            "instrument": "gad7",
            "schedule": "once",
            "starts_on": "2030-01-01",
        },
        ("POST", "/api/v1/safety-alerts/{public_id}/acknowledge/"): lambda: {"action_taken": "Called; safe."},
    }


GOOD_BODIES = _good_bodies()


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    known = KNOWN.get(collection(context.operation.path), [])
    if not isinstance(path_parameters, dict) or "public_id" not in path_parameters or not known:
        return st.just(path_parameters)
    real = [{**path_parameters, "public_id": i} for i in known]
    return st.sampled_from([path_parameters, *real, *real])  # mostly the world's records


@schema.hook
def flatmap_query(context: Any, query: dict[str, Any] | None) -> Any:
    if not isinstance(query, dict) or not query:
        return st.just(query)
    options = [query]
    if "patient" in query and KNOWN.get("patients"):
        options.append({**query, "patient": KNOWN["patients"][0]})
    if "course" in query and KNOWN.get("courses"):
        options.append({**query, "course": KNOWN["courses"][0]})
    return st.sampled_from(options)


@schema.hook
def flatmap_headers(context: Any, headers: dict[str, Any] | None) -> Any:
    if not isinstance(headers, dict) or "If-Match" not in headers:
        return st.just(headers)
    current = {**headers, "If-Match": CURRENT_ETAG}
    return st.sampled_from([headers, current, current])


@schema.hook
def flatmap_body(context: Any, body: Any) -> Any:
    good = GOOD_BODIES.get((context.operation.method.upper(), context.operation.path))
    if good is None:
        return st.just(body)
    return st.sampled_from([body, good(), good()])


def current_etag(path: str) -> str:
    """The current ETag of the record a path names ('"none"' when it names none)."""
    found = re.match(r"^/api/v1/([a-z-]+)/([^/]+)/", path)
    model = MODELS.get(found.group(1)) if found else None
    try:
        public_id = uuid.UUID(found.group(2)) if found else None
    except ValueError:
        public_id = None
    row = model._default_manager.filter(public_id=public_id).first() if model and public_id else None
    return etag(row) if row is not None else '"none"'


@contextmanager
def calling_the_app_in_process(world: Any, settings: Any) -> Iterator[None]:
    """The world's ids in KNOWN, no rate limit, and the WSGI app inside the test's transaction."""
    settings.KAPFLOW_API_RATE_LIMIT = 100_000
    cache.clear()
    KNOWN.clear()
    KNOWN.update(ids(Records(world).everything()))
    # The WSGI handler closes the database connection after each request; Django's test client
    # turns that off, and so must a test that calls the app itself inside its transaction.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    quiet = logging.getLogger("django.request")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # hundreds of expected 4xx; a 500 is still logged
    try:
        with tally.flushed():
            yield
    finally:
        quiet.setLevel(level)
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)
        KNOWN.clear()
        cache.clear()


@pytest.fixture
def token(world, settings, role) -> Iterator[str]:
    """A read-write token of the role's persona, with the app called in-process."""
    with calling_the_app_in_process(world, settings):
        yield token_for(world.member(role))


def call_and_count(case: Any, role: str, headers: dict[str, str], checks: list[Any]) -> Any:
    """Call the app, count the case (tests/fuzz/tally.py), then run the checks."""
    response = case.call(headers=headers)
    label = case.operation.label
    tally.case("api", label, role, response.status_code)
    try:
        case.validate_response(response, checks=checks, headers=headers)
    except Exception:
        if response.status_code < 500:
            tally.failure("api", label, role, "violations")
        raise
    return response


# Schemathesis' coverage phase (its boundary and negative cases, some 20 to 160 per operation)
# runs as every role in the full run, as the prescriber only in the suite's quick one: there the
# other roles call through a copy of the schema with that phase turned off.
without_coverage = schemathesis.openapi.from_dict(openapi())
without_coverage.app = schema.app
without_coverage.config.phases.coverage.enabled = False
for hook in (flatmap_path_parameters, flatmap_query, flatmap_headers, flatmap_body):
    without_coverage.hook(hook)
OTHER_ROLES = [role for role in ROLES if role != "prescriber"]
for_other_roles = schema if tally.full() else without_coverage

HYPOTHESIS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def answers_as_the_schema_says(case: Any, role: str, token: str) -> None:
    if case.headers and case.headers.get("If-Match") == CURRENT_ETAG:
        case.headers["If-Match"] = current_etag(case.formatted_path)
    call_and_count(case, role, {"Authorization": f"Bearer {token}"}, CHECKS)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["prescriber"])
@schema.parametrize()
@HYPOTHESIS
def test_every_operation_answers_as_the_schema_says(case, role, token):
    answers_as_the_schema_says(case, role, token)


@pytest.mark.django_db
@pytest.mark.parametrize("role", OTHER_ROLES)
@for_other_roles.parametrize()
@HYPOTHESIS
def test_every_operation_answers_the_other_roles_as_the_schema_says(case, role, token):
    answers_as_the_schema_says(case, role, token)


def test_a_patient_signed_in_to_the_portal_is_refused_every_operation(world, portal_user, client):
    """The patient persona has no token, and the portal's session is not the API's: every
    operation of the schema, read or write, with real ids, answers 401 problem+json."""
    known = ids(Records(world).everything())
    client.force_login(portal_user)
    operations = [(m, p) for p, item in openapi()["paths"].items() for m in item if m in METHODS]
    assert len(operations) >= 30
    answers = {}
    for method, template in operations:
        path = template.replace("{public_id}", known.get(collection(template), [str(uuid.uuid4())])[0])
        response = getattr(client, method)(path, {}, content_type="application/json", HTTP_IF_MATCH="*")
        answers[f"{method.upper()} {template}"] = (response.status_code, response["Content-Type"])
    assert set(answers.values()) == {(401, "application/problem+json")}, answers
