"""The pages a clinic lives in need as many SQL queries for a clinic ten times as big.

A seeded network clinic (``kapflow.core.seed``) with 20 patients, then grown to 200: each page
is counted at both sizes by the staff member who would open it, in the same session (each is
asked for once before, to leave out a session's and a token's first use). A query per row or
per patient on the page (an N+1), or a query whose number grows with the clinic, makes the
counts differ, and the failure names the page and the queries the bigger clinic added.

The same patient, course and dosing session are shown at both sizes: what grows is the clinic
around them (the today board, the home pages' lists, the searches, the API and FHIR lists, read
a page of 200 at a time). ``tests/api/test_query_counts.py`` reads every API list and FHIR search
with one of every kind of row, for one patient and five.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kapflow.accounts import middleware
from kapflow.accounts.models import Membership
from kapflow.api import tokens
from kapflow.clinics.models import Clinic
from kapflow.core.seed import generate, grow
from kapflow.dosing.models import AdverseEvent, DosingSession, SessionStatus
from kapflow.fhir import mapping, search
from kapflow.measures.models import SafetyAlert
from kapflow.patients.models import Patient
from tests.api.helpers import api
from tests.api.rest_helpers import schema

pytestmark = pytest.mark.django_db

PATIENTS = 20
GROWTH = 9  # patients added per patient of the small clinic: 10x in all
PAGE_SIZE = 200  # the largest page of the API and FHIR
SEEDS = range(1, 50)


@dataclass(frozen=True)
class Targets:
    """What the pages show, as public ids and e-mail addresses."""

    clinic: str
    patient: str  # in a dosing session now
    course: str  # theirs
    session: str  # the session in progress
    therapist: str  # a therapist on their care team
    record: str  # a patient with an adverse event: one of everything, for the searches of one patient
    name: str  # the first letter of a family name several patients share


@dataclass(frozen=True)
class Page:
    name: str
    persona: str  # "<role><n>" of the network's staff, "therapist" (the patient's) or "token" (API)
    path: Callable[[Targets], str]
    listed: bool = False  # a list of the clinic's patient data: rows at 1x, more at 10x
    sources: int = 1  # the tables a FHIR search takes its resources from, one after another


def at(template: str) -> Callable[[Targets], str]:
    return lambda t: template.format(t=t)


PAGES = [
    Page("today board", "frontdesk1", at("/c/{t.clinic}/calendar/today/")),
    Page("today board rows", "nurse1", at("/c/{t.clinic}/calendar/today/rows/")),
    Page("clinic home (therapist)", "therapist", at("/c/{t.clinic}/")),
    Page("clinic home (prescriber)", "prescriber1", at("/c/{t.clinic}/")),
    Page("clinic home (nurse)", "nurse1", at("/c/{t.clinic}/")),
    Page("patient chart", "therapist", at("/c/{t.clinic}/patients/{t.patient}/")),
    Page("course timeline", "therapist", at("/c/{t.clinic}/courses/{t.course}/")),
    Page("patient's courses", "therapist", at("/c/{t.clinic}/courses/patients/{t.patient}/")),
    Page("dosing session", "prescriber1", at("/c/{t.clinic}/dosing/{t.session}/")),
    Page("dosing session live", "prescriber1", at("/c/{t.clinic}/dosing/{t.session}/live/")),
    Page("outcomes dashboard", "clinicadmin1", at("/c/{t.clinic}/outcomes/")),
    Page("patient search", "frontdesk1", at("/c/{t.clinic}/patients/?q={t.name}")),
    Page("API patients?q=", "token", at("/api/v1/patients/?q={t.name}&page_size=200"), listed=True),
    Page("FHIR Patient?name=", "token", at("/fhir/Patient?name={t.name}&_count=200"), listed=True),
]


def api_pages() -> list[Page]:
    """Every list of the API (from its schema) and every FHIR search: the clinic's rows, and
    one patient's where the list can be narrowed to one patient."""
    pages = []
    for path, operations in sorted(schema()["paths"].items()):
        if "get" not in operations or "{" in path or not path.startswith("/api/v1/"):
            continue
        pages.append(Page(f"API {path}", "token", at(f"{path}?page_size=200"), listed=True))
        if any(p["name"] == "patient" for p in operations["get"].get("parameters", [])):
            pages.append(Page(f"API {path}?patient=", "token", at(f"{path}?patient={{t.record}}")))
    for kind, parameters in sorted(search.PARAMETERS.items()):
        patient_data = kind in mapping.SOURCES or kind == "Group"
        sources = len(mapping.sources(kind)) if kind in mapping.SOURCES else 1
        pages.append(Page(f"FHIR {kind}", "token", at(f"/fhir/{kind}?_count=200"), patient_data, sources))
        if "patient" in parameters:
            pages.append(Page(f"FHIR {kind}?patient=", "token", at(f"/fhir/{kind}?patient={{t.record}}")))
    return pages


class Incomplete(Exception):
    """The network made with this seed lacks something a page shows."""


def small_network() -> Targets:
    """The first seed whose network has a dosing session in progress now, a safety alert and
    adverse events of two patients (whether it does depends on the day): without them, pages
    would skip queries at 1x and not at 10x."""
    for seed in SEEDS:
        try:
            with transaction.atomic():
                generate(clinics=1, patients=PATIENTS, seed=seed)
                return targets()
        except Incomplete:
            continue
    raise AssertionError(f"No seed of {SEEDS} gives a network with all a page can show.")


def targets() -> Targets:
    session = (
        DosingSession.objects.filter(status=SessionStatus.IN_SESSION)
        .select_related("patient", "course", "clinic")
        .order_by("pk")
        .first()
    )
    events = AdverseEvent.objects.order_by("patient_id").values_list("patient__public_id", flat=True)
    if session is None or session.course is None or not SafetyAlert.objects.exists() or len(set(events)) < 2:
        raise Incomplete
    team = session.patient.care_team.filter(team_role="therapist", removed_at__isnull=True)
    initials = Counter(name[0] for name in Patient.objects.values_list("legal_family_name", flat=True))
    return Targets(
        clinic=session.clinic.slug,
        patient=str(session.patient.public_id),
        course=str(session.course.public_id),
        session=str(session.public_id),
        therapist=team.values_list("user__email", flat=True).get(),
        record=str(events[0]),
        name=initials.most_common(1)[0][0],
    )


@dataclass
class Counted:
    status: int
    rows: int | None  # the rows of an API or FHIR list
    queries: list[str]


def analyze() -> None:
    """Statistics, as PostgreSQL's autovacuum would gather them: without any, the test database
    plans the FHIR searches' counts as nested loops of a third of a second each. (The queries
    are the same, and so are their numbers.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def clients(t: Targets) -> Callable[[str], Client]:
    made: dict[str, Client] = {}

    def client_for(persona: str) -> Client:
        if persona not in made:
            if persona == "token":  # prescriber1 is on every care team of a 20-patient clinic
                prescriber = Membership.objects.get(user__email=f"prescriber1@{t.clinic}.kapflow.test")
                made[persona] = api(prescriber, read_only=True)
            else:
                email = t.therapist if persona == "therapist" else f"{persona}@{t.clinic}.kapflow.test"
                made[persona] = Client()
                made[persona].force_login(Membership.objects.get(user__email=email).user)
        return made[persona]

    return client_for


def count(client: Client, path: str, *, warm_up: bool) -> Counted:
    if warm_up:  # a session's and a token's first use, the clinic's first access-log entry
        client.get(path)
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    rows = None
    if response.headers.get("Content-Type", "").startswith(("application/json", "application/fhir+json")):
        body = response.json()
        rows = len(body["results"]) if "results" in body else len(body.get("entry", []))
    return Counted(response.status_code, rows, [q["sql"] for q in captured.captured_queries])


LITERALS = re.compile(r"\bs\d+_x\d+\b|'[^']*'|\b\d+(?:\.\d+)?\b")  # savepoint names, strings, numbers
LISTS = re.compile(r"\(\?(?:, \?)*\)")


def shape(sql: str) -> str:
    return LISTS.sub("(...)", LITERALS.sub("?", sql))


def added(small: list[str], big: list[str]) -> list[str]:
    """The queries of ``big`` that ``small`` has fewer of (by shape: literals blanked), with
    how many more."""
    more = Counter(map(shape, big)) - Counter(map(shape, small))
    return [f"{n} x {sql[:200]}" for sql, n in more.most_common(5)]


def fewer_sources(page: Page, one: Counted, ten: Counted) -> bool:
    """A full page of a FHIR search with several sources may be taken from fewer of them (two
    queries less for each) in a bigger clinic."""
    full = one.rows == ten.rows == PAGE_SIZE
    return page.sources > 1 and full and len(ten.queries) < len(one.queries)


def problem(page: Page, one: Counted, ten: Counted) -> str | None:
    if one.status != 200 or ten.status != 200:
        return f"{page.name}: answered {one.status} at 1x and {ten.status} at 10x, not 200"
    if page.listed and not (one.rows and ten.rows and (one.rows < ten.rows or one.rows == PAGE_SIZE)):
        return f"{page.name}: {one.rows} rows at 1x and {ten.rows} at 10x: the list did not grow"
    if len(one.queries) != len(ten.queries) and not fewer_sources(page, one, ten):
        more = added(one.queries, ten.queries) or ["(none: fewer queries at 10x)"]
        return f"{page.name}: {len(one.queries)} queries at 1x, {len(ten.queries)} at 10x; added:\n    " + (
            "\n    ".join(more)
        )
    return None


def test_every_page_needs_as_many_queries_for_a_clinic_ten_times_as_big(settings, monkeypatch):
    settings.KAPFLOW_API_RATE_LIMIT = 1_000_000
    # A session's idle clock and a token's last use are written at most every so often: never
    # between a page's warm-up and its count, however slow the machine.
    monkeypatch.setattr(middleware, "LAST_SEEN_STEP", 10**9)
    monkeypatch.setattr(tokens, "LAST_USED_RESOLUTION", timedelta(days=365))
    pages = PAGES + api_pages()
    t = small_network()
    analyze()
    client_for = clients(t)
    small = {page.name: count(client_for(page.persona), page.path(t), warm_up=True) for page in pages}
    grow(clinic=Clinic.objects.get(slug=t.clinic), patients=GROWTH * PATIENTS, seed=0)
    analyze()
    big = {page.name: count(client_for(page.persona), page.path(t), warm_up=False) for page in pages}
    problems = [p for page in pages if (p := problem(page, small[page.name], big[page.name]))]
    table = "\n".join(
        f"  {page.name:42} {len(small[page.name].queries):>4} {len(big[page.name].queries):>4}"
        f"   {small[page.name].rows} -> {big[page.name].rows}"
        for page in pages
    )
    assert not problems, "\n".join(problems) + "\n\npage, queries at 1x and 10x, rows:\n" + table
