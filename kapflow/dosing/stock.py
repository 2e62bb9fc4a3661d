"""The controlled-substance ledger: receiving lots, deductions for administrations, witnessed
waste, periodic counts, and a report over a date range.

Ketamine is DEA Schedule III: records are kept at least two years (21 CFR 1304.04) and never
deleted here. Every movement locks its lot row, checks the balance, writes a ledger entry with
the balance after it, and updates the lot, in one transaction: two nurses drawing from the last
of a lot at once cannot both succeed, and a database constraint keeps the balance >= 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kapflow.accounts.models import Membership, User
from kapflow.core import audit
from kapflow.core.access import require
from kapflow.core.errors import ApplicationError
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.core.roles import MEDICAL_ROLES
from kapflow.dosing.models import KETAMINE, Administration, LedgerEntry, LedgerKind, StockCount, StockLot

MAX_QUANTITY_MG = Decimal(1_000_000)
MAX_ID = 2**63 - 1  # the largest primary key (BigAutoField)


def _audit(member: Membership, action: AuditAction, detail: str) -> None:
    audit.record(
        user=member.user, clinic=member.clinic, action=action, category=DataCategory.STOCK, detail=detail
    )


def _quantity(value: Decimal, what: str) -> Decimal:
    if not value.is_finite() or value <= 0 or value > MAX_QUANTITY_MG:
        raise ApplicationError(
            _("%(what)s must be more than 0 mg and at most 1,000,000 mg.") % {"what": what}
        )
    return value


def witness_for(member: Membership, witness_id: int | None, *, required: bool) -> User | None:
    """An active medical professional of the clinic other than the member, or None if not required."""
    if witness_id is None:
        if required:
            raise ApplicationError(_("A witness is required."))
        return None
    if witness_id == member.user_id:
        raise ApplicationError(_("The witness must be someone else."))
    witness = (
        Membership.objects.filter(
            clinic=member.clinic, user_id=witness_id, is_active=True, role__in=[str(r) for r in MEDICAL_ROLES]
        )
        .select_related("user")
        .first()
        if 0 < witness_id <= MAX_ID  # no row has another id, and SQLite cannot even bind one past 64 bits
        else None
    )
    if witness is None:
        raise ApplicationError(_("The witness must be an active prescriber or nurse of this clinic."))
    return witness.user


def _move(
    *,
    member: Membership,
    lot: StockLot,
    kind: LedgerKind,
    quantity: Decimal,
    at: datetime | None,
    **fields: object,
) -> LedgerEntry:
    """Apply one movement to a locked lot (call inside a transaction). ``at`` None means now,
    read once the lock is held, so entries' times follow the order the lot's balance changed."""
    locked = StockLot.objects.select_for_update().get(pk=lot.pk)
    at = at or timezone.now()
    balance = locked.balance_mg + quantity
    if balance < 0:
        raise ApplicationError(
            _("Lot %(lot)s holds %(held)s mg; %(asked)s mg is more than the stock holds.")
            % {"lot": locked.lot_number, "held": locked.balance_mg, "asked": -quantity}
        )
    StockLot.objects.filter(pk=locked.pk).update(balance_mg=F("balance_mg") + quantity)
    locked.balance_mg = balance
    lot.balance_mg = balance
    return LedgerEntry.objects.create(
        clinic=locked.clinic,
        lot=locked,
        kind=kind,
        quantity_mg=quantity,
        balance_after_mg=balance,
        at=at,
        by=member.user,
        **fields,
    )


def lot_receive(
    *,
    member: Membership,
    lot_number: str,
    form: str,
    quantity_mg: Decimal,
    expires_on: date,
    supplier: str = "",
    drug: str = KETAMINE,
) -> StockLot:
    require(member, Action.STOCK_MANAGE)
    lot_number, form = lot_number.strip(), form.strip()
    if not lot_number:
        raise ApplicationError(_("Enter the lot number printed on the package."))
    if not form:
        raise ApplicationError(_("Describe the form and strength (for example: 100 mg troche)."))
    _quantity(quantity_mg, _("The quantity received"))
    if expires_on < timezone.localdate():
        raise ApplicationError(
            _("This lot expired on %(day)s; expired stock is not received.") % {"day": expires_on}
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            lot = StockLot.objects.create(
                clinic=member.clinic,
                drug=drug,
                form=form,
                lot_number=lot_number,
                supplier=supplier.strip(),
                expires_on=expires_on,
                received_mg=quantity_mg,
                balance_mg=Decimal(0),
                received_at=now,
                received_by=member.user,
            )
            _move(member=member, lot=lot, kind=LedgerKind.RECEIPT, quantity=quantity_mg, at=now)
            _audit(member, AuditAction.CREATE, f"received lot {lot_number}: {quantity_mg} mg")
    except IntegrityError:
        raise ApplicationError(
            _("Lot %(lot)s is already in the ledger; record further stock of it as a new lot number.")
            % {"lot": lot_number}
        ) from None
    return lot


def deduct_for(*, member: Membership, administration: Administration) -> LedgerEntry:
    """Take an administration's dose from its lot (inside the administration's transaction)."""
    lot = administration.lot
    on = timezone.localdate(administration.started_at)
    if lot.expires_on < on:
        raise ApplicationError(
            _("Lot %(lot)s expired on %(day)s; choose another lot.")
            % {"lot": lot.lot_number, "day": lot.expires_on}
        )
    return _move(
        member=member,
        lot=lot,
        kind=LedgerKind.ADMINISTRATION,
        quantity=-administration.dose_mg,
        at=administration.started_at,
        administration=administration,
        witness=administration.witnessed_by,
    )


def waste_record(
    *, member: Membership, lot: StockLot, quantity_mg: Decimal, witness_id: int | None, reason: str
) -> LedgerEntry:
    require(member, Action.STOCK_MANAGE)
    if lot.clinic_id != member.clinic_id:
        raise ApplicationError(_("That lot belongs to another clinic."))
    _quantity(quantity_mg, _("The quantity wasted"))
    if not reason.strip():
        raise ApplicationError(_("Say why the stock was wasted (for example: the rest of a drawn-up dose)."))
    witness = witness_for(member, witness_id, required=True)
    with transaction.atomic():
        entry = _move(
            member=member,
            lot=lot,
            kind=LedgerKind.WASTE,
            quantity=-quantity_mg,
            at=None,
            witness=witness,
            reason=reason.strip(),
        )
        _audit(member, AuditAction.CREATE, f"waste of {quantity_mg} mg from lot {lot.lot_number}")
    return entry


def count_record(
    *, member: Membership, lot: StockLot, counted_mg: Decimal, witness_id: int | None, reason: str
) -> StockCount:
    """A physical count. A discrepancy needs a reason and a witness, and adjusts the balance to
    what was counted with an adjustment entry (the difference stays visible in the ledger)."""
    require(member, Action.STOCK_MANAGE)
    if lot.clinic_id != member.clinic_id:
        raise ApplicationError(_("That lot belongs to another clinic."))
    if not counted_mg.is_finite() or counted_mg < 0 or counted_mg > MAX_QUANTITY_MG:
        raise ApplicationError(_("The count must be from 0 mg to 1,000,000 mg."))
    with transaction.atomic():
        expected = StockLot.objects.select_for_update().get(pk=lot.pk).balance_mg
        now = timezone.now()  # once the lock is held (see _move)
        differs = counted_mg != expected
        if differs and not reason.strip():
            raise ApplicationError(
                _("The count (%(counted)s mg) differs from the ledger (%(expected)s mg): give the reason.")
                % {"counted": counted_mg, "expected": expected}
            )
        witness = witness_for(member, witness_id, required=differs)
        count = StockCount.objects.create(
            clinic=member.clinic,
            lot=lot,
            expected_mg=expected,
            counted_mg=counted_mg,
            reason=reason.strip(),
            at=now,
            by=member.user,
            witness=witness,
        )
        if differs:
            _move(
                member=member,
                lot=lot,
                kind=LedgerKind.ADJUSTMENT,
                quantity=counted_mg - expected,
                at=now,
                witness=witness,
                reason=reason.strip(),
            )
        _audit(
            member,
            AuditAction.CREATE,
            f"count of lot {lot.lot_number}: {counted_mg} mg (ledger {expected} mg)",
        )
    return count


@dataclass(frozen=True)
class LotReport:
    lot: StockLot
    opening_mg: Decimal
    received_mg: Decimal
    administered_mg: Decimal
    wasted_mg: Decimal
    adjusted_mg: Decimal
    closing_mg: Decimal
    entries: list[LedgerEntry]


def report(*, member: Membership, start: datetime, end: datetime) -> list[LotReport]:
    """Per lot: the balance at ``start``, each kind of movement in [start, end), the balance at end."""
    require(member, Action.STOCK_VIEW)
    if end <= start:
        raise ApplicationError(_("The report's end must be after its start."))
    lots = StockLot.objects.filter(clinic=member.clinic, received_at__lt=end).order_by(
        "expires_on", "lot_number"
    )
    result = []
    for lot in lots:
        before = lot.entries.filter(at__lt=start).aggregate(t=Sum("quantity_mg"))["t"] or Decimal(0)
        in_range = lot.entries.filter(at__gte=start, at__lt=end)
        sums = in_range.aggregate(
            receipt=Sum("quantity_mg", filter=Q(kind=LedgerKind.RECEIPT)),
            administration=Sum("quantity_mg", filter=Q(kind=LedgerKind.ADMINISTRATION)),
            waste=Sum("quantity_mg", filter=Q(kind=LedgerKind.WASTE)),
            adjustment=Sum("quantity_mg", filter=Q(kind=LedgerKind.ADJUSTMENT)),
        )
        values = {k: v or Decimal(0) for k, v in sums.items()}
        entries = list(in_range.select_related("by", "witness", "administration__patient"))
        if not entries and before == 0:
            continue
        closing = before + sum(values.values(), Decimal(0))
        result.append(
            LotReport(
                lot=lot,
                opening_mg=before,
                received_mg=values["receipt"],
                administered_mg=-values["administration"],
                wasted_mg=-values["waste"],
                adjusted_mg=values["adjustment"],
                closing_mg=closing,
                entries=entries,
            )
        )
    _audit(member, AuditAction.VIEW, f"ledger report {start:%Y-%m-%d} to {end:%Y-%m-%d}")
    return result


def usable_lots(clinic_id: int, *, on: date | None = None) -> QuerySet[StockLot]:
    """The clinic's lots a dose may be drawn from: stock left, not expired, soonest expiry first
    (the administration form's choices and the API's lot lookup)."""
    on = on or timezone.localdate()
    return StockLot.objects.filter(clinic_id=clinic_id, balance_mg__gt=0, expires_on__gte=on).order_by(
        "expires_on", "lot_number"
    )
