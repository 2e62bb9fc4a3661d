"""The controlled-substance ledger pages under /c/<clinic>/stock/: the lots, one lot's ledger
with waste and counts, and the report over a period (page and CSV).

Reading is for prescribers, nurses and the clinic admin (STOCK_VIEW); recording is for
prescribers and nurses (STOCK_MANAGE). The rules of the ledger are the services' (stock.py);
these views parse forms, call them and render.
"""

from __future__ import annotations

import csv
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kapflow.core import audit
from kapflow.core.access import StaffRequest, allowed, require, staff_view
from kapflow.core.errors import ApplicationError
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.dosing import stock
from kapflow.dosing.models import LedgerEntry, LedgerKind, StockLot
from kapflow.dosing.stock_forms import CountForm, ReceiveForm, ReportForm, WasteForm, report_form

EXPIRING_DAYS = 30


@dataclass(frozen=True)
class LotRow:
    lot: StockLot
    expired: bool
    expiring: bool  # within EXPIRING_DAYS, not yet expired


def _row(lot: StockLot, today: date) -> LotRow:
    expired = lot.expires_on < today
    return LotRow(lot, expired, not expired and lot.expires_on <= today + timedelta(days=EXPIRING_DAYS))


def _can_manage(request: StaffRequest) -> bool:
    return allowed(request.membership, Action.STOCK_MANAGE)


def _lot_page(request: StaffRequest, lot: StockLot) -> HttpResponseBase:
    return redirect("stock:lot", clinic=request.clinic.slug, lot_id=lot.public_id)


def _lots(request: StaffRequest, receive_form: ReceiveForm | None, *, status: int = 200) -> HttpResponseBase:
    today = timezone.localdate()
    rows = [
        _row(lot, today)
        for lot in StockLot.objects.filter(clinic=request.clinic).select_related("received_by")
    ]
    context = {
        "rows": rows,
        "receive_form": receive_form,
        "expiring_days": EXPIRING_DAYS,
        "today": today,
    }
    return render(request, "dosing/stock/lots.html", context, status=status)


@staff_view(Action.STOCK_VIEW)
@require_GET
def lots(request: StaffRequest) -> HttpResponseBase:
    return _lots(request, ReceiveForm() if _can_manage(request) else None)


@staff_view(Action.STOCK_MANAGE)
def receive(request: StaffRequest) -> HttpResponseBase:
    if request.method != "POST":  # after the access check: those refused learn nothing more
        return HttpResponseNotAllowed(["POST"])
    form = ReceiveForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            lot = stock.lot_receive(
                member=request.membership,
                lot_number=data["lot_number"],
                form=data["form"],
                quantity_mg=data["quantity_mg"],
                expires_on=data["expires_on"],
                supplier=data["supplier"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Lot %(lot)s received: %(mg)s mg.") % {"lot": lot.lot_number, "mg": _mg(lot.received_mg)},
            )
            return _lot_page(request, lot)
    return _lots(request, form, status=400)


def _the_lot(request: StaffRequest, lot_id: uuid.UUID) -> StockLot:
    """A lot of this clinic (404 for any other: another clinic's lots look like nothing)."""
    return get_object_or_404(
        StockLot.objects.select_related("received_by"), clinic=request.clinic, public_id=lot_id
    )


def _lot(
    request: StaffRequest,
    lot: StockLot,
    *,
    waste_form: WasteForm | None = None,
    count_form: CountForm | None = None,
    status: int = 200,
) -> HttpResponseBase:
    member = request.membership
    can_manage = _can_manage(request)
    # In the order written: each balance follows from the one before it (a dose may be
    # recorded after the fact, with the earlier time it was given).
    entries = lot.entries.select_related(
        "by", "witness", "administration__patient", "administration__session"
    ).order_by("id")
    audit.record(
        user=request.user,
        clinic=request.clinic,
        action=AuditAction.VIEW,
        category=DataCategory.STOCK,
        detail=f"ledger of lot {lot.lot_number}",
    )
    context = {
        "lot": lot,
        "row": _row(lot, timezone.localdate()),
        "expiring_days": EXPIRING_DAYS,
        "entries": list(entries),
        "counts": list(lot.counts.select_related("by", "witness")),
        "can_manage": can_manage,
        "waste_form": (waste_form or WasteForm(member=member)) if can_manage else None,
        "count_form": (count_form or CountForm(member=member)) if can_manage else None,
    }
    return render(request, "dosing/stock/lot.html", context, status=status)


@staff_view(Action.STOCK_VIEW)
def lot_detail(request: StaffRequest, lot_id: uuid.UUID) -> HttpResponseBase:
    lot = _the_lot(request, lot_id)
    if request.method not in ("GET", "HEAD"):  # after the lookup: another clinic's lot is a 404
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return _lot(request, lot)


@staff_view(Action.STOCK_VIEW)
def waste(request: StaffRequest, lot_id: uuid.UUID) -> HttpResponseBase:
    lot = _the_lot(request, lot_id)
    require(request.membership, Action.STOCK_MANAGE)
    if request.method != "POST":  # after the access check: those refused learn nothing more
        return HttpResponseNotAllowed(["POST"])
    form = WasteForm(request.POST, member=request.membership)
    if form.is_valid():
        data = form.cleaned_data
        try:
            entry = stock.waste_record(
                member=request.membership,
                lot=lot,
                quantity_mg=data["quantity_mg"],
                witness_id=data["witness"],
                reason=data["reason"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            lot.refresh_from_db()
        else:
            messages.success(
                request,
                _("Waste of %(mg)s mg recorded; the lot now holds %(left)s mg.")
                % {"mg": _mg(-entry.quantity_mg), "left": _mg(entry.balance_after_mg)},
            )
            return _lot_page(request, lot)
    return _lot(request, lot, waste_form=form, status=400)


@staff_view(Action.STOCK_VIEW)
def count(request: StaffRequest, lot_id: uuid.UUID) -> HttpResponseBase:
    lot = _the_lot(request, lot_id)
    require(request.membership, Action.STOCK_MANAGE)
    if request.method != "POST":  # after the access check: those refused learn nothing more
        return HttpResponseNotAllowed(["POST"])
    form = CountForm(request.POST, member=request.membership)
    if form.is_valid():
        data = form.cleaned_data
        try:
            made = stock.count_record(
                member=request.membership,
                lot=lot,
                counted_mg=data["counted_mg"],
                witness_id=data["witness"],
                reason=data["reason"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            lot.refresh_from_db()
        else:
            if made.counted_mg == made.expected_mg:
                text = _("Count recorded: %(mg)s mg, as in the ledger.") % {"mg": _mg(made.counted_mg)}
            else:
                text = _(
                    "Count recorded: %(mg)s mg against %(expected)s mg in the ledger; "
                    "the balance is adjusted to the count."
                ) % {"mg": _mg(made.counted_mg), "expected": _mg(made.expected_mg)}
            messages.success(request, text)
            return _lot_page(request, lot)
    return _lot(request, lot, count_form=form, status=400)


def _period(request: StaffRequest, form: ReportForm) -> tuple[date, date, datetime, datetime]:
    """The inclusive days, and the half-open interval of times they cover in the clinic's zone."""
    first: date = form.cleaned_data["start"]
    last: date = form.cleaned_data["end"]
    tz = request.clinic.tzinfo
    start = datetime.combine(first, time.min, tz)
    end = datetime.combine(last + timedelta(days=1), time.min, tz)
    return first, last, start, end


def _report(request: StaffRequest) -> tuple[ReportForm, list[stock.LotReport] | None]:
    form = report_form(request.GET)
    if not form.is_valid():
        return form, None
    _first, _last, start, end = _period(request, form)
    try:
        return form, stock.report(member=request.membership, start=start, end=end)
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return form, None


def _report_page(
    request: StaffRequest, form: ReportForm, lots: list[stock.LotReport] | None
) -> HttpResponseBase:
    context: dict[str, Any] = {"form": form, "lots": lots, "query": ""}
    if lots is not None:
        context["query"] = (
            f"start={form.cleaned_data['start']:%Y-%m-%d}&end={form.cleaned_data['end']:%Y-%m-%d}"
        )
        context["entries"] = sorted(
            (entry for report in lots for entry in report.entries), key=lambda e: (e.at, e.pk)
        )
    return render(request, "dosing/stock/report.html", context, status=200 if lots is not None else 400)


@staff_view(Action.STOCK_VIEW)
@require_GET
def report(request: StaffRequest) -> HttpResponseBase:
    form, lots = _report(request)
    return _report_page(request, form, lots)


def _cell(value: object) -> str:
    """Text as a spreadsheet shows it: a cell starting like a formula is quoted, never run."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def _mg(value: object) -> str:
    return f"{value:.2f}"


@staff_view(Action.STOCK_VIEW)
@require_GET
def report_csv(request: StaffRequest) -> HttpResponseBase:
    form, lots = _report(request)
    if lots is None:
        return _report_page(request, form, lots)
    first, last, _start, _end = _period(request, form)
    audit.record(
        user=request.user,
        clinic=request.clinic,
        action=AuditAction.EXPORT,
        category=DataCategory.STOCK,
        detail=f"ledger report CSV {first:%Y-%m-%d} to {last:%Y-%m-%d}",
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"ledger-{request.clinic.slug}-{first:%Y%m%d}-{last:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    writer = csv.writer(response)
    writer.writerow([_("Controlled-substance ledger"), _cell(request.clinic.name)])
    writer.writerow([_("From"), f"{first:%Y-%m-%d}", _("To (inclusive)"), f"{last:%Y-%m-%d}"])
    writer.writerow([_("Time zone"), request.clinic.time_zone])
    writer.writerow([])
    writer.writerow(
        [
            _("Lot number"),
            _("Drug"),
            _("Form and strength"),
            _("Expires on"),
            _("Opening (mg)"),
            _("Received (mg)"),
            _("Administered (mg)"),
            _("Wasted (mg)"),
            _("Adjusted (mg)"),
            _("Closing (mg)"),
        ]
    )
    for r in lots:
        writer.writerow(
            [
                _cell(r.lot.lot_number),
                _cell(r.lot.drug),
                _cell(r.lot.form),
                f"{r.lot.expires_on:%Y-%m-%d}",
                *(_mg(v) for v in (r.opening_mg, r.received_mg, r.administered_mg, r.wasted_mg)),
                _mg(r.adjusted_mg),
                _mg(r.closing_mg),
            ]
        )
    writer.writerow([])
    writer.writerow(
        [
            _("Time"),
            _("Lot number"),
            _("Kind"),
            _("Quantity (mg)"),
            _("Balance after (mg)"),
            _("By"),
            _("Witness"),
            _("Patient record number"),
            _("Reason"),
        ]
    )
    entries: list[LedgerEntry] = sorted((e for r in lots for e in r.entries), key=lambda e: (e.at, e.pk))
    lot_numbers = {r.lot.pk: r.lot.lot_number for r in lots}
    for e in entries:
        administration = e.administration
        writer.writerow(
            [
                timezone.localtime(e.at).isoformat(timespec="seconds"),
                _cell(lot_numbers[e.lot_id]),
                LedgerKind(e.kind).label,
                _mg(e.quantity_mg),
                _mg(e.balance_after_mg),
                _cell(e.by.full_name or e.by.email),
                _cell(e.witness.full_name or e.witness.email) if e.witness else "",
                _cell(administration.patient.record_number) if administration else "",
                _cell(e.reason),
            ]
        )
    return response
