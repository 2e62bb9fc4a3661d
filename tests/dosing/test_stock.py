"""The controlled-substance ledger pages: receiving, waste, counts and the report, through the
views as the people who use them; refusals (with a clear message, nothing changed) and who
may see what."""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kapflow.core.models import AccessLogEntry
from kapflow.core.roles import Role
from kapflow.dosing import stock
from kapflow.dosing.models import LedgerEntry, LedgerKind, StockCount, StockLot
from tests.conftest import make_member
from tests.dosing.helpers import dosed, make_lot, make_ready
from tests.html import field_error, field_value

DENVER = ZoneInfo("America/Denver")


def url(name: str, clinic: str = "demo", **kwargs) -> str:
    return reverse(f"stock:{name}", kwargs={"clinic": clinic, **kwargs})


def lot_url(name: str, lot: StockLot, clinic: str = "demo") -> str:
    return url(name, clinic, lot_id=lot.public_id)


def ledger_state() -> tuple[list[Any], list[Any], list[Any]]:
    return (
        list(StockLot.objects.order_by("pk").values()),
        list(LedgerEntry.objects.order_by("pk").values()),
        list(StockCount.objects.order_by("pk").values()),
    )


def denied(member) -> int:
    return AccessLogEntry.objects.filter(user=member.user, outcome="denied", category="stock").count()


def page(response) -> str:
    return response.content.decode()


def in_a_year() -> str:
    return (timezone.localdate() + timedelta(days=365)).isoformat()


def receive_data(**changes: str) -> dict[str, str]:
    data = {
        "receive-lot_number": "LOT-NEW-7",
        "receive-form": "100 mg troche",
        "receive-quantity_mg": "1500",
        "receive-expires_on": in_a_year(),
        "receive-supplier": "Compounding Pharmacy Co.",
    }
    data.update({f"receive-{k}": v for k, v in changes.items()})
    return data


# --- the lots -------------------------------------------------------------------------------
def test_the_lots_page_lists_each_lot_and_marks_expired_and_soon_expiring_ones(world, login):
    make_lot(world, lot_number="LOT-FAR")
    soon = make_lot(world, lot_number="LOT-SOON", quantity="300")
    gone = make_lot(world, lot_number="LOT-GONE", quantity="100")
    today = timezone.localdate()
    StockLot.objects.filter(pk=soon.pk).update(expires_on=today + timedelta(days=10))
    StockLot.objects.filter(pk=gone.pk).update(expires_on=today - timedelta(days=1))

    response = login(world.prescriber).get(url("lots"))

    assert response.status_code == 200
    rows = {row.lot.lot_number: row for row in response.context["rows"]}
    assert (rows["LOT-FAR"].expired, rows["LOT-FAR"].expiring) == (False, False)
    assert (rows["LOT-SOON"].expired, rows["LOT-SOON"].expiring) == (False, True)
    assert (rows["LOT-GONE"].expired, rows["LOT-GONE"].expiring) == (True, False)
    html = page(response)
    for text in ("LOT-FAR", "LOT-SOON", "LOT-GONE", "100 mg troche", "ketamine hydrochloride", "2000"):
        assert text in html
    assert "expired</span>" in html and "expires within 30 days" in html
    assert 'action="/c/demo/stock/receive/"' in html  # the receive form, for a prescriber


def test_a_prescriber_receives_stock_through_the_form(world, login):
    client = login(world.prescriber)
    response = client.post(url("receive"), receive_data())

    lot = StockLot.objects.get(lot_number="LOT-NEW-7")
    assert response.status_code == 302
    assert response["Location"] == lot_url("lot", lot)
    assert (lot.received_mg, lot.balance_mg, lot.supplier) == (
        Decimal(1500),
        Decimal(1500),
        "Compounding Pharmacy Co.",
    )
    entry = lot.entries.get()
    assert (entry.kind, entry.quantity_mg, entry.balance_after_mg, entry.by) == (
        LedgerKind.RECEIPT,
        Decimal(1500),
        Decimal(1500),
        world.prescriber.user,
    )
    assert "Lot LOT-NEW-7 received: 1500.00 mg." in page(client.get(response["Location"]))


DUPLICATE = object()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"quantity_mg": "0"},
            None,
            "The quantity received must be more than 0 mg and at most 1,000,000 mg.",
        ),
        (
            {"quantity_mg": "-5"},
            None,
            "The quantity received must be more than 0 mg and at most 1,000,000 mg.",
        ),
        (
            {"quantity_mg": "10000000"},
            None,
            "The quantity received must be more than 0 mg and at most 1,000,000 mg.",
        ),
        ({"quantity_mg": "a lot"}, "quantity_mg", "Enter the quantity in mg as a number"),
        ({"quantity_mg": "12.345"}, "quantity_mg", "at most 2 decimal places"),
        ({"lot_number": "  "}, "lot_number", "Enter the lot number printed on the package."),
        ({"form": ""}, "form", "Describe the form and strength"),
        (
            {"expires_on": "2020-01-31"},
            None,
            "This lot expired on 2020-01-31; expired stock is not received.",
        ),
        ({"expires_on": "31/31/2031"}, "expires_on", "Enter the expiry date as YYYY-MM-DD."),
        ({"lot_number": "LOT-A1"}, None, "Lot LOT-A1 is already in the ledger"),
    ],
)
def test_bad_receipts_are_refused_with_a_message_keeping_what_was_typed(
    world, login, changes, field, message
):
    make_lot(world)  # LOT-A1, for the duplicate
    before = ledger_state()
    data = receive_data(**changes)

    response = login(world.prescriber).post(url("receive"), data)

    assert response.status_code == 400
    html = page(response)
    if field is None:
        assert message in html
        assert "nothing has been saved yet" in html
    else:
        assert message in field_error(html, f"receive-{field}")
    for name, value in data.items():
        assert field_value(html, name) == value.strip() or field_value(html, name) == value
    assert ledger_state() == before


# --- one lot: ledger, waste, count ----------------------------------------------------------
def test_a_prescriber_records_witnessed_waste(world, login):
    lot = make_lot(world, quantity="100")
    client = login(world.prescriber)

    response = client.post(
        lot_url("waste", lot),
        {
            "waste-quantity_mg": "12.5",
            "waste-witness": str(world.nurse.user_id),
            "waste-reason": "Rest of a troche",
        },
    )

    assert response.status_code == 302 and response["Location"] == lot_url("lot", lot)
    lot.refresh_from_db()
    assert lot.balance_mg == Decimal("87.5")
    entry = lot.entries.get(kind=LedgerKind.WASTE)
    assert (entry.quantity_mg, entry.balance_after_mg, entry.by, entry.witness, entry.reason) == (
        Decimal("-12.5"),
        Decimal("87.5"),
        world.prescriber.user,
        world.nurse.user,
        "Rest of a troche",
    )
    html = page(client.get(response["Location"]))
    assert "Waste of 12.50 mg recorded; the lot now holds 87.50 mg." in html
    assert "-12.5" in html and "Nico Nurse" in html and "Rest of a troche" in html
    assert '<strong id="lot-balance">87.50 mg</strong>' in html


def test_the_witness_list_offers_the_other_prescribers_and_nurses_only(world, login):
    lot = make_lot(world)
    form = login(world.prescriber).get(lot_url("lot", lot)).context["waste_form"]
    offered = [value for value, _label in form.fields["witness"].choices if value != ""]
    assert offered == [world.nurse.user_id]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"witness": ""}, "witness", "A witness is required."),
        ({"witness": "me"}, None, "The witness must be someone else."),
        ({"witness": "therapist"}, None, "The witness must be an active prescriber or nurse of this clinic."),
        ({"witness": "other"}, None, "The witness must be an active prescriber or nurse of this clinic."),
        ({"witness": "x"}, "witness", "Choose the witness from the list."),
        (
            {"quantity_mg": "100.01"},
            None,
            "Lot LOT-A1 holds 100.00 mg; 100.01 mg is more than the stock holds.",
        ),
        ({"quantity_mg": "0"}, None, "The quantity wasted must be more than 0 mg and at most 1,000,000 mg."),
        ({"quantity_mg": "-1"}, None, "The quantity wasted must be more than 0 mg and at most 1,000,000 mg."),
        (
            {"quantity_mg": "10000000"},
            None,
            "The quantity wasted must be more than 0 mg and at most 1,000,000 mg.",
        ),
        ({"quantity_mg": "ten"}, "quantity_mg", "Enter the quantity in mg as a number"),
        ({"reason": ""}, "reason", "Say why the stock was wasted."),
    ],
)
def test_bad_waste_is_refused_with_a_message_and_the_balance_unchanged(world, login, data, field, message):
    lot = make_lot(world, quantity="100")
    witnesses = {
        "me": world.prescriber.user_id,
        "therapist": world.therapist.user_id,
        "other": world.other_admin.user_id,
        "x": "x",
        "": "",
    }
    posted = {"quantity_mg": "20", "witness": str(world.nurse.user_id), "reason": "Dropped", **data}
    posted["witness"] = str(witnesses.get(posted["witness"], posted["witness"]))
    before = ledger_state()

    response = login(world.prescriber).post(
        lot_url("waste", lot), {f"waste-{k}": v for k, v in posted.items()}
    )

    assert response.status_code == 400
    html = page(response)
    assert message in (html if field is None else field_error(html, f"waste-{field}"))
    assert field_value(html, "waste-quantity_mg") == posted["quantity_mg"]
    assert field_value(html, "waste-reason") == posted["reason"]
    assert '<strong id="lot-balance">100 mg</strong>' in html
    assert ledger_state() == before
    assert StockLot.objects.get(pk=lot.pk).balance_mg == Decimal(100)


def test_a_count_that_matches_needs_no_reason_or_witness(world, login):
    lot = make_lot(world, quantity="100")
    response = login(world.nurse).post(lot_url("count", lot), {"count-counted_mg": "100"})
    assert response.status_code == 302
    made = StockCount.objects.get(lot=lot)
    assert (made.expected_mg, made.counted_mg, made.by, made.witness) == (
        Decimal(100),
        Decimal(100),
        world.nurse.user,
        None,
    )
    assert not lot.entries.filter(kind=LedgerKind.ADJUSTMENT).exists()


def test_a_count_that_differs_adjusts_the_balance_with_its_reason_and_witness(world, login):
    lot = make_lot(world, quantity="100")
    client = login(world.prescriber)
    response = client.post(
        lot_url("count", lot),
        {
            "count-counted_mg": "97",
            "count-witness": str(world.nurse.user_id),
            "count-reason": "Crumbled troche",
        },
    )
    assert response.status_code == 302
    lot.refresh_from_db()
    assert lot.balance_mg == Decimal(97)
    adjustment = lot.entries.get(kind=LedgerKind.ADJUSTMENT)
    assert (adjustment.quantity_mg, adjustment.balance_after_mg, adjustment.witness) == (
        Decimal(-3),
        Decimal(97),
        world.nurse.user,
    )
    html = page(client.get(response["Location"]))
    assert "Count recorded: 97.00 mg against 100.00 mg in the ledger" in html
    assert "Crumbled troche" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"counted_mg": "90", "witness": "nurse", "reason": ""},
            "The count (90 mg) differs from the ledger (100.00 mg): give the reason.",
        ),
        ({"counted_mg": "90", "witness": "", "reason": "Spilled"}, "A witness is required."),
        (
            {"counted_mg": "-1", "witness": "nurse", "reason": "Spilled"},
            "The count must be from 0 mg to 1,000,000 mg.",
        ),
        (
            {"counted_mg": "10000000", "witness": "nurse", "reason": "Spilled"},
            "The count must be from 0 mg to 1,000,000 mg.",
        ),
    ],
)
def test_bad_counts_are_refused_and_change_nothing(world, login, data, message):
    lot = make_lot(world, quantity="100")
    posted = dict(data, witness=str(world.nurse.user_id) if data["witness"] == "nurse" else "")
    before = ledger_state()
    response = login(world.prescriber).post(
        lot_url("count", lot), {f"count-{k}": v for k, v in posted.items()}
    )
    assert response.status_code == 400
    html = page(response)
    assert message in html
    assert field_value(html, "count-counted_mg") == posted["counted_mg"]
    assert ledger_state() == before


def test_the_lot_page_shows_an_administration_with_the_record_number_and_session_link(world, login):
    lot = make_lot(world)
    session = dosed(world, make_ready(world), lot, dose="200")

    response = login(world.admin).get(lot_url("lot", lot))

    assert response.status_code == 200
    html = page(response)
    link = reverse("dosing:session", kwargs={"clinic": "demo", "session_id": session.public_id})
    assert f'href="{link}"' in html
    assert "Patient R-1" in html
    assert "Jordan" not in html  # the record number, not the name
    entry = lot.entries.get(kind=LedgerKind.ADMINISTRATION)
    assert entry.quantity_mg == Decimal(-200)
    # No forms for the admin, who reads only.
    assert response.context["waste_form"] is None and response.context["count_form"] is None
    assert "/waste/" not in html and "/count/" not in html


def test_times_are_shown_in_the_clinics_time_zone(world, login):
    moment = datetime(2026, 3, 2, 3, 30, tzinfo=ZoneInfo("UTC"))  # 2026-03-01 20:30 in Denver
    with mock.patch("django.utils.timezone.now", return_value=moment):
        lot = stock.lot_receive(
            member=world.prescriber,
            lot_number="TZ-1",
            form="100 mg troche",
            quantity_mg=Decimal(100),
            expires_on=date(2027, 1, 1),
        )
    html = page(login(world.prescriber).get(lot_url("lot", lot)))
    assert "2026-03-01 20:30" in html


# --- who may do what ------------------------------------------------------------------------
def test_the_clinic_admin_reads_the_ledger_but_may_not_record_anything(world, login):
    lot = make_lot(world, quantity="100")
    client = login(world.admin)
    for path in (url("lots"), lot_url("lot", lot), url("report"), url("report_csv")):
        assert client.get(path).status_code == 200, path
    assert "Receive stock" not in page(client.get(url("lots")))
    before, refusals = ledger_state(), denied(world.admin)

    posts = [
        (url("receive"), receive_data()),
        (
            lot_url("waste", lot),
            {"waste-quantity_mg": "10", "waste-witness": str(world.nurse.user_id), "waste-reason": "x"},
        ),
        (
            lot_url("count", lot),
            {"count-counted_mg": "90", "count-witness": str(world.nurse.user_id), "count-reason": "x"},
        ),
    ]
    for path, data in posts:
        assert client.get(path).status_code == 403, path
        assert client.post(path, data).status_code == 403, path

    assert ledger_state() == before
    assert denied(world.admin) == refusals + 6
    entry = AccessLogEntry.objects.filter(user=world.admin.user, outcome="denied").latest("seq")
    assert "stock.manage" in entry.detail


@pytest.mark.parametrize("persona", ["therapist", "frontdesk"])
def test_therapists_and_front_desk_are_refused_every_stock_page(world, login, persona):
    lot = make_lot(world, quantity="100")
    member = world.member(persona)
    client = login(member)
    paths = [
        url("lots"),
        url("receive"),
        url("report"),
        url("report_csv"),
        lot_url("lot", lot),
        lot_url("waste", lot),
        lot_url("count", lot),
    ]
    before, refusals = ledger_state(), denied(member)
    for path in paths:
        assert client.get(path).status_code == 403, path
        assert client.post(path, {**receive_data(), "waste-quantity_mg": "10"}).status_code == 403, path
    assert ledger_state() == before
    assert denied(member) == refusals + 2 * len(paths)


def test_another_clinic_sees_nothing_of_ours(world, login):
    lot = make_lot(world, quantity="100")
    other_prescriber = make_member(world.other, "petra@other.test", "Petra Other", Role.PRESCRIBER)
    before = ledger_state()

    admin = login(world.other_admin)
    assert admin.get(url("lots")).status_code == 404  # our clinic: not theirs
    assert admin.get(lot_url("lot", lot)).status_code == 404
    theirs = admin.get(url("lots", "other"))
    assert theirs.status_code == 200 and "LOT-A1" not in page(theirs)
    assert admin.get(lot_url("lot", lot, "other")).status_code == 404  # our lot through their clinic

    client = login(other_prescriber)
    waste = {"waste-quantity_mg": "10", "waste-witness": str(world.nurse.user_id), "waste-reason": "x"}
    assert client.post(lot_url("waste", lot, "other"), waste).status_code == 404
    assert client.post(lot_url("count", lot, "other"), {"count-counted_mg": "0"}).status_code == 404
    report = client.get(url("report", "other"))
    assert report.status_code == 200 and report.context["lots"] == []
    assert ledger_state() == before


def test_anonymous_visitors_are_sent_to_sign_in(world, client):
    response = client.get(url("lots"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_post_only_routes_answer_405_to_those_allowed(world, login):
    lot = make_lot(world)
    client = login(world.nurse)
    for path in (url("receive"), lot_url("waste", lot), lot_url("count", lot)):
        assert client.get(path).status_code == 405, path


def test_the_navigation_shows_the_ledger_to_those_who_may_read_it(world, login, client):
    for persona, shown in [
        ("admin", True),
        ("prescriber", True),
        ("nurse", True),
        ("therapist", False),
        ("frontdesk", False),
    ]:
        client.force_login(world.member(persona).user)
        html = page(client.get(reverse("clinic_home", kwargs={"clinic": "demo"})))
        assert ('href="/c/demo/stock/"' in html) is shown, persona


# --- the report -----------------------------------------------------------------------------
def at(day: date, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=DENVER)


@contextmanager
def now_is(moment: datetime):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def administered(world, lot: StockLot, mg: str, moment: datetime) -> None:
    """The deduction a dose makes (stock.deduct_for), without a whole dosing session."""
    with transaction.atomic():
        stock._move(
            member=world.prescriber, lot=lot, kind=LedgerKind.ADMINISTRATION, quantity=-Decimal(mg), at=moment
        )


def waste(world, lot: StockLot, mg: str, moment: datetime) -> None:
    with now_is(moment):
        stock.waste_record(
            member=world.prescriber,
            lot=lot,
            quantity_mg=Decimal(mg),
            witness_id=world.nurse.user_id,
            reason="Waste",
        )


def receive(member, number: str, mg: str, moment: datetime) -> StockLot:
    with now_is(moment):
        return stock.lot_receive(
            member=member,
            lot_number=number,
            form="100 mg troche",
            quantity_mg=Decimal(mg),
            expires_on=date(2027, 6, 30),
        )


MARCH_1, MARCH_31, APRIL_1 = date(2026, 3, 1), date(2026, 3, 31), date(2026, 4, 1)


@pytest.fixture
def march(world):
    """A small fixed ledger around March 2026 (Denver), with entries on both sides of each
    boundary: the first second of March 1 is in, the last second of February and the first
    second of April are out."""
    a = receive(world.prescriber, "A", "1000", at(date(2026, 2, 27), 10))
    waste(world, a, "10", at(date(2026, 2, 28), 23, 59, 59))  # before: in the opening balance
    administered(world, a, "200", at(MARCH_1, 0, 0, 0))  # the first moment of the period
    waste(world, a, "30", at(date(2026, 3, 15)))
    with now_is(at(date(2026, 3, 20))):
        stock.count_record(
            member=world.nurse,
            lot=a,
            counted_mg=Decimal(755),
            witness_id=world.prescriber.user_id,
            reason="Crumbled",
        )
    administered(world, a, "100", at(MARCH_31, 23, 59, 59))  # the last moment of the period
    waste(world, a, "50", at(APRIL_1, 0, 0, 0))  # the first moment after: not in
    b = receive(world.prescriber, "B", "500", at(date(2026, 3, 10)))
    waste(world, b, "20", at(date(2026, 3, 11)))
    receive(world.prescriber, "C", "400", at(APRIL_1, 0, 0, 0))  # received after the period
    receive(world.prescriber, "D", "300", at(date(2026, 1, 5)))  # held all along, never moved
    empty = receive(world.prescriber, "E", "40", at(date(2026, 1, 6)))
    waste(world, empty, "40", at(date(2026, 1, 7)))  # empty before the period: not listed
    other_prescriber = make_member(world.other, "petra@other.test", "Petra Other", Role.PRESCRIBER)
    receive(other_prescriber, "A", "999", at(date(2026, 3, 5)))  # another clinic's lot
    return world


# lot: (opening, received, administered, wasted, adjusted, closing), worked out by hand
EXPECTED = {
    "A": ("990.00", "0.00", "300.00", "30.00", "-5.00", "655.00"),
    "B": ("0.00", "500.00", "0.00", "20.00", "0.00", "480.00"),
    "D": ("300.00", "0.00", "0.00", "0.00", "0.00", "300.00"),
}


def test_the_report_adds_up_per_lot_over_inclusive_days_in_the_clinics_time_zone(march, login):
    response = login(march.prescriber).get(url("report"), {"start": "2026-03-01", "end": "2026-03-31"})

    assert response.status_code == 200
    found = {
        r.lot.lot_number: tuple(
            f"{v:.2f}"
            for v in (
                r.opening_mg,
                r.received_mg,
                r.administered_mg,
                r.wasted_mg,
                r.adjusted_mg,
                r.closing_mg,
            )
        )
        for r in response.context["lots"]
    }
    assert found == EXPECTED
    for opening, received, given, wasted, adjusted, closing in (
        tuple(map(Decimal, v)) for v in found.values()
    ):
        assert opening + received - given - wasted + adjusted == closing
    entries = response.context["entries"]
    assert [(e.lot.lot_number, e.kind, e.quantity_mg) for e in entries] == [
        ("A", "administration", Decimal(-200)),
        ("B", "receipt", Decimal(500)),
        ("B", "waste", Decimal(-20)),
        ("A", "waste", Decimal(-30)),
        ("A", "adjustment", Decimal(-5)),
        ("A", "administration", Decimal(-100)),
    ]
    html = page(response)
    assert "655.00" in html and "990.00" in html
    assert "2026-03-01 00:00" in html and "2026-03-31 23:59" in html
    assert "2026-04-01" not in html.split('id="h-entries"')[1]


def test_one_day_reports_that_day_only(march, login):
    response = login(march.prescriber).get(url("report"), {"start": "2026-03-31", "end": "2026-03-31"})
    assert response.status_code == 200
    (a,) = [r for r in response.context["lots"] if r.lot.lot_number == "A"]
    assert (a.opening_mg, a.administered_mg, a.closing_mg) == (Decimal(755), Decimal(100), Decimal(655))


def test_the_csv_has_the_same_numbers(march, login):
    response = login(march.admin).get(url("report_csv"), {"start": "2026-03-01", "end": "2026-03-31"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="ledger-demo-20260301-20260331.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header = rows.index(
        [
            "Lot number",
            "Drug",
            "Form and strength",
            "Expires on",
            "Opening (mg)",
            "Received (mg)",
            "Administered (mg)",
            "Wasted (mg)",
            "Adjusted (mg)",
            "Closing (mg)",
        ]
    )
    summary = {}
    for row in rows[header + 1 :]:
        if not row:
            break
        summary[row[0]] = tuple(row[4:])
    assert summary == EXPECTED
    entries_header = rows.index(
        [
            "Time",
            "Lot number",
            "Kind",
            "Quantity (mg)",
            "Balance after (mg)",
            "By",
            "Witness",
            "Patient record number",
            "Reason",
        ]
    )
    entries = rows[entries_header + 1 :]
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in entries] == [
        ("2026-03-01T00:00:00-07:00", "A", "Administered", "-200.00", "790.00"),
        ("2026-03-10T12:00:00-06:00", "B", "Received", "500.00", "500.00"),
        ("2026-03-11T12:00:00-06:00", "B", "Wasted", "-20.00", "480.00"),
        ("2026-03-15T12:00:00-06:00", "A", "Wasted", "-30.00", "760.00"),
        ("2026-03-20T12:00:00-06:00", "A", "Count adjustment", "-5.00", "755.00"),
        ("2026-03-31T23:59:59-06:00", "A", "Administered", "-100.00", "655.00"),
    ]
    assert entries[3][5:7] == ["Priya Prescriber", "Nico Nurse"]
    assert AccessLogEntry.objects.filter(user=march.admin.user, action="export", category="stock").exists()


def test_csv_cells_that_look_like_formulas_are_quoted(world, login):
    lot = make_lot(world, quantity="100")
    stock.waste_record(
        member=world.prescriber,
        lot=lot,
        quantity_mg=Decimal(1),
        witness_id=world.nurse.user_id,
        reason="=HYPERLINK(1)",
    )
    today = timezone.localdate().isoformat()
    content = login(world.prescriber).get(url("report_csv"), {"start": today, "end": today}).content.decode()
    assert "'=HYPERLINK(1)" in content


def test_the_report_shows_the_current_month_by_default(world, login):
    make_lot(world, quantity="100")
    response = login(world.nurse).get(url("report"))
    assert response.status_code == 200
    today = timezone.localdate()
    form = response.context["form"]
    assert form.cleaned_data["start"] == today.replace(day=1)
    assert form.cleaned_data["end"].month == today.month
    assert (form.cleaned_data["end"] + timedelta(days=1)).day == 1
    assert [r.lot.lot_number for r in response.context["lots"]] == ["LOT-A1"]


@pytest.mark.parametrize("name", ["report", "report_csv"])
@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"start": "2026-03-31", "end": "2026-03-01"}, "end", "The period ends before it starts"),
        ({"start": "2026-13-01", "end": "2026-03-01"}, "start", "Enter the first day as YYYY-MM-DD."),
        ({"start": "2026-03-01", "end": "soon"}, "end", "Enter the last day as YYYY-MM-DD."),
        ({"start": "2026-03-01"}, "end", "Enter the last day."),
        ({"start": "2026-03-01", "end": "9999-12-31"}, "end", "Enter a day from 1970-01-01 to 9998-12-31."),
        ({"start": "0001-01-01", "end": "2026-03-01"}, "start", "Enter a day from 1970-01-01 to 9998-12-31."),
    ],
)
def test_a_bad_period_is_a_form_error_not_a_crash(world, login, name, query, field, message):
    response = login(world.prescriber).get(url(name), query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert message in field_error(page(response), field)
    assert response.context["lots"] is None


def test_the_service_itself_refuses_a_dose_from_an_expired_lot(world):
    """The expiry rule lives in the service, so the page, the API and any other caller meet it."""
    from datetime import timedelta

    from django.utils import timezone

    from kapflow.core.errors import ApplicationError
    from kapflow.dosing import services
    from kapflow.dosing.models import Administration, StockLot
    from tests.dosing.helpers import checked_in, make_lot, make_ready

    session = checked_in(world, make_ready(world))
    lot = make_lot(world, lot_number="OLD")
    StockLot.objects.filter(pk=lot.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    lot.refresh_from_db()
    with pytest.raises(ApplicationError, match="expired"):
        services.administration_record(
            member=world.prescriber,
            session=session,
            dose_mg=lot.balance_mg / 10,
            lot=lot,
            started_at=None,
            ended_at=None,
            witness_id=None,
            override_reason="",
            base_version=session.version,
        )
    assert not Administration.objects.exists()
