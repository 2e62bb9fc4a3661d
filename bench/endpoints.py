"""What ``run.py`` measures: the pages and endpoints a clinic lives in, each with many real
targets chosen from the loaded network, and the credentials to ask for them.

Every endpoint gets up to ``PAIRS`` (path, person) pairs, spread over every clinic of the
network: different patients (their chart, course, dosing session, observations), each asked
for by a clinician on that patient's care team, or clinic-wide pages asked for by staff whose
role may see them. People sign in the way the login view signs them in (``login`` and
``otp_login`` on a fresh database session, with a confirmed authenticator app); each HTML
pair has its own session, as each person at a desk has their own browser. The API and FHIR
are asked with read-only personal tokens made by ``kapflow.api.tokens.token_create``.

Needs Django set up on the database the server uses (``run.py`` does that).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

PAIRS = 200  # targets per endpoint, at most
SEARCH_PREFIX = 3  # letters of a family name typed into a search

T = TypeVar("T")


@dataclass(frozen=True)
class Staff:
    """One membership: a person working at one clinic in one role."""

    membership_id: int
    user_id: int
    clinic_id: int
    role: str


@dataclass
class Pair:
    path: str
    staff: Staff | None  # None: asked without signing in (the floor)
    credential: str = ""  # the header that signs the request in, e.g. "Cookie: sessionid=..."


@dataclass
class Endpoint:
    name: str
    kind: str  # "html", "api", "fhir", or "floor"
    pairs: list[Pair]
    headers: tuple[str, ...] = ()  # more "Name: value" headers, sent with every request


@dataclass
class Network:
    """What choosing targets needs from the database, read once."""

    slugs: dict[int, str]  # clinic id -> slug
    staff: list[Staff]
    teams: dict[int, list[Staff]]  # patient pk -> clinicians on the care team
    patients: dict[int, list[tuple[int, str, str]]]  # clinic id -> (pk, public id, family name)
    courses: dict[int, list[tuple[int, str]]]  # clinic id -> (patient pk, course public id)
    open_sessions: dict[int, list[tuple[int, str]]]  # clinic id -> (patient pk, session public id)
    dosed: dict[int, list[tuple[int, str]]]  # clinic id -> (pk, public id) of patients ever dosed


def load_network() -> Network:
    from kapflow.accounts.models import Membership
    from kapflow.clinics.models import Clinic
    from kapflow.core.roles import CLINICAL_ROLES
    from kapflow.courses.models import TreatmentCourse
    from kapflow.dosing.models import OPEN_SESSION, DosingSession
    from kapflow.patients.models import CareTeamMember, Patient

    slugs = dict(Clinic.objects.filter(is_active=True).values_list("pk", "slug"))
    members = Membership.objects.filter(is_active=True, clinic_id__in=slugs, user__is_active=True)
    staff = [Staff(*row) for row in members.values_list("pk", "user_id", "clinic_id", "role")]
    clinicians = {(s.user_id, s.clinic_id): s for s in staff if s.role in CLINICAL_ROLES}
    teams: dict[int, list[Staff]] = defaultdict(list)
    current = CareTeamMember.objects.filter(removed_at__isnull=True)
    for patient, user, clinic in current.values_list("patient_id", "user_id", "clinic_id").iterator():
        if (user, clinic) in clinicians:
            teams[patient].append(clinicians[user, clinic])
    patients = _by_clinic(
        Patient.objects.filter(voided_at__isnull=True, clinic_id__in=slugs).values_list(
            "clinic_id", "pk", "public_id", "legal_family_name"
        )
    )
    live = DosingSession.objects.filter(voided_at__isnull=True, status__in=OPEN_SESSION)
    dosed = (
        DosingSession.objects.filter(voided_at__isnull=True).order_by().values_list("clinic_id", "patient_id")
    )
    public_ids = {pk: public_id for rows in patients.values() for pk, public_id, _ in rows}
    return Network(
        slugs=slugs,
        staff=staff,
        teams=teams,
        patients=patients,
        courses=_by_clinic(
            TreatmentCourse.objects.filter(voided_at__isnull=True).values_list(
                "clinic_id", "patient_id", "public_id"
            )
        ),
        open_sessions=_by_clinic(live.values_list("clinic_id", "patient_id", "public_id")),
        dosed=_by_clinic(
            (clinic, patient, public_ids[patient])
            for clinic, patient in dosed.distinct()
            if patient in public_ids
        ),
    )


def _by_clinic(rows: Iterable[tuple[Any, ...]]) -> dict[int, list[Any]]:
    """(clinic id, pk, public id, *more) rows -> clinic id -> [(pk, public id as text, *more)]."""
    found: dict[int, list[Any]] = defaultdict(list)
    for clinic, pk, public_id, *more in rows:
        found[clinic].append((pk, str(public_id), *more))
    return found


def spread(by_clinic: dict[int, list[T]], count: int, rng: random.Random) -> list[tuple[int, T]]:
    """Up to ``count`` rows, taken in turn from every clinic (shuffled), so that no clinic and
    no single row dominates."""
    queues = {clinic: rng.sample(rows, len(rows)) for clinic, rows in sorted(by_clinic.items())}
    chosen: list[tuple[int, T]] = []
    while len(chosen) < count and any(queues.values()):
        for clinic, queue in queues.items():
            if queue and len(chosen) < count:
                chosen.append((clinic, queue.pop()))
    return chosen


def _clinic_wide(
    net: Network, path: Callable[[str], str], roles: frozenset[str] | None, rng: random.Random
) -> list[Pair]:
    """The clinic's page for each of its members whose role may see it."""
    by_clinic: dict[int, list[Staff]] = defaultdict(list)
    for member in net.staff:
        if roles is None or member.role in roles:
            by_clinic[member.clinic_id].append(member)
    return [Pair(path(net.slugs[clinic]), member) for clinic, member in spread(by_clinic, PAIRS, rng)]


def _per_patient(
    net: Network,
    rows: dict[int, list[Any]],
    path: Callable[[str, Any], str],
    rng: random.Random,
    *,
    medical_first: bool = False,
) -> list[Pair]:
    """One pair per chosen row (its patient pk first): the path, asked by a clinician on the
    patient's care team (a prescriber or nurse if ``medical_first`` and one is on it)."""
    cared_for = {clinic: [row for row in found if net.teams.get(row[0])] for clinic, found in rows.items()}
    pairs = []
    for clinic, row in spread(cared_for, PAIRS, rng):
        team = net.teams[row[0]]
        medical = [s for s in team if s.role in {"prescriber", "nurse"}]
        who = rng.choice(medical if medical_first and medical else team)
        pairs.append(Pair(path(net.slugs[clinic], row), who))
    return pairs


def _searches(net: Network, path: Callable[[str, str], str], rng: random.Random) -> list[Pair]:
    """A search for the start of a family name in the clinic, by any of its staff."""
    by_clinic: dict[int, list[Staff]] = defaultdict(list)
    for member in net.staff:
        by_clinic[member.clinic_id].append(member)
    pairs = []
    for clinic, (_, _, family_name) in spread(net.patients, PAIRS, rng):
        if by_clinic[clinic]:
            prefix = quote(family_name[:SEARCH_PREFIX])
            pairs.append(Pair(path(net.slugs[clinic], prefix), rng.choice(by_clinic[clinic])))
    return pairs


OUTCOMES_ROLES = frozenset({"clinic_admin", "prescriber", "nurse"})
CLINICAL = frozenset({"therapist", "prescriber", "nurse"})
LIVE_HEADERS = ("HX-Request: true", "X-Kapflow-Poll: 1")  # as the page's htmx poll sends them


def endpoints(net: Network, seed: int) -> list[Endpoint]:
    """Every endpoint measured, in the order of the table."""
    rng = random.Random(seed)
    sessions = net.open_sessions
    return [
        Endpoint("today board", "html", _clinic_wide(net, lambda c: f"/c/{c}/calendar/today/", None, rng)),
        Endpoint(
            "patient chart",
            "html",
            _per_patient(net, _strip(net.patients), lambda c, r: f"/c/{c}/patients/{r[1]}/", rng),
        ),
        Endpoint(
            "course timeline",
            "html",
            _per_patient(net, net.courses, lambda c, r: f"/c/{c}/courses/{r[1]}/", rng),
        ),
        Endpoint(
            "dosing session (live)",
            "html",
            _per_patient(net, sessions, lambda c, r: f"/c/{c}/dosing/{r[1]}/", rng, medical_first=True),
        ),
        Endpoint(
            "dosing session poll",
            "html",
            _per_patient(net, sessions, lambda c, r: f"/c/{c}/dosing/{r[1]}/live/", rng, medical_first=True),
            LIVE_HEADERS,
        ),
        Endpoint(
            "outcomes dashboard",
            "html",
            _clinic_wide(net, lambda c: f"/c/{c}/outcomes/", OUTCOMES_ROLES, rng),
        ),
        Endpoint("patient search", "html", _searches(net, lambda c, q: f"/c/{c}/patients/?q={q}", rng)),
        Endpoint("api patients", "api", _clinic_wide(net, lambda c: "/api/v1/patients/", None, rng)),
        Endpoint("api appointments", "api", _clinic_wide(net, lambda c: "/api/v1/appointments/", None, rng)),
        Endpoint("api courses", "api", _clinic_wide(net, lambda c: "/api/v1/courses/", CLINICAL, rng)),
        Endpoint(
            "api dosing sessions",
            "api",
            _clinic_wide(net, lambda c: "/api/v1/dosing-sessions/", CLINICAL, rng),
        ),
        Endpoint(
            "api measure responses ?patient=",
            "api",
            _per_patient(net, net.dosed, lambda c, r: f"/api/v1/measure-responses/?patient={r[1]}", rng),
        ),
        Endpoint("fhir Patient?name=", "fhir", _searches(net, lambda c, q: f"/fhir/Patient?name={q}", rng)),
        Endpoint(
            "fhir Observation?patient=",
            "fhir",
            _per_patient(net, net.dosed, lambda c, r: f"/fhir/Observation?patient={r[1]}", rng),
        ),
        Endpoint(
            "fhir Encounter?patient=",
            "fhir",
            _per_patient(net, net.dosed, lambda c, r: f"/fhir/Encounter?patient={r[1]}", rng),
        ),
    ]


def _strip(patients: dict[int, list[tuple[int, str, str]]]) -> dict[int, list[tuple[int, str]]]:
    return {clinic: [(pk, public_id) for pk, public_id, _ in rows] for clinic, rows in patients.items()}


# --- Credentials ---------------------------------------------------------------------------


def _device(user: Any) -> Any:
    """The person's confirmed authenticator app (one is made if they have none): with
    KAPFLOW_ENV=production, staff without one are sent to set it up."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def signed_in_session(user: Any, device: Any) -> str:
    """A new browser session of ``user``, past both steps of signing in; returns its key."""
    from django.contrib.auth import login
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory
    from django_otp import login as otp_login

    request = RequestFactory().get("/accounts/login/verify/")
    request.user = AnonymousUser()
    request.session = SessionStore()
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    otp_login(request, device)
    request.session.save()
    key = request.session.session_key
    assert key is not None
    return key


def sign_in(endpoints: list[Endpoint]) -> None:
    """Give every pair its credential: a session cookie of its own for an HTML pair, the
    person's read-only token (one per person) for the API and FHIR. One transaction."""
    from django.conf import settings
    from django.db import transaction

    from kapflow.accounts.models import Membership
    from kapflow.api.tokens import token_create

    people = {m.pk: m for m in Membership.objects.select_related("user", "clinic")}
    devices: dict[int, Any] = {}
    tokens: dict[int, str] = {}
    with transaction.atomic():
        for endpoint in endpoints:
            for pair in endpoint.pairs:
                if pair.staff is None:
                    continue
                member = people[pair.staff.membership_id]
                if endpoint.kind == "html":
                    if member.user_id not in devices:
                        devices[member.user_id] = _device(member.user)
                    key = signed_in_session(member.user, devices[member.user_id])
                    pair.credential = f"Cookie: {settings.SESSION_COOKIE_NAME}={key}"
                    continue
                if member.pk not in tokens:
                    _, tokens[member.pk] = token_create(
                        user=member.user, membership=member, name="benchmark", read_only=True
                    )
                pair.credential = f"Authorization: Bearer {tokens[member.pk]}"
