"""Who may use each API and FHIR route: every persona, on GET and on each write, with tokens.

The HTML matrix (tests/test_authorization_matrix.py) covers the pages; the routes of the
namespaces "api" and "fhir" answer programs (401 and problem+json or an OperationOutcome, not
a sign-in page) and are declared here.

HOW TO ADD A ROUTE: one row in MATRIX below:

    "api:name": Api(kwargs, (anon, admin, desk, ther, presc, nurse, o_ther, o_admin, patient),
                    post=Write(body, (statuses...), etag=record)),

* ``kwargs(r)`` returns the URL kwargs from ``r``, the lazily built records of
  tests/api/api_world.py (``r.patient``, ``r.session``, ``r.draft_note``...).
* The tuple is the status of a GET by each persona, in PERSONAS order: "anonymous" sends no
  credentials; the staff personas send a READ-ONLY token (reading needs no more); "patient"
  is Jordan signed in to the portal (a session the API does not accept: 401). "nurse" is a
  nurse of Demo who is NOT on Jordan's care team; "o_ther"/"o_admin" work at the Other clinic.
  A POST-only route answers a GET with 405 to everyone who got past authentication.
* ``post=``/``patch=``/``delete=`` declare each write the route takes (the test fails when a
  write method of the route has none): ``Write(body, statuses, etag=...)`` where ``body(r)``
  is the JSON sent, the statuses are per persona with a READ-WRITE token, and ``etag(r)``
  names the record whose current ETag goes in ``If-Match``. ``headers=`` go with every GET of
  the row; ``get_starts_work=True`` marks a GET that stores something (FHIR ``$export``
  kick-off): its refusals are checked like a write's (a read-only token may still start one:
  an export reads). ``also=(Also(kwargs, statuses),)`` checks more addresses of the route.

What the tests check for every write, persona by persona (each inside a savepoint that is
rolled back, so each starts from the same records): the declared status; a refusal (401, 403,
404, 405) changes nothing in the database (``domain_state``, as in the HTML matrix); an
accepted write does change something (so the refused ones would have); and a READ-ONLY token
of everyone who may write is refused (403) and changes nothing.

The other dimensions, from the same rows:

* Another patient's portal sign-in (Morgan, ``another_portal_user``) gets Jordan's
  "patient" status on every GET and write, and changes nothing.
* Own patient / other patient (the end of this file): after Theo and Priya left Jordan's care
  team and Nico joined it, every cell of a patient row (kwargs naming one of Jordan's records)
  is requested again by the three. A new patient row needs nothing more when the rule holds
  (clinic-wide cells in API_CLINIC_WIDE keep their status, every other allowed cell becomes
  403); Nico's differences go in API_NURSE_ON_TEAM. A write to a list whose body names Jordan
  goes in BODY_NAMES_THE_PATIENT. The lists and FHIR searches show Jordan's records to his
  care team only (LISTS_FOR_EVERY_STAFF: demographics and appointments), and a
  search for his records by id is refused (403) to a clinician who is not on his team.
* Protected fields: tests/test_protected_fields.py sends each write with forged protected
  fields added (400 naming each one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from kapflow.api.versions import etag as etag_of
from kapflow.portal.models import PortalAccount
from tests.api.api_world import Records
from tests.api.helpers import token_for
from tests.test_authorization_care_team import change_the_team
from tests.test_authorization_matrix import PERSONAS, another_portal_user, domain_state

NAMESPACES = ("api", "fhir")
PROBLEM = "application/problem+json"
REFUSED = {401, 403, 404, 405}
ACCEPTED = {200, 201, 202, 204}
WRITE_METHODS = ("post", "put", "patch", "delete")


@dataclass(frozen=True)
class Write:
    body: Callable[[Records], Any]
    expect: tuple[int, ...]  # one status per persona, in PERSONAS order (read-write tokens)
    etag: Callable[[Records], Any] | None = None  # the record whose ETag goes in If-Match
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Also:
    """Another address of the same route, with its own statuses (e.g. a clinical FHIR type
    beside Patient on ``fhir:read``)."""

    kwargs: Callable[[Records], dict[str, Any]]
    get: tuple[int, ...]


@dataclass(frozen=True)
class Api:
    kwargs: Callable[[Records], dict[str, Any]]
    get: tuple[int, ...]  # one status per persona, in PERSONAS order (read-only tokens)
    post: Write | None = None
    put: Write | None = None
    patch: Write | None = None
    delete: Write | None = None
    headers: dict[str, str] = field(default_factory=dict)  # sent with every GET of the row
    get_starts_work: bool = False  # a GET that stores something (FHIR $export kick-off)
    also: tuple[Also, ...] = ()

    def writes(self) -> dict[str, Write]:
        found = {method: getattr(self, method) for method in WRITE_METHODS if getattr(self, method)}
        if self.get_starts_work:
            found["get"] = Write(nothing_sent, self.get, headers=self.headers)
        return found


# --- URL kwargs ---------------------------------------------------------------------------------
def nothing(r: Records) -> dict[str, Any]:
    return {}


def jordan(r: Records) -> dict[str, Any]:
    return {"public_id": r.patient.public_id}


def session(r: Records) -> dict[str, Any]:
    return {"public_id": r.session.public_id}


def dosed_session(r: Records) -> dict[str, Any]:
    return {"public_id": r.dosed_session.public_id}


def course(r: Records) -> dict[str, Any]:
    return {"public_id": r.course.public_id}


def draft_note(r: Records) -> dict[str, Any]:
    return {"public_id": r.draft_note.public_id}


def signed_note(r: Records) -> dict[str, Any]:
    return {"public_id": r.signed_note.public_id}


def visit(r: Records) -> dict[str, Any]:
    return {"public_id": r.signed_note.visit.public_id}


def appointment(r: Records) -> dict[str, Any]:
    return {"public_id": r.appointment.public_id}


def response(r: Records) -> dict[str, Any]:
    return {"public_id": r.response.public_id}


def alert(r: Records) -> dict[str, Any]:
    return {"public_id": r.alert.public_id}


def decision(r: Records) -> dict[str, Any]:
    return {"public_id": r.decision.public_id}


def fhir_patient(r: Records) -> dict[str, Any]:
    return {"resource_type": "Patient", "resource_id": str(r.patient.public_id)}


def fhir_episode(r: Records) -> dict[str, Any]:
    return {"resource_type": "EpisodeOfCare", "resource_id": str(r.course.public_id)}


def fhir_patients(r: Records) -> dict[str, Any]:
    return {"resource_type": "Patient"}


def fhir_observations(r: Records) -> dict[str, Any]:
    r.dosed_session  # noqa: B018 - vital signs and a dose to find
    return {"resource_type": "Observation"}


def export_patient(r: Records) -> dict[str, Any]:
    return {"patient_id": str(r.patient.public_id)}


def cohort(r: Records) -> dict[str, Any]:
    return {"group_id": f"cohort-{r.course.starts_on:%Y-%m}"}


def export_job(r: Records) -> dict[str, Any]:
    return {"job_id": str(r.export_job.public_id)}


def export_file(r: Records) -> dict[str, Any]:
    return {"job_id": str(r.export_job.public_id), "resource_type": "Patient"}


ASYNC = {"Prefer": "respond-async"}


# --- what the writes send -----------------------------------------------------------------------
def new_patient(r: Records) -> dict[str, Any]:
    return {
        "legal_given_name": "Casey",
        "legal_family_name": "Lee",
        "date_of_birth": "1990-05-05",
        "sex_at_birth": "female",
    }


def a_dose(r: Records) -> dict[str, Any]:
    return {"dose_mg": "200", "lot_number": r.lot.lot_number}


def a_reading(r: Records) -> dict[str, Any]:
    return {"kind": "vitals", "systolic": 122, "diastolic": 78, "heart_rate": 70, "spo2": 98}


def an_event(r: Records) -> dict[str, Any]:
    return {
        "kind": "nausea_vomiting",
        "severity": "mild",
        "outcome": "resolved",
        "description": "Brief nausea",
    }


def an_appointment(r: Records) -> dict[str, Any]:
    from tests.scheduling.helpers import at, weekday_ahead

    start = at(weekday_ahead(8), 11)
    return {
        "patient": str(r.patient.public_id),
        "kind": "preparation",
        "start": start.isoformat(),
        "staff": [r.world.therapist.user.email],
    }


def an_assignment(r: Records) -> dict[str, Any]:
    return {
        "patient": str(r.patient.public_id),
        "instrument": "gad7",
        "schedule": "once",
        "starts_on": str(r.today + timedelta(days=1)),
    }


def nothing_sent(r: Records) -> dict[str, Any]:
    return {}


# fmt: off
MATRIX: dict[str, Api] = {
    # route                                  kwargs   anon admin desk ther presc nurse o_ther o_admin patient
    "api:schema":                             Api(nothing, (401, 200, 200, 200, 200, 200, 200, 200, 401)),
    "api:docs":                               Api(nothing, (302, 200, 200, 200, 200, 200, 200, 200, 404)),
    # Demographics: every staff member of the clinic reads them; clinicians edit them only on the care team.
    "api:patient-list":                       Api(nothing, (401, 200, 200, 200, 200, 200, 200, 200, 401),
        post=Write(new_patient,               (401, 201, 201, 403, 403, 403, 403, 201, 401))),
    "api:patient-detail":                     Api(jordan,  (401, 200, 200, 200, 200, 200, 404, 404, 401),
        patch=Write(lambda r: {"pronouns": "they/them"}, (401, 200, 200, 200, 200, 403, 404, 404, 401), etag=lambda r: r.patient)),
    # Dosing: the care team's clinicians read; prescribers and nurses on it record doses and readings.
    "api:dosing-session-list":                Api(nothing, (401, 403, 403, 200, 200, 200, 200, 403, 401)),
    "api:dosing-session-detail":              Api(session, (401, 403, 403, 200, 200, 403, 404, 404, 401)),
    "api:dosing-session-administrations":     Api(session, (401, 405, 405, 405, 405, 405, 405, 405, 401),
        post=Write(a_dose,                    (401, 403, 403, 403, 201, 403, 404, 404, 401), etag=lambda r: r.session)),
    "api:dosing-session-readings":            Api(session, (401, 405, 405, 405, 405, 405, 405, 405, 401),
        post=Write(a_reading,                 (401, 403, 403, 403, 201, 403, 404, 404, 401))),
    "api:dosing-session-events":              Api(dosed_session, (401, 405, 405, 405, 405, 405, 405, 405, 401),
        post=Write(an_event,                  (401, 403, 403, 201, 201, 403, 404, 404, 401))),
    "api:administration-list":                Api(nothing, (401, 403, 403, 200, 200, 200, 200, 403, 401)),
    # Courses, visits, notes: clinical, so the care team's clinicians (lists: your care teams' patients).
    "api:course-list":                        Api(nothing, (401, 403, 403, 200, 200, 200, 200, 403, 401)),
    "api:course-detail":                      Api(course,  (401, 403, 403, 200, 200, 403, 404, 404, 401)),
    "api:visit-list":                         Api(nothing, (401, 403, 403, 200, 200, 200, 200, 403, 401)),
    "api:visit-detail":                       Api(visit,   (401, 403, 403, 200, 200, 403, 404, 404, 401)),
    "api:note-list":                          Api(nothing, (401, 403, 403, 200, 200, 200, 200, 403, 401)),
    # A draft is changed and signed by its author (Theo) only; any clinician on the team adds an addendum.
    "api:note-detail":                        Api(draft_note, (401, 403, 403, 200, 200, 403, 404, 404, 401),
        patch=Write(lambda r: {"content": {"what_came_up": "Grief"}}, (401, 403, 403, 200, 403, 403, 404, 404, 401), etag=lambda r: r.draft_note)),
    "api:note-sign":                          Api(draft_note, (401, 405, 405, 405, 405, 405, 405, 405, 401),
        post=Write(nothing_sent,              (401, 403, 403, 200, 403, 403, 404, 404, 401), etag=lambda r: r.draft_note)),
    "api:note-addenda":                       Api(signed_note, (401, 405, 405, 405, 405, 405, 405, 405, 401),
        post=Write(lambda r: {"text": "Dose was 200 mg."}, (401, 403, 403, 201, 201, 403, 404, 404, 401))),
    # Appointments: every staff member of the clinic sees the calendar and books (no clinical detail).
    "api:appointment-list":                   Api(nothing, (401, 200, 200, 200, 200, 200, 200, 200, 401),
        post=Write(an_appointment,            (401, 201, 201, 201, 201, 201, 404, 404, 401))),
    "api:appointment-detail":                 Api(appointment, (401, 200, 200, 200, 200, 200, 404, 404, 401)),
    "api:appointment-cancel":                 Api(appointment, (401, 405, 405, 405, 405, 405, 405, 405, 401),
        post=Write(lambda r: {"reason": "Unwell"}, (401, 200, 200, 200, 200, 200, 404, 404, 401), etag=lambda r: r.appointment)),
    # Measures and screening: clinical.
    "api:measure-assignment-list":            Api(nothing, (401, 403, 403, 200, 200, 200, 200, 403, 401),
        post=Write(an_assignment,             (401, 403, 403, 201, 201, 403, 404, 404, 401))),
    "api:measure-response-list":              Api(nothing, (401, 403, 403, 200, 200, 200, 200, 403, 401)),
    "api:measure-response-detail":            Api(response, (401, 403, 403, 200, 200, 403, 404, 404, 401)),
    "api:screening-decision-list":            Api(nothing, (401, 403, 403, 200, 200, 200, 200, 403, 401)),
    "api:screening-decision-detail":          Api(decision, (401, 403, 403, 200, 200, 403, 404, 404, 401)),
    "api:safety-alert-list":                  Api(nothing, (401, 403, 403, 200, 200, 200, 200, 403, 401)),
    "api:safety-alert-detail":                Api(alert,   (401, 403, 403, 200, 200, 403, 404, 404, 401)),
    "api:safety-alert-acknowledge":           Api(alert,   (401, 405, 405, 405, 405, 405, 405, 405, 401),
        post=Write(lambda r: {"action_taken": "Called Jordan; safe."}, (401, 403, 403, 200, 200, 403, 404, 404, 401))),
    # FHIR: the CapabilityStatement is public; read and search as the pages (a Patient needs
    # demographics.view, the rest clinical.view on the care team); another clinic's ids are 404.
    "fhir:metadata":                          Api(nothing, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    "fhir:read":                              Api(fhir_patient, (401, 200, 200, 200, 200, 200, 404, 404, 401),
        also=(Also(fhir_episode,              (401, 403, 403, 200, 200, 403, 404, 404, 401)),)),
    "fhir:search":                            Api(fhir_patients, (401, 200, 200, 200, 200, 200, 200, 200, 401),
        also=(Also(fhir_observations,         (401, 403, 403, 200, 200, 200, 200, 403, 401)),)),
    # FHIR bulk export: the whole clinic or a cohort by its clinic admin; a patient by their care
    # team. A job is its starter's only (Theo's here): anyone else is told it does not exist.
    "fhir:export":                            Api(nothing, (401, 202, 403, 403, 403, 403, 403, 202, 401), headers=ASYNC, get_starts_work=True),
    "fhir:patients_export":                   Api(nothing, (401, 202, 403, 403, 403, 403, 403, 202, 401), headers=ASYNC, get_starts_work=True),
    "fhir:group_export":                      Api(cohort,  (401, 202, 403, 403, 403, 403, 403, 404, 401), headers=ASYNC, get_starts_work=True),
    "fhir:patient_export":                    Api(export_patient, (401, 403, 403, 202, 202, 403, 404, 404, 401), headers=ASYNC, get_starts_work=True),
    "fhir:export_status":                     Api(export_job, (401, 404, 404, 200, 404, 404, 404, 404, 401),
        delete=Write(nothing_sent,            (401, 404, 404, 202, 404, 404, 404, 404, 401))),
    "fhir:export_file":                       Api(export_file, (401, 404, 404, 200, 404, 404, 404, 404, 401)),
}
# fmt: on


# --- the machinery ------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def generous_rate_limit(settings, tmp_path):
    """Many requests per token here; the counts must not leak into other tests either. Export
    files go to a temporary data directory."""
    settings.KAPFLOW_API_RATE_LIMIT = 100_000
    settings.DATA_DIR = tmp_path
    cache.clear()
    yield
    cache.clear()


class Callers:
    """One client per persona and token scope (tokens are made once: at most 20 per person)."""

    def __init__(self, r: Records) -> None:
        self.r = r
        self.clients: dict[tuple[str, bool], APIClient] = {}

    def __call__(self, persona: str, *, read_only: bool) -> APIClient:
        key = (persona, read_only)
        if key not in self.clients:
            client = APIClient()
            if persona == "patient":
                client.force_login(PortalAccount.objects.get(patient=self.r.patient).user)
            elif persona != "anonymous":
                secret = token_for(self.r.world.member(persona), read_only=read_only)
                client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
            self.clients[key] = client
        return self.clients[key]


def state() -> dict[str, list[dict[str, Any]]]:
    """The database as in the HTML matrix, less the tokens (each use stamps ``last_used_at``)."""
    found = domain_state()
    found.pop("api.ApiToken", None)
    return found


def send(client: APIClient, method: str, path: str, write: Write, r: Records) -> Any:
    headers = dict(write.headers)
    if write.etag is not None:
        row = write.etag(r)
        headers["If-Match"] = etag_of(type(row)._default_manager.get(pk=row.pk))
    extra = http_headers(headers)
    if method == "get":
        return client.get(path, **extra)
    return getattr(client, method)(path, write.body(r), format="json", **extra)


def http_headers(headers: dict[str, str]) -> dict[str, str]:
    return {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}


def assert_answered_in_api_shape(name: str, response: Any) -> None:
    if response.status_code in {401, 403, 404} and name.startswith("api:") and name != "api:docs":
        assert response["Content-Type"] == PROBLEM, (name, response.status_code, response["Content-Type"])
    if response.status_code in {401, 403, 404} and name.startswith("fhir:"):
        assert "json" in response["Content-Type"], (name, response.status_code, response["Content-Type"])


def named_patterns(patterns: list[Any] | None = None, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from named_patterns(entry.url_patterns, namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{prefix}{entry.name}", entry


def api_routes() -> dict[str, URLPattern]:
    return {name: p for name, p in named_patterns() if name.split(":", 1)[0] in NAMESPACES}


def write_methods(pattern: URLPattern) -> set[str]:
    """The write methods a route's view answers: a viewset's action map, or an APIView's handlers."""
    callback = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions is not None:
        return {method for method in actions if method in WRITE_METHODS}
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is None:
        return set()
    return {method for method in WRITE_METHODS if hasattr(view_class, method)}


# --- the tests ----------------------------------------------------------------------------------
def test_every_api_and_fhir_route_has_a_row_and_every_row_a_route():
    routes = set(api_routes())
    assert sorted(routes - set(MATRIX)) == [], "add a row to MATRIX for each of these routes"
    assert sorted(set(MATRIX) - routes) == [], "these MATRIX rows name routes that no longer exist"


def test_every_write_a_route_takes_has_its_statuses():
    routes = api_routes()
    for name, route in MATRIX.items():
        if name in routes:
            declared = set(route.writes()) - {"get"}
            assert write_methods(routes[name]) == declared, f"{name}: declare each write (post=, patch=...)"


def test_every_row_gives_a_status_for_each_persona():
    allowed = {200, 201, 202, 204, 302, 401, 403, 404, 405, 410}
    for name, route in MATRIX.items():
        statuses = [route.get, *(write.expect for write in route.writes().values())]
        for row in statuses:
            assert len(row) == len(PERSONAS) and set(row) <= allowed, name
        for write in route.writes().values():
            assert write.expect[0] == 401, f"{name}: an anonymous caller is asked to authenticate"
            assert set(write.expect) & ACCEPTED, f"{name}: someone may make this write (else why offer it)"


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_each_persona_gets_the_declared_status_on_get(world, portal_user, name):
    r = Records(world)
    route = MATRIX[name]
    callers = Callers(r)
    extra = http_headers(route.headers)
    morgan = APIClient()  # another patient's portal sign-in: as Jordan's
    morgan.force_login(another_portal_user(world))
    for address in (Also(route.kwargs, route.get), *route.also):
        path = reverse(name, kwargs=address.kwargs(r))
        actual = {}
        for persona in PERSONAS:
            answer = callers(persona, read_only=True).get(path, **extra)
            assert_answered_in_api_shape(name, answer)
            actual[persona] = answer.status_code
        assert actual == dict(zip(PERSONAS, address.get, strict=True)), path
        assert morgan.get(path, **extra).status_code == actual["patient"], path


WRITES = sorted((name, method) for name, route in MATRIX.items() for method in route.writes())


@pytest.mark.parametrize(("name", "method"), WRITES)
def test_each_persona_gets_the_declared_status_on_a_write_and_a_refusal_changes_nothing(
    world, portal_user, name, method
):
    r = Records(world)
    route = MATRIX[name]
    write = route.writes()[method]
    path = reverse(name, kwargs=route.kwargs(r))
    callers = Callers(r)
    for persona, expected in zip(PERSONAS, write.expect, strict=True):
        client = callers(persona, read_only=False)
        with transaction.atomic():
            before = state()
            answer = send(client, method, path, write, r)
            changed = state() != before
            transaction.set_rollback(True)
        assert answer.status_code == expected, f"{persona} {method.upper()} {path}: {answer.content[:300]!r}"
        assert_answered_in_api_shape(name, answer)
        if expected in REFUSED:
            assert not changed, f"{persona} was refused {method.upper()} {path} but something changed"
        else:
            assert changed, f"{persona}'s {method.upper()} {path} was accepted but changed nothing"
    morgan = APIClient()  # another patient's portal sign-in: as Jordan's
    morgan.force_login(another_portal_user(world))
    before = state()
    assert send(morgan, method, path, write, r).status_code == write.expect[PERSONAS.index("patient")]
    assert state() == before


# Starting an export is a GET that reads: a read-only token may (so it is not in this test).
SCOPED_WRITES = [(name, method) for name, method in WRITES if method != "get"]


@pytest.mark.parametrize(("name", "method"), SCOPED_WRITES)
def test_a_read_only_token_is_refused_every_write(world, portal_user, name, method):
    r = Records(world)
    route = MATRIX[name]
    write = route.writes()[method]
    path = reverse(name, kwargs=route.kwargs(r))
    callers = Callers(r)
    writers = [p for p, status in zip(PERSONAS, write.expect, strict=True) if status in ACCEPTED]
    for persona in writers:
        before = state()
        answer = send(callers(persona, read_only=True), method, path, write, r)
        assert answer.status_code == 403, f"{persona}'s read-only token {method.upper()} {path}"
        assert "read-only" in answer.content.decode()
        assert state() == before, (
            f"{persona}'s read-only token changed something with {method.upper()} {path}"
        )


# --- own patient and other patient: the care team changes ---------------------------------------
# As in tests/test_authorization_care_team.py: the front desk takes Theo and Priya off Jordan's
# care team and puts Nico on it, then the three use every address of Jordan's records again.
#
# HOW TO DECLARE: a row whose kwargs name one of Jordan's records (not in NOT_A_RECORD) is a
# patient row; each of its cells ("<route> GET", "<route> GET <also's kwargs>", "<route> POST"...)
# keeps for Theo and Priya the status of the table above when in API_CLINIC_WIDE, and is
# otherwise refused (403) where the table allowed it, unless API_OFF_TEAM says otherwise. Nico
# gets the table's "nurse" status unless API_NURSE_ON_TEAM declares the cell. The lists (rows
# whose kwargs are in NOT_A_RECORD) show Jordan's records to Theo and Priya only when in
# LISTS_FOR_EVERY_STAFF, and always to Nico on the team; a search for Jordan's records by his id
# (``search_for_jordan``) answers them 403 where the list would not show him.
NOT_A_RECORD = (nothing, fhir_patients, fhir_observations, cohort)
TEAM = ("therapist", "prescriber", "nurse")
# Writes to a list whose body names Jordan (a new appointment, a new assignment): their cells
# are checked too (the list's GET is checked with the lists, below).
BODY_NAMES_THE_PATIENT = frozenset({"api:appointment-list POST", "api:measure-assignment-list POST"})
PATIENT_ROWS = sorted(
    name
    for name, route in MATRIX.items()
    if route.kwargs not in NOT_A_RECORD or any(key.startswith(name + " ") for key in BODY_NAMES_THE_PATIENT)
)

# Demographics (read) and appointments: any staff member of the clinic, whatever the team.
API_CLINIC_WIDE = frozenset(
    {
        "api:patient-detail GET",
        "fhir:read GET",
        "api:appointment-list POST",
        "api:appointment-detail GET",
        "api:appointment-cancel POST",
    }
)
# Off the team, where the rule does not hold (none: Theo's own export of Jordan is 403 too).
API_OFF_TEAM: dict[str, dict[str, int]] = {}
# On the team Nico reads the clinical records, records doses, readings and events, edits the
# demographics, adds addenda, acknowledges alerts and exports the record; only a note's author
# (Theo) changes or signs it, and Theo's export job stays his.
API_NURSE_ON_TEAM: dict[str, int] = {
    **dict.fromkeys(
        (
            "api:course-detail GET",
            "api:visit-detail GET",
            "api:note-detail GET",
            "api:dosing-session-detail GET",
            "api:measure-response-detail GET",
            "api:screening-decision-detail GET",
            "api:safety-alert-detail GET",
            "fhir:read GET fhir_episode",
            "api:patient-detail PATCH",
            "api:safety-alert-acknowledge POST",
        ),
        200,
    ),
    **dict.fromkeys(
        (
            "api:dosing-session-administrations POST",
            "api:dosing-session-readings POST",
            "api:dosing-session-events POST",
            "api:note-addenda POST",
            "api:measure-assignment-list POST",
        ),
        201,
    ),
    "fhir:patient_export GET": 202,
}


@dataclass(frozen=True)
class Cell:
    key: str
    method: str
    kwargs: Callable[[Records], dict[str, Any]]
    statuses: tuple[int, ...]
    write: Write | None  # None: a plain read


def cells(name: str, route: Api) -> list[Cell]:
    """The addresses and methods of a patient row (of a list row: its writes naming Jordan)."""
    if route.kwargs in NOT_A_RECORD:
        return [cell for cell in all_cells(name, route) if cell.key in BODY_NAMES_THE_PATIENT]
    return all_cells(name, route)


def all_cells(name: str, route: Api) -> list[Cell]:
    writes = route.writes()
    found = [Cell(f"{name} GET", "get", route.kwargs, route.get, writes.get("get"))]
    found += [Cell(f"{name} GET {a.kwargs.__name__}", "get", a.kwargs, a.get, None) for a in route.also]
    found += [
        Cell(f"{name} {method.upper()}", method, route.kwargs, write.expect, write)
        for method, write in writes.items()
        if method != "get"
    ]
    return found


def always(body: Any) -> Callable[[Records], Any]:
    """A body built once (before the team changes), sent as it is."""
    return lambda _r: body


def expected_after_team_change(cell: Cell) -> dict[str, int]:
    on_team = dict(zip(PERSONAS, cell.statuses, strict=True))
    expected = {}
    for persona in ("therapist", "prescriber"):
        status = on_team[persona]
        if cell.key not in API_CLINIC_WIDE and status in ACCEPTED:
            status = 403
        expected[persona] = API_OFF_TEAM.get(cell.key, {}).get(persona, status)
    expected["nurse"] = API_NURSE_ON_TEAM.get(cell.key, on_team["nurse"])
    return expected


def test_every_declared_cell_is_a_cell_of_a_patient_row():
    keys = {cell.key for name in PATIENT_ROWS for cell in cells(name, MATRIX[name])}
    declared = API_CLINIC_WIDE | set(API_OFF_TEAM) | set(API_NURSE_ON_TEAM)
    assert sorted(declared - keys) == []


@pytest.mark.parametrize("name", PATIENT_ROWS)
def test_off_the_team_and_on_it(world, portal_user, name):
    r = Records(world)
    route = MATRIX[name]
    callers = Callers(r)
    planned = []
    for cell in cells(name, route):  # built while Theo and Priya are on the team
        write = cell.write
        if write is not None:
            write = replace(write, body=always(write.body(r)))
        planned.append((cell, write, reverse(name, kwargs=cell.kwargs(r))))
    change_the_team(world)
    for cell, write, path in planned:
        expected = expected_after_team_change(cell)
        actual = {}
        for persona in TEAM:
            client = callers(persona, read_only=write is None)
            with transaction.atomic():
                before = state()
                if write is None:
                    answer = client.get(path, **http_headers(route.headers))
                else:
                    answer = send(client, cell.method, path, write, r)
                changed = state() != before
                transaction.set_rollback(True)
            actual[persona] = answer.status_code
            assert_answered_in_api_shape(name, answer)
            if answer.status_code in REFUSED:
                assert not changed, f"{persona} was refused {cell.key} but something changed"
            elif write is not None:
                assert changed, f"{persona}'s {cell.key} was accepted but changed nothing"
        assert actual == expected, f"{cell.key}: got {actual}, declared {expected}"


# The lists and searches: every staff member finds Jordan among the clinic's patients and
# appointments; his clinical records are listed to his care team only, and a search for them by
# his id is refused (403) to anyone else.
LISTS_FOR_EVERY_STAFF = frozenset({"api:patient-list GET", "api:appointment-list GET", "fhir:search GET"})
NOT_LISTS = ("api:schema", "api:docs", "fhir:metadata")
LISTS = [
    (name, cell)
    for name, route in sorted(MATRIX.items())
    if route.kwargs in NOT_A_RECORD and not route.get_starts_work and name not in NOT_LISTS
    for cell in all_cells(name, route)
    if cell.method == "get" and cell.statuses[PERSONAS.index("therapist")] == 200
]


def search_for_jordan(cell: Cell, r: Records) -> dict[str, Any]:
    if cell.key == "api:patient-list GET":
        return {"q": r.patient.legal_family_name}
    if cell.key == "fhir:search GET":  # Patient
        return {"_id": str(r.patient.public_id)}
    return {"patient": str(r.patient.public_id)}


def test_lists_and_searches_show_jordans_records_to_his_care_team_only(world, portal_user):
    r = Records(world).everything()
    callers = Callers(r)
    jordan_id = str(r.patient.public_id)
    change_the_team(world)
    found, expected = {}, {}
    for name, cell in LISTS:
        path = reverse(name, kwargs=cell.kwargs(r))
        one_page = {"_count": 100} if name.startswith("fhir:") else {"page_size": 100}
        for persona in TEAM:
            client = callers(persona, read_only=True)
            on_team = persona == "nurse" or cell.key in LISTS_FOR_EVERY_STAFF
            answer = client.get(path, one_page)
            found[cell.key, persona] = (answer.status_code, jordan_id in answer.content.decode())
            expected[cell.key, persona] = (200, on_team)
            answer = client.get(path, search_for_jordan(cell, r))
            found[cell.key + " for Jordan", persona] = (
                answer.status_code,
                jordan_id in answer.content.decode(),
            )
            expected[cell.key + " for Jordan", persona] = (200, True) if on_team else (403, False)
    assert found == expected
