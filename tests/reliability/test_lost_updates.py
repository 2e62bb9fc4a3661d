"""Lost updates: 20 clients at once, round after round, on one draft note, one appointment slot
and one controlled-substance lot. Every acknowledged write is kept, every other one is refused
and told why, and the lot's ledger adds up (receipts minus administrations minus waste).

The figures are printed as ``RELIABILITY:`` lines (``pytest -s -k lost_updates``) for
docs/RELIABILITY.md, ``seconds`` being the rounds' time (set-up not counted). The suite runs 3
rounds to stay within its time budget; KAPFLOW_RELIABILITY_FULL=1 runs the published 20.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from kapflow.core.models import AccessLogEntry
from kapflow.courses.models import ClinicalNote
from kapflow.dosing import services as dosing_services
from kapflow.dosing.models import Administration, DosingSession, LedgerKind, StockLot
from kapflow.patients import services as patient_services
from kapflow.patients.models import Patient
from kapflow.scheduling.models import ACTIVE_STATUSES, Appointment
from tests.api.helpers import api
from tests.courses.course_helpers import make_note
from tests.dosing.helpers import checked_in, make_lot, make_ready
from tests.reliability.rounds import (
    ACKNOWLEDGED,
    REFUSED,
    Attempt,
    Figures,
    Write,
    assert_expected,
    outcome,
    run_rounds,
)
from tests.scheduling.helpers import DENVER, weekday_ahead

FULL = os.environ.get("KAPFLOW_RELIABILITY_FULL") == "1"
CLIENTS = 20
ROUNDS = 20 if FULL else 3

pytestmark = pytest.mark.django_db(transaction=True)


def report(figures: Figures) -> None:
    print(f"\n{figures.line()}")


# --- 1. One draft note ---------------------------------------------------------------------------

NOTE_PATHS = ("page", "autosave", "api")
STALE_PAGE = "Someone saved this note after you opened it"
STALE_API = ("changed since you read it", STALE_PAGE)


def note_client(world, note: ClinicalNote, index: int):
    """The author in one more window: the note page (Save), its autosave, or the API."""
    path = NOTE_PATHS[index % len(NOTE_PATHS)]
    page = reverse("courses:note", kwargs={"clinic": "demo", "note_id": note.public_id})
    autosave = reverse("courses:autosave", kwargs={"clinic": "demo", "note_id": note.public_id})
    resource = f"/api/v1/notes/{note.public_id}/"
    browser, caller = Client(), api(world.therapist) if path == "api" else APIClient()
    browser.force_login(world.therapist.user)

    def read(number: int) -> Write:
        text = f"Round {number}: the text of client {index} ({path})"
        if path == "api":
            etag = caller.get(resource)["ETag"]
            return lambda: api_save(caller, resource, etag, number, index, text)
        shown = browser.get(page)
        version = re.search(r'name="version" value="(\d+)"', shown.content.decode())
        assert shown.status_code == 200 and version, shown.content.decode()[:500]
        url = page if path == "page" else autosave
        return lambda: page_save(browser, url, path, version.group(1), number, index, text)

    return read


def page_save(
    browser: Client, url: str, path: str, version: str, number: int, index: int, text: str
) -> Attempt:
    data = {"version": version, "readiness": text}
    if path == "autosave":
        response = browser.post(url, data, HTTP_HX_REQUEST="true")
        ok = 200
    else:
        response = browser.post(url, data)
        ok = 302
    body = response.content.decode()
    result = outcome(response.status_code, [ok], [409])
    if result == REFUSED:  # told so, and (on the page) shown their own text beside the saved one
        assert STALE_PAGE in body and (path == "autosave" or text in body), body[:600]
    return Attempt(number, index, path, text, response.status_code, result, "stale", body=body)


def api_save(caller: APIClient, url: str, etag: str, number: int, index: int, text: str) -> Attempt:
    response = caller.patch(url, {"content": {"readiness": text}}, format="json", HTTP_IF_MATCH=etag)
    body = response.content.decode()
    result = outcome(response.status_code, [200], [412])
    if result == REFUSED:
        assert any(message in body for message in STALE_API), body[:600]
    ref = response.get("ETag", "") if result == ACKNOWLEDGED else ""
    return Attempt(number, index, "api", text, response.status_code, result, "stale", ref, body)


def test_twenty_clients_saving_one_draft_note_at_once_lose_no_acknowledged_text(world):
    note = make_note(world)
    start_version = note.version
    clients = [note_client(world, note, index) for index in range(CLIENTS)]
    lost: list[str] = []
    kept: list[str] = []

    def check_round(number: int, attempts: list[Attempt]) -> None:
        assert_expected(attempts)
        winners = [a for a in attempts if a.outcome == ACKNOWLEDGED]
        saved = ClinicalNote.objects.get(pk=note.pk)
        # A write acknowledged but not what the note now holds was silently overwritten.
        lost.extend(a.value for a in winners if a.value != saved.content.get("readiness"))
        kept.append(saved.content.get("readiness", ""))
        assert len(attempts) == CLIENTS
        assert len(winners) == 1, [a.shown() for a in winners]
        assert saved.version == start_version + number + 1
        if winners[0].path == "api":
            assert winners[0].ref == f'"{note.public_id}.{saved.version}"'

    figures = Figures("note", CLIENTS, ROUNDS, [], 0)
    figures.attempts = run_rounds(clients, ROUNDS, check_round)
    figures.lost_updates = len(lost)
    figures.extra = dict(
        Counter(f"acknowledged_{a.path}" for a in figures.attempts if a.outcome == ACKNOWLEDGED)
    )
    report(figures)

    acknowledged = [
        a.value for a in sorted(figures.attempts, key=lambda a: a.round) if a.outcome == ACKNOWLEDGED
    ]
    assert lost == [] and kept == acknowledged
    saved = ClinicalNote.objects.get(pk=note.pk)
    assert saved.version == start_version + len(acknowledged)
    assert saved.content["readiness"] == acknowledged[-1]
    # Each acknowledged save, and nothing else, left its entry in the access log.
    entries = AccessLogEntry.objects.filter(detail=f"note {note.public_id} draft saved")
    assert entries.count() == len(acknowledged)
    assert {a.path for a in figures.attempts if a.outcome == REFUSED} == set(NOTE_PATHS)


# --- 2. One appointment slot ----------------------------------------------------------------------

TAKEN = ("is already booked", "already has an appointment")


def slot(number: int) -> datetime:
    """Round ``number``'s half hour in Dosing room 1: a new one each round, 08:00 to 18:00 (the
    example opening hours hold 20 of them), on a working day a week ahead."""
    return datetime.combine(weekday_ahead(), time(8, 0), DENVER) + timedelta(minutes=30 * number)


def booking_client(world, patient: Patient, index: int):
    """The front desk books ``patient`` with Theo in Dosing room 1: on the page, or by the API."""
    path = "page" if index % 2 == 0 else "api"
    browser, caller = Client(), api(world.frontdesk) if path == "api" else APIClient()
    browser.force_login(world.frontdesk.user)

    def read(number: int) -> Write:
        start = slot(number)
        if path == "api":
            data: dict[str, object] = {
                "patient": str(patient.public_id),
                "kind": "follow_up",
                "start": start.isoformat(),
                "staff": [world.therapist.user.email],
                "room": world.room.name,
            }
            return lambda: book(
                number, index, path, caller.post("/api/v1/appointments/", data, format="json")
            )
        form = {
            "patient": str(patient.pk),
            "kind": "follow_up",
            "day": start.date().isoformat(),
            "time": start.strftime("%H:%M"),
            "room": str(world.room.pk),
            "staff": str(world.therapist.user_id),
            "action": "book",
        }
        return lambda: book(
            number, index, path, browser.post(reverse("scheduling:book", kwargs={"clinic": "demo"}), form)
        )

    def book(number: int, index: int, path: str, response) -> Attempt:
        body = response.content.decode()
        result = outcome(response.status_code, [302 if path == "page" else 201], [409])
        if result == REFUSED:  # told which clash
            assert any(clash in body for clash in TAKEN), body[:600]
        ref = ""
        if result == ACKNOWLEDGED:
            ref = response["Location"] if path == "page" else response.json()["id"]
        return Attempt(number, index, path, str(patient.pk), response.status_code, result, "taken", ref, body)

    return read


def more_patients(world, count: int, prefix: str) -> list[Patient]:
    """``count`` Demo patients with Theo and Priya on their care teams."""
    found = []
    for n in range(count):
        patient = patient_services.patient_create(
            member=world.frontdesk,
            data={
                "legal_given_name": f"Client{n}",
                "legal_family_name": "Parallel",
                "date_of_birth": date(1980, 1, 1 + n % 28),
                "record_number": f"{prefix}-{n}",
            },
        )
        for clinician in (world.therapist, world.prescriber):
            patient_services.care_team_add(
                member=world.frontdesk, patient=patient, membership_id=clinician.pk
            )
        found.append(patient)
    return found


def overlapping(rows: list[Appointment], key) -> list[tuple[int, int]]:
    """Pairs of appointments that overlap in time and share ``key`` (a room, a person)."""
    return [
        (a.pk, b.pk)
        for i, a in enumerate(rows)
        for b in rows[i + 1 :]
        if key(a) & key(b) and a.starts_at < b.ends_at and b.starts_at < a.ends_at
    ]


def test_twenty_clients_booking_one_slot_at_once_book_it_exactly_once(world):
    assert ROUNDS <= 20, "the opening hours hold 20 half-hour slots"
    patients = more_patients(world, CLIENTS, "B")
    clients = [booking_client(world, patients[index], index) for index in range(CLIENTS)]
    active = Appointment.objects.filter(status__in=ACTIVE_STATUSES, voided_at__isnull=True)

    def check_round(number: int, attempts: list[Attempt]) -> None:
        assert_expected(attempts)
        winners = [a for a in attempts if a.outcome == ACKNOWLEDGED]
        assert len(attempts) == CLIENTS and len(winners) == 1, [a.shown() for a in winners]
        booked = active.get(starts_at=slot(number))
        assert str(booked.patient_id) == winners[0].value and str(booked.public_id) in winners[0].ref
        assert active.count() == number + 1

    figures = Figures("appointment", CLIENTS, ROUNDS, [], 0)
    figures.attempts = run_rounds(clients, ROUNDS, check_round)

    rows = list(active.prefetch_related("staff"))
    by_room = overlapping(rows, lambda a: {a.room_id} - {None})
    by_person = overlapping(rows, lambda a: {s.user_id for s in a.staff.all()} | {f"p{a.patient_id}"})
    acknowledged = [a for a in figures.attempts if a.outcome == ACKNOWLEDGED]
    kept = {str(a.public_id) for a in rows}
    missing = [a for a in acknowledged if not any(ref in a.ref for ref in kept)]
    figures.lost_updates = len(missing) + len(by_room) + len(by_person)
    figures.extra = {"double_bookings": len(by_room) + len(by_person)}
    report(figures)

    assert len(rows) == ROUNDS == len(acknowledged)
    assert missing == [] and by_room == [] and by_person == []
    assert all(row.room_id == world.room.pk for row in rows)


# --- 3. One controlled-substance lot ---------------------------------------------------------------

SESSIONS = 6  # two clients per session (the API and the page): one of each pair is stale per round
DOSE_MG = Decimal(10)  # a booster: 100 mg first dose + 20 boosters stays under the 400 mg maximum
WASTE_MG = Decimal(5)
STALE_DOSE = ("This session changed while you were entering the dose", "changed since you read it")
NO_STOCK = ("more than the stock holds", "No usable lot", "That lot cannot be used")


def drawn(attempts: list[Attempt]) -> Decimal:
    return sum((Decimal(a.value) for a in attempts if a.outcome == ACKNOWLEDGED), Decimal(0))


def session_of(attempt: Attempt) -> int:
    return int(attempt.ref.split(":")[0])


def refusal(body: str) -> str:
    """Why a draw was refused, as the client was told: a stale page, or not enough stock."""
    if any(message in body for message in STALE_DOSE):
        return "stale"
    assert any(message in body for message in NO_STOCK), body[:600]
    return "stock"


def dose_client(world, session: DosingSession, lot: StockLot, index: int):
    """Priya records a 10 mg dose in ``session``: through the API, or the session page."""
    path = "api" if index % 2 == 0 else "page"
    browser, caller = Client(), api(world.prescriber) if path == "api" else APIClient()
    browser.force_login(world.prescriber.user)
    resource = f"/api/v1/dosing-sessions/{session.public_id}/"
    kwargs = {"clinic": "demo", "session_id": session.public_id}

    def read(number: int) -> Write:
        if path == "api":
            etag = caller.get(resource)["ETag"]
            data = {"dose_mg": str(DOSE_MG), "lot_number": lot.lot_number}
            return lambda: dose(
                number, caller.post(f"{resource}administrations/", data, format="json", HTTP_IF_MATCH=etag)
            )
        shown = browser.get(reverse("dosing:session", kwargs=kwargs)).content.decode()
        version = re.search(r'name="dose-version" value="(\d+)"', shown)
        assert version, shown[:600]
        form = {"dose-dose_mg": str(DOSE_MG), "dose-lot": str(lot.pk), "dose-version": version.group(1)}
        return lambda: dose(number, browser.post(reverse("dosing:administer", kwargs=kwargs), form))

    def dose(number: int, response) -> Attempt:
        body = response.content.decode()
        result = outcome(response.status_code, [201 if path == "api" else 302], [400, 409, 412])
        reason = refusal(body) if result == REFUSED else ""
        # The session written to, and (from the API) the id of the administration recorded.
        ref = f"{session.pk}:{response.json()['id'] if result == ACKNOWLEDGED and path == 'api' else ''}"
        return Attempt(number, index, path, str(DOSE_MG), response.status_code, result, reason, ref, body)

    return read


def waste_client(world, lot: StockLot, index: int):
    """Priya (witnessed by Nico) or Nico (witnessed by Priya) records 5 mg of waste."""
    actor, witness = (world.prescriber, world.nurse) if index % 2 == 0 else (world.nurse, world.prescriber)
    browser = Client()
    browser.force_login(actor.user)
    url = reverse("stock:waste", kwargs={"clinic": "demo", "lot_id": lot.public_id})

    def read(number: int) -> Write:
        reason = f"Round {number}: waste of client {index}"
        data = {
            "waste-quantity_mg": str(WASTE_MG),
            "waste-witness": str(witness.user_id),
            "waste-reason": reason,
        }

        def write() -> Attempt:
            response = browser.post(url, data)
            body = response.content.decode()
            result = outcome(response.status_code, [302], [400])
            why = refusal(body) if result == REFUSED else ""
            return Attempt(
                number, index, "waste", str(WASTE_MG), response.status_code, result, why, reason, body
            )

        return write

    return read


def ready_sessions(world, count: int) -> list[DosingSession]:
    """``count`` checked-in sessions (a patient each), their first dose given from another lot."""
    first = make_lot(world, quantity=str(100 * count), lot_number="LOT-FIRST")
    sessions = []
    for patient in more_patients(world, count, "D"):
        session = checked_in(world, make_ready(world, patient=patient))
        dosing_services.administration_record(
            member=world.prescriber,
            session=session,
            dose_mg=Decimal(100),
            lot=first,
            started_at=None,
            ended_at=None,
            witness_id=None,
            override_reason="",
            base_version=session.version,
        )
        sessions.append(session)
    return sessions


def assert_ledger_adds_up(lot: StockLot) -> dict[str, Decimal]:
    """Balance = receipts - administrations - waste, each entry's balance following from the one
    before and never negative. Returns the totals by kind."""
    lot.refresh_from_db()
    entries = list(lot.entries.order_by("id"))
    running = Decimal(0)
    for entry in entries:
        running += entry.quantity_mg
        assert entry.balance_after_mg == running >= 0, entry
    totals = {
        kind: -(lot.entries.filter(kind=kind).aggregate(t=Sum("quantity_mg"))["t"] or Decimal(0))
        for kind in (LedgerKind.ADMINISTRATION, LedgerKind.WASTE)
    }
    receipts = lot.entries.filter(kind=LedgerKind.RECEIPT).aggregate(t=Sum("quantity_mg"))["t"]
    assert set(lot.entries.values_list("kind", flat=True)) <= {LedgerKind.RECEIPT, *totals}
    assert (
        lot.balance_mg
        == running
        == receipts - totals[LedgerKind.ADMINISTRATION] - totals[LedgerKind.WASTE]
        >= 0
    )
    return {str(kind): total for kind, total in totals.items()}


def test_twenty_clients_drawing_from_one_lot_at_once_keep_the_ledger_exact(world):
    sessions = ready_sessions(world, SESSIONS)
    # A round can draw a dose per session and every waste; the lot holds two thirds of the rounds'
    # worth and a part of one more, so it runs out in the middle of a round, part-way through.
    per_round = SESSIONS * DOSE_MG + (CLIENTS - 2 * SESSIONS) * WASTE_MG
    initial = per_round * (ROUNDS * 2 // 3) + per_round * Decimal("0.45")
    lot = make_lot(world, quantity=str(initial), lot_number="LOT-RACE")
    dosing = [dose_client(world, sessions[i // 2], lot, i) for i in range(2 * SESSIONS)]
    clients = dosing + [waste_client(world, lot, i) for i in range(len(dosing), CLIENTS)]
    so_far: list[Attempt] = []

    def check_round(number: int, attempts: list[Attempt]) -> None:
        assert_expected(attempts)
        so_far.extend(attempts)
        per_session = Counter(
            session_of(a) for a in attempts if a.outcome == ACKNOWLEDGED and a.path != "waste"
        )
        assert len(attempts) == CLIENTS
        assert set(per_session.values()) <= {1}, per_session  # one dose per session and round
        lot.refresh_from_db()
        assert lot.balance_mg == initial - drawn(so_far) >= 0
        assert lot.entries.count() == 1 + sum(a.outcome == ACKNOWLEDGED for a in so_far)

    figures = Figures("lot", CLIENTS, ROUNDS, [], 0)
    figures.attempts = run_rounds(clients, ROUNDS, check_round)
    acknowledged = [a for a in figures.attempts if a.outcome == ACKNOWLEDGED]
    doses = [a for a in acknowledged if a.path != "waste"]
    wastes = [a for a in acknowledged if a.path == "waste"]
    totals = assert_ledger_adds_up(lot)
    given = Administration.objects.filter(lot=lot)
    # Lost: an acknowledged draw without its ledger entry (or an entry nobody was told of).
    recorded_wastes = set(lot.entries.filter(kind=LedgerKind.WASTE).values_list("reason", flat=True))
    figures.lost_updates = abs(given.count() - len(doses)) + len({a.ref for a in wastes} ^ recorded_wastes)
    reasons = Counter(a.reason for a in figures.attempts if a.outcome == REFUSED)
    figures.extra = {
        "administrations": len(doses),
        "wastes": len(wastes),
        "refused_stale": reasons["stale"],
        "refused_stock": reasons["stock"],
        "initial_mg": initial,
        "balance_mg": lot.balance_mg,
    }
    report(figures)

    assert figures.lost_updates == 0
    assert lot.balance_mg == initial - drawn(figures.attempts)
    assert totals == {"administration": DOSE_MG * len(doses), "waste": WASTE_MG * len(wastes)}
    # One ledger entry per administration, and the other way round: no double deduction, no orphan.
    assert sorted(
        lot.entries.filter(kind=LedgerKind.ADMINISTRATION).values_list("administration_id", flat=True)
    ) == sorted(given.values_list("pk", flat=True))
    api_ids = {a.ref.split(":")[1] for a in doses if a.path == "api"}
    assert api_ids <= {str(i) for i in given.values_list("public_id", flat=True)}
    told = Counter(session_of(a) for a in doses)
    assert {s.pk: given.filter(session=s).count() for s in sessions} == {s.pk: told[s.pk] for s in sessions}
    assert reasons["stale"] > 0 and reasons["stock"] > 0
    ran_out = {a.round for a in figures.attempts if a.reason == "stock"}
    assert ran_out & {a.round for a in acknowledged}, "the lot ran out within a round"
