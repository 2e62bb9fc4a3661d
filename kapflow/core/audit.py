"""The append-only, hash-chained access log: writing entries and verifying the chains.

Each clinic has its own chain (key = clinic id; key 0 for entries with no clinic). An entry's
hash covers its fields and the previous entry's hash; the chain head keeps the last sequence
number and hash. Editing, deleting or inserting a row by hand therefore breaks the chain at
that row, and ``verify`` names it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from kapflow.core.models import (
    AccessLogEntry,
    AuditAction,
    AuditChainHead,
    AuditOutcome,
    DataCategory,
)

if TYPE_CHECKING:
    from kapflow.accounts.models import User
    from kapflow.clinics.models import Clinic
    from kapflow.patients.models import Patient

GENESIS = "0" * 64


def entry_hash(
    *,
    chain: int,
    seq: int,
    at: datetime,
    user_id: int | None,
    user_email: str,
    clinic_id: int | None,
    patient_id: int | None,
    action: str,
    category: str,
    outcome: str,
    detail: str,
    prev_hash: str,
) -> str:
    fields = [
        str(chain),
        str(seq),
        at.astimezone(UTC).isoformat(timespec="microseconds"),
        "" if user_id is None else str(user_id),
        user_email,
        "" if clinic_id is None else str(clinic_id),
        "" if patient_id is None else str(patient_id),
        action,
        category,
        outcome,
        detail,
        prev_hash,
    ]
    canonical = "\x1f".join(fields).encode("utf-8")
    return hashlib.sha256(canonical).hexdigest()


def _locked_head(key: int) -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(key=key).first()
    if head is not None:
        return head
    try:
        with transaction.atomic():
            AuditChainHead.objects.create(key=key)
    except IntegrityError:
        pass  # another writer created it first
    return AuditChainHead.objects.select_for_update().get(key=key)


def record(
    *,
    user: User | None,
    clinic: Clinic | None,
    action: AuditAction | str,
    category: DataCategory | str,
    patient: Patient | None = None,
    outcome: AuditOutcome | str = AuditOutcome.ALLOWED,
    detail: str = "",
) -> AccessLogEntry:
    """Append one entry. Call inside the transaction of the write it records.

    A view (a read) recorded during a request is written with the request's other views when
    the request ends (``batched``), still before the response leaves; every other action is
    written at once, in the caller's transaction."""
    user_id = user.pk if user is not None and user.is_authenticated else None
    entry = AccessLogEntry(
        chain=clinic.pk if clinic is not None else 0,
        # Truncate to microseconds the way both databases store them.
        at=timezone.now().replace(tzinfo=UTC),
        user_id=user_id,
        user_email=user.email if user_id is not None and user is not None else "",
        clinic=clinic,
        patient=patient,
        action=str(action),
        category=str(category),
        outcome=str(outcome),
        detail=detail[:300],
    )
    pending = _pending.get()
    if pending is not None and entry.action == AuditAction.VIEW:
        pending.append(entry)
    else:
        _append([entry])
    return entry


# The views read during the current request, waiting to be written (None: outside a request).
_pending: ContextVar[list[AccessLogEntry] | None] = ContextVar("kapflow_audit_pending", default=None)


@contextmanager
def batched() -> Iterator[None]:
    """Write the views recorded inside this block together, when it ends (however it ends).

    A chart reads demographics, the clinical summary, scores and courses, each logged: one
    commit for all of them instead of one each (a commit waits for the disk)."""
    token = _pending.set([])
    try:
        yield
    finally:
        entries = _pending.get() or []
        _pending.reset(token)
        if entries:
            _append(entries)


def write_pending() -> None:
    """Write the views logged so far in this request now (the access-log page shows its own view)."""
    entries = _pending.get()
    if entries:
        _append(entries)
        entries.clear()


def _append(entries: list[AccessLogEntry]) -> None:
    """Chain the entries after their chains' heads, in one transaction."""
    with transaction.atomic():
        # Heads are locked in key order, so two writers never wait for each other in a circle.
        heads = {key: _locked_head(key) for key in sorted({e.chain for e in entries})}
        for entry in entries:
            head = heads[entry.chain]
            entry.seq = head.last_seq + 1
            entry.prev_hash = head.last_hash or GENESIS
            entry.hash = entry_hash(
                chain=entry.chain,
                seq=entry.seq,
                at=entry.at,
                user_id=entry.user_id,
                user_email=entry.user_email,
                clinic_id=entry.clinic_id,
                patient_id=entry.patient_id,
                action=entry.action,
                category=entry.category,
                outcome=entry.outcome,
                detail=entry.detail,
                prev_hash=entry.prev_hash,
            )
            head.last_seq, head.last_hash = entry.seq, entry.hash
        AccessLogEntry.objects.bulk_create(entries)
        for head in heads.values():
            head.save(update_fields=["last_seq", "last_hash"])


@dataclass(frozen=True)
class ChainProblem:
    chain: int
    entry_id: int | None
    seq: int | None
    problem: str

    def __str__(self) -> str:
        where = f"entry id {self.entry_id} (chain {self.chain}, seq {self.seq})"
        if self.entry_id is None:
            where = f"chain {self.chain}" + (f" at seq {self.seq}" if self.seq is not None else "")
        return f"{where}: {self.problem}"


def _entries(key: int) -> Iterator[dict[str, Any]]:
    rows = (
        AccessLogEntry.objects.filter(chain=key)
        .order_by("seq", "id")
        .values(
            "id",
            "chain",
            "seq",
            "at",
            "user_id",
            "user_email",
            "clinic_id",
            "patient_id",
            "action",
            "category",
            "outcome",
            "detail",
            "prev_hash",
            "hash",
        )
        .iterator(chunk_size=2000)
    )
    for row in rows:
        yield dict(row)


def verify_chain(key: int) -> list[ChainProblem]:
    problems: list[ChainProblem] = []
    expected_seq = 1
    prev_hash = GENESIS
    last_id: int | None = None
    for row in _entries(key):
        last_id = row["id"]
        seq = row["seq"]
        if seq != expected_seq:
            kind = (
                "inserted or duplicated entry"
                if seq < expected_seq
                else "entries missing before it (deleted)"
            )
            problems.append(ChainProblem(key, row["id"], seq, f"{kind}: expected seq {expected_seq}"))
        if row["prev_hash"] != prev_hash:
            problems.append(ChainProblem(key, row["id"], seq, "does not follow the entry before it"))
        recomputed = entry_hash(**{k: row[k] for k in row if k not in {"id", "hash"}})
        if recomputed != row["hash"]:
            problems.append(ChainProblem(key, row["id"], seq, "content does not match its hash (edited)"))
        prev_hash = row["hash"]
        expected_seq = seq + 1
    head = AuditChainHead.objects.filter(key=key).first()
    last_seq = expected_seq - 1
    if head is None:
        if last_seq:
            problems.append(ChainProblem(key, None, None, "chain head is missing"))
    elif head.last_seq != last_seq or (head.last_seq and head.last_hash != prev_hash):
        # Name the entry the chain now ends at (the one before a deleted end, or the forged
        # one after it); with no entry left, the chain itself.
        problems.append(
            ChainProblem(
                key,
                last_id,
                last_seq if last_id is not None else head.last_seq,
                f"the chain should end at seq {head.last_seq} but ends at {last_seq} (entries deleted or added at the end)",
            )
        )
    return problems


def verify() -> tuple[int, list[ChainProblem]]:
    """Check every chain. Returns (entries checked, problems found)."""
    keys = set(AccessLogEntry.objects.values_list("chain", flat=True).distinct())
    keys |= set(AuditChainHead.objects.values_list("key", flat=True))
    problems: list[ChainProblem] = []
    for key in sorted(keys):
        problems.extend(verify_chain(key))
    return AccessLogEntry.objects.count(), problems
