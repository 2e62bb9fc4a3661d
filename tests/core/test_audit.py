"""The access log: hash-chained per clinic, tamper-evident, append-only, and readable by admins."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kapflow import cli
from kapflow.clinics.models import Clinic
from kapflow.core import audit
from kapflow.core.models import AccessLogEntry, AuditAction, AuditOutcome, DataCategory
from kapflow.patients import services

AUDIT_URL = reverse("core:audit_log", kwargs={"clinic": "demo"})


def chain(clinic: Clinic) -> list[AccessLogEntry]:
    return list(AccessLogEntry.objects.filter(chain=clinic.pk).order_by("seq"))


def log_some(world, count: int = 3) -> None:
    for n in range(count):
        audit.record(
            user=world.therapist.user,
            clinic=world.demo,
            patient=world.patient,
            action=AuditAction.VIEW,
            category=DataCategory.DEMOGRAPHICS,
            detail=f"filler {n}",
        )


def run_cli_verify(capsys) -> tuple[int, str]:
    """``kapflow audit verify`` in-process: (exit status, everything it printed).

    Django is already set up by pytest-django; setting it up again would point logging at
    this test's captured output, which is closed once the test ends.
    """
    try:
        with mock.patch.object(cli, "_setup"):
            cli.main(["audit", "verify"])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def names_entry(output: str, entry_id: int) -> bool:
    return re.search(rf"\bentry id {entry_id}\b", output) is not None


# --- the chain ----------------------------------------------------------------------------


def test_each_clinic_keeps_its_own_contiguous_hash_chain(world):
    log_some(world)
    for clinic in (world.demo, world.other):
        entries = chain(clinic)
        assert entries, f"{clinic.slug} should have logged entries"
        assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
        assert entries[0].prev_hash == audit.GENESIS
        for before, after in itertools.pairwise(entries):
            assert after.prev_hash == before.hash
        assert {e.clinic_id for e in entries} == {clinic.pk}
    assert len({e.hash for e in chain(world.demo) + chain(world.other)}) == len(
        chain(world.demo) + chain(world.other)
    )


def test_verify_is_clean_on_an_untouched_chain(world, capsys):
    log_some(world)
    assert audit.verify()[1] == []
    code, output = run_cli_verify(capsys)
    assert code == 0
    assert "access log intact" in output
    call_command("audit_verify")  # no CommandError


def edit_detail(world) -> int:
    target = chain(world.demo)[2]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_accesslogentry SET detail = %s WHERE id = %s", ["nothing to see", target.pk]
        )
    return target.pk


def delete_middle(world) -> int:
    entries = chain(world.demo)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_accesslogentry WHERE id = %s", [entries[2].pk])
    return entries[3].pk  # the chain breaks at the entry after the gap


def delete_last(world) -> int:
    entries = chain(world.demo)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_accesslogentry WHERE id = %s", [entries[-1].pk])
    return entries[-2].pk  # the chain now ends early, at this entry


def insert_forged(world) -> int:
    """A row appended by hand, with a correctly computed hash: only the chain head betrays it."""
    last = chain(world.demo)[-1]
    at = datetime(2025, 1, 1, 12, tzinfo=UTC)
    fields = {
        "chain": world.demo.pk,
        "seq": last.seq + 1,
        "at": at,
        "user_id": world.admin.user_id,
        "user_email": world.admin.user.email,
        "clinic_id": world.demo.pk,
        "patient_id": world.patient.pk,
        "action": "view",
        "category": "clinical",
        "outcome": "allowed",
        "detail": "forged",
        "prev_hash": last.hash,
    }
    digest = audit.entry_hash(**fields)
    row = dict(fields, at=connection.ops.adapt_datetimefield_value(at), hash=digest)
    columns = ", ".join(row)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO core_accesslogentry ({columns}) VALUES ({', '.join(['%s'] * len(row))})",  # noqa: S608
            list(row.values()),
        )
    return AccessLogEntry.objects.get(chain=world.demo.pk, seq=last.seq + 1).pk


@pytest.mark.parametrize("tamper", [edit_detail, delete_middle, delete_last, insert_forged])
def test_tampering_by_raw_sql_fails_verification_and_names_the_entry(world, capsys, tamper):
    log_some(world, 4)
    assert audit.verify()[1] == []
    named = tamper(world)

    code, output = run_cli_verify(capsys)
    assert code == 1
    assert "verification failed" in output
    assert "Traceback" not in output
    assert names_entry(output, named), output

    with pytest.raises(CommandError):
        call_command("audit_verify")
    assert names_entry(capsys.readouterr().err, named)


def test_verify_reports_the_missing_sequence_number_when_the_last_entry_is_deleted(world, capsys):
    log_some(world, 2)
    last_seq = chain(world.demo)[-1].seq
    delete_last(world)
    _, output = run_cli_verify(capsys)
    assert f"should end at seq {last_seq}" in output


def test_other_clinics_chains_stay_clean_when_one_is_tampered_with(world):
    log_some(world)
    edit_detail(world)
    problems = audit.verify()[1]
    assert problems
    assert {p.chain for p in problems} == {world.demo.pk}


def test_the_parts_of_a_record_one_page_reads_are_logged_in_one_commit(world, login):
    """The chart reads demographics, summary, scores and courses: each logged, one commit."""
    client = login(world.therapist)
    chart = reverse("patients:chart", kwargs={"clinic": "demo", "patient_id": world.patient.public_id})
    before = len(chain(world.demo))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(chart).status_code == 200
    logged = chain(world.demo)[before:]
    assert len(logged) >= 2
    assert {e.patient_id for e in logged} == {world.patient.pk}
    assert [e.seq for e in logged] == list(range(logged[0].seq, logged[0].seq + len(logged)))
    inserts = [q for q in queries if q["sql"].startswith("INSERT") and "core_accesslogentry" in q["sql"]]
    assert len(inserts) == 1
    assert audit.verify()[1] == []


def test_views_logged_in_a_batch_are_written_even_when_the_block_fails(world):
    with pytest.raises(RuntimeError), audit.batched():
        log_some(world, 2)
        assert not AccessLogEntry.objects.filter(detail__startswith="filler").exists()
        raise RuntimeError("the page failed after reading")
    assert AccessLogEntry.objects.filter(detail__startswith="filler").count() == 2
    assert audit.verify()[1] == []


def test_a_write_is_logged_in_its_own_transaction_even_inside_a_batch(world):
    with audit.batched(), transaction.atomic():
        audit.record(
            user=world.therapist.user,
            clinic=world.demo,
            action=AuditAction.UPDATE,
            category=DataCategory.CLINIC,
        )
        assert AccessLogEntry.objects.filter(category=DataCategory.CLINIC, action=AuditAction.UPDATE).exists()


def test_the_orm_refuses_to_change_or_delete_an_entry(world):
    entry = chain(world.demo)[0]
    entry.detail = "rewritten"
    with pytest.raises(TypeError, match="append-only"):
        entry.save()
    with pytest.raises(TypeError, match="append-only"):
        entry.delete()
    with pytest.raises(TypeError, match="append-only"):
        AccessLogEntry.objects.filter(pk=entry.pk).update(detail="rewritten")
    with pytest.raises(TypeError, match="append-only"):
        AccessLogEntry.objects.filter(pk=entry.pk).delete()
    assert AccessLogEntry.objects.get(pk=entry.pk).detail != "rewritten"
    assert audit.verify()[1] == []


def test_interleaved_appends_to_two_clinics_keep_each_chain_contiguous(world):
    for n in range(20):
        clinic = world.demo if n % 2 else world.other
        audit.record(user=None, clinic=clinic, action=AuditAction.VIEW, category=DataCategory.CLINIC)
    for clinic in (world.demo, world.other):
        assert [e.seq for e in chain(clinic)] == list(range(1, len(chain(clinic)) + 1))
    assert audit.verify()[1] == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_from_threads_keep_the_sequence_contiguous():
    clinic = Clinic.objects.create(slug="busy", name="Busy clinic")
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(10):
                audit.record(user=None, clinic=clinic, action=AuditAction.VIEW, category=DataCategory.CLINIC)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [e.seq for e in chain(clinic)] == list(range(1, 51))
    assert audit.verify()[1] == []


# --- the access log page ------------------------------------------------------------------


def record_at(when: datetime, **kwargs) -> None:
    with mock.patch("django.utils.timezone.now", return_value=when):
        audit.record(category=DataCategory.DEMOGRAPHICS, action=AuditAction.VIEW, **kwargs)


@pytest.fixture
def marked(world):
    """Three recognisable entries. Demo's time zone is America/Denver (UTC-7 in January)."""
    second = services.patient_create(
        member=world.frontdesk,
        data={"legal_given_name": "Sam", "legal_family_name": "Lee", "date_of_birth": "1970-02-02"},
    )
    # 2025-01-15 03:00 UTC is the evening of 14 January in Denver.
    record_at(
        datetime(2025, 1, 15, 3, tzinfo=UTC),
        user=world.therapist.user,
        clinic=world.demo,
        patient=world.patient,
        detail="marker-evening",
    )
    record_at(
        datetime(2025, 1, 15, 18, tzinfo=UTC),
        user=world.frontdesk.user,
        clinic=world.demo,
        outcome=AuditOutcome.DENIED,
        detail="marker-refusal",
    )
    record_at(
        datetime(2025, 1, 20, 18, tzinfo=UTC),
        user=world.prescriber.user,
        clinic=world.demo,
        patient=second,
        detail="marker-other-patient",
    )
    return world


MARKERS = {"marker-evening", "marker-refusal", "marker-other-patient"}


def shown(response) -> set[str]:
    return {m for m in MARKERS if m in response.content.decode()}


def test_admin_sees_every_entry_in_the_clinic_time_zone(marked, login):
    response = login(marked.admin).get(AUDIT_URL)
    assert response.status_code == 200
    assert shown(response) == MARKERS
    html = response.content.decode()
    assert "2025-01-14 20:00:00" in html  # 03:00 UTC, shown in Denver time
    count = AccessLogEntry.objects.filter(clinic=marked.demo).count()  # includes this view
    assert f"{count} entries" in html
    assert html.count("<tr>") == count + 1  # one row per entry, plus the heading


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"patient": "r-1"}, {"marker-evening"}),
        ({"user": "THEO@demo"}, {"marker-evening"}),
        ({"user": "frankie"}, {"marker-refusal"}),
        ({"outcome": "denied"}, {"marker-refusal"}),
        ({"date_from": "2025-01-14", "date_to": "2025-01-14"}, {"marker-evening"}),
        ({"date_from": "2025-01-15", "date_to": "2025-01-15"}, {"marker-refusal"}),
        ({"date_from": "2025-01-16"}, {"marker-other-patient"}),
        ({"date_to": "2025-01-15"}, {"marker-evening", "marker-refusal"}),
    ],
)
def test_admin_filters_the_access_log(marked, login, query, expected):
    response = login(marked.admin).get(AUDIT_URL, query)
    assert response.status_code == 200
    assert shown(response) == expected


def test_an_end_date_before_the_start_date_is_a_field_error_not_a_crash(marked, login):
    response = login(marked.admin).get(AUDIT_URL, {"date_from": "2025-01-15", "date_to": "2025-01-01"})
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'id="id_date_to_error"><li>The end date is before the start date.</li>', html)
    assert shown(response) == set()


@pytest.mark.parametrize("persona", ["frontdesk", "therapist", "prescriber", "nurse"])
def test_staff_other_than_the_admin_are_refused_the_access_log(world, login, persona):
    response = login(world.member(persona)).get(AUDIT_URL)
    assert response.status_code == 403
    refused = AccessLogEntry.objects.filter(
        user=world.member(persona).user, category=DataCategory.AUDIT, outcome=AuditOutcome.DENIED
    )
    assert refused.count() == 1


def test_the_other_clinics_admin_does_not_learn_the_access_log_exists(world, login):
    assert login(world.other_admin).get(AUDIT_URL).status_code == 404


def test_viewing_the_access_log_is_itself_logged(world, login):
    before = AccessLogEntry.objects.filter(category=DataCategory.AUDIT).count()
    login(world.admin).get(AUDIT_URL, {"outcome": "denied"})
    views = AccessLogEntry.objects.filter(category=DataCategory.AUDIT, action=AuditAction.VIEW)
    assert views.count() == before + 1
    entry = views.latest("id")
    assert entry.user == world.admin.user
    assert entry.clinic == world.demo
    assert entry.outcome == AuditOutcome.ALLOWED


def test_verify_on_a_database_never_migrated_says_so_without_a_traceback(tmp_path):
    """An operator pointing ``kapflow audit verify`` at an empty database gets one line, exit 1."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env["KAPFLOW_DATA_DIR"] = str(tmp_path)
    kapflow = Path(sys.executable).with_name("kapflow")
    done = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [str(kapflow), "audit", "verify"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 1
    assert "kapflow manage migrate" in done.stderr
    assert "Traceback" not in done.stderr
