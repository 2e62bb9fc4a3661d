"""The checks of ``crash_safety.py``, run after the last cycle with the server stopped: they read
the database directly (through the ORM and plain SQL) and ``kapflow audit verify``.

Every write of the crash test carries a unique marker in one field of the row it creates (a
patient's family name, a reading's note, an addendum's text), so a write cut off by the kill
can be looked for without the id the server never sent back.
"""

from __future__ import annotations

import subprocess
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crash_safety import Write

# The field of the created row that carries the marker, by kind of write.
MARKER_FIELD = {"patient": "legal_family_name", "reading": "note", "addendum": "text"}

Found = dict[str, dict[str, list[Any]]]  # kind -> marker -> the rows carrying it


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str = ""


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def differences(write: Write, row: Any) -> list[str]:
    """The fields of ``row`` that differ from what ``write`` sent (and a wrong id)."""
    wrong = [name for name, sent in write.sent.items() if _plain(getattr(row, name)) != sent]
    if write.public_id and str(getattr(row, "public_id", write.public_id)) != write.public_id:
        wrong.append("id")
    return wrong


def rows_by_marker(session_id: str, note_id: str) -> Found:
    """Every row the test could have written, by kind and marker."""
    from kapflow.courses.models import Addendum
    from kapflow.dosing.models import Reading
    from kapflow.patients.models import Patient

    querysets = {
        "patient": Patient.objects.filter(legal_given_name="Crash"),
        "reading": Reading.objects.filter(session__public_id=session_id),
        "addendum": Addendum.objects.filter(note__public_id=note_id),
    }
    found: Found = {}
    for kind, rows in querysets.items():
        found[kind] = defaultdict(list)
        for row in rows:
            found[kind][getattr(row, MARKER_FIELD[kind]).split(" ", 1)[0]].append(row)
    return found


def check_writes(writes: list[Write], found: Found) -> tuple[list[Check], Counter[str]]:
    """Acknowledged writes present once, as sent; cut-off ones whole or absent."""
    lost, torn, twice = [], [], []
    unknown: Counter[str] = Counter()
    for write in writes:
        if write.outcome not in {"acknowledged", "unknown"}:
            continue
        rows = found[write.kind].get(write.marker, [])
        if len(rows) > 1:
            twice.append(write.marker)
        if not rows:
            if write.outcome == "acknowledged":
                lost.append(write.marker)
            else:
                unknown["absent"] += 1
            continue
        if write.outcome == "unknown":
            unknown["present"] += 1
        wrong = differences(write, rows[0])
        if wrong:
            torn.append(f"{write.marker} ({', '.join(wrong)})")
    refused = [f"{w.marker}: HTTP {w.status}" for w in writes if w.outcome == "refused"]
    checks = [
        Check("every acknowledged write present", not lost, _some(lost, "lost")),
        Check("every write found holds the values sent", not torn, _some(torn, "differ")),
        Check("no write stored twice", not twice, _some(twice, "twice")),
        Check("every request answered 2xx or cut off by the kill", not refused, _some(refused, "refused")),
    ]
    return checks, unknown


def _some(items: list[str], what: str) -> str:
    """``"3 lost: a, b, c"``, naming at most five."""
    if not items:
        return ""
    shown = ", ".join(items[:5]) + (f" and {len(items) - 5} more" if len(items) > 5 else "")
    return f"{len(items)} {what}: {shown}"


def check_audit_entries(session_id: str, note_id: str, found: Found) -> list[Check]:
    """Each row written has its access-log entry (readings and addenda: the entries name the
    session or note, not the row, so their counts must match), and each patient its history."""
    from django.db.models import Q

    from kapflow.core.models import AccessLogEntry, AuditAction
    from kapflow.courses.models import Addendum
    from kapflow.dosing.models import Reading, ReadingKind
    from kapflow.patients.models import Patient

    patients = [rows[0].pk for rows in found["patient"].values()]
    created = AccessLogEntry.objects.filter(action=AuditAction.CREATE)
    logged = Counter(
        created.filter(patient_id__in=patients, category="demographics").values_list("patient_id", flat=True)
    )
    history = Counter(Patient.history.filter(id__in=patients, history_type="+").values_list("id", flat=True))
    readings = Reading.objects.filter(session__public_id=session_id).count()
    of_readings = Q()
    for kind in ReadingKind.values:
        of_readings |= Q(detail__startswith=f"{kind} reading in session {session_id}")
    reading_entries = created.filter(of_readings).count()
    addenda = Addendum.objects.filter(note__public_id=note_id).count()
    addendum_entries = created.filter(detail=f"addendum to note {note_id}").count()
    unlogged = [str(pk) for pk in patients if logged[pk] != 1]
    unhistoried = [str(pk) for pk in patients if history[pk] != 1]
    return [
        Check("every patient has its access-log entry", not unlogged, _some(unlogged, "patient ids without")),
        Check(
            "every reading has its access-log entry",
            readings == reading_entries,
            f"{readings} readings, {reading_entries} entries",
        ),
        Check(
            "every addendum has its access-log entry",
            addenda == addendum_entries,
            f"{addenda} addenda, {addendum_entries} entries",
        ),
        Check(
            "every patient has its history row", not unhistoried, _some(unhistoried, "patient ids without")
        ),
    ]


def check_sqlite() -> list[Check]:
    from django.db import connection

    with connection.cursor() as cursor:
        integrity = [row[0] for row in cursor.execute("PRAGMA integrity_check").fetchall()]
        foreign = cursor.execute("PRAGMA foreign_key_check").fetchall()
    return [
        Check("SQLite PRAGMA integrity_check", integrity == ["ok"], "; ".join(integrity[:5])),
        Check("SQLite PRAGMA foreign_key_check", not foreign, _some([str(r) for r in foreign], "rows")),
    ]


INDEXES = """
    SELECT c.oid::regclass::text FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE am.amname = 'btree' AND n.nspname = 'public' AND i.indisready AND i.indisvalid
    ORDER BY 1
"""
TABLES = """
    SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY 1
"""


def check_postgres() -> list[Check]:
    from django.db import DatabaseError, connection

    def each(query: str, check: str) -> tuple[int, list[str]]:
        problems = []
        with connection.cursor() as cursor:
            cursor.execute(query)
            names = [row[0] for row in cursor.fetchall()]
            for name in names:
                try:
                    cursor.execute(check, [name])
                    problems += [f"{name}: {row}" for row in cursor.fetchall() if row != ("",)]
                except DatabaseError as exc:
                    problems.append(f"{name}: {exc}".strip())
        return len(names), problems

    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
    indexes, bad_indexes = each(INDEXES, "SELECT bt_index_check(%s::regclass, true)::text")
    tables, bad_tables = each(TABLES, "SELECT blkno, offnum, msg FROM verify_heapam(%s::regclass)")
    return [
        Check(
            f"PostgreSQL amcheck bt_index_check ({indexes} btree indexes)",
            not bad_indexes,
            _some(bad_indexes, "corrupt"),
        ),
        Check(
            f"PostgreSQL amcheck verify_heapam ({tables} tables)",
            not bad_tables,
            _some(bad_tables, "corrupt"),
        ),
    ]


def check_audit_verify(kapflow: list[str], env: dict[str, str]) -> Check:
    done = subprocess.run(  # the exit code is the answer
        [*kapflow, "audit", "verify"], env=env, capture_output=True, text=True
    )
    said = (done.stdout + done.stderr).strip().splitlines()
    return Check("kapflow audit verify exits 0", done.returncode == 0, said[-1] if said else "")
