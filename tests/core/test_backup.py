"""Backup and restore: `kapflow backup PATH` while the clinic is at work, `kapflow restore PATH`
into a brand-new empty database, verified; and every refusal leaves everything as it was.

Runs on the engine of the test run: on SQLite the restore target is a new file (a new
KAPFLOW_DATA_DIR), on PostgreSQL a new database created for the test and dropped after it.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import sqlite3
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import quote

import pytest
from django.db import connection, transaction

from kapflow import cli
from kapflow.core import audit, backup
from kapflow.core.backup_archive import IMAGES, MANIFEST, read_archive, write_archive
from kapflow.core.models import AuditAction, DataCategory
from kapflow.patients import services as patient_services
from tests.dosing.helpers import dosed, make_lot, make_ready

# Rows compared one by one between the clinic and its restored copy.
SAMPLE = [
    "accounts_user",
    "patients_patient",
    "courses_treatmentcourse",
    "courses_clinicalnote",
    "dosing_administration",
    "dosing_ledgerentry",
    "core_accesslogentry",
]


@pytest.fixture
def clinic(world):
    """The world with clinical records: a course with signed notes, a dose given from a lot
    (the ledger), and the access log of all that plus some views."""
    course = make_ready(world)
    dosed(world, course, make_lot(world))
    for n in range(5):
        audit.record(
            user=world.therapist.user,
            clinic=world.demo,
            patient=world.patient,
            action=AuditAction.VIEW,
            category=DataCategory.CLINICAL,
            detail=f"chart viewed {n}",
        )
    return world


def new_patient(frontdesk, number: str) -> None:
    """One transaction of the clinic at work: a patient, their history row, an access-log entry."""
    with transaction.atomic():
        patient_services.patient_create(
            member=frontdesk,
            data={
                "legal_given_name": "Writer",
                "legal_family_name": number,
                "date_of_birth": date(1990, 1, 1),
                "record_number": number,
            },
        )


class Writer(threading.Thread):
    """Another thread keeps writing, as the app in use does, until stopped."""

    def __init__(self, frontdesk) -> None:
        super().__init__(daemon=True)
        self.frontdesk = frontdesk
        self.stopping = threading.Event()
        self.written = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                new_patient(self.frontdesk, f"W-{self.written + 1}")
                self.written += 1
        except BaseException as exc:
            self.error = exc
        finally:
            connection.close()

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 30
        while self.written < count:
            assert self.error is None, self.error
            assert time.monotonic() < deadline, "the writer stalled"
            time.sleep(0.005)


@contextmanager
def app_in_use(world) -> Iterator[Writer]:
    writer = Writer(world.frontdesk)
    writer.start()
    try:
        writer.wait_for(3)
        yield writer
        writer.wait_for(writer.written + 3)  # still writing after the backup
    finally:
        writer.stopping.set()
        writer.join(30)
    assert writer.error is None, writer.error


def live_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        return backup.row_counts(cursor, connection.vendor)


# --- Running kapflow ------------------------------------------------------------------------


def kapflow(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("kapflow")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "kapflow.cli"]
    run = [*argv, *args]  # our own command, no shell
    return subprocess.run(run, env=env, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603


def cli_run(capsys, *args: str) -> tuple[int, str]:
    """``kapflow ARGS`` in this process (Django is set up already): (exit status, output)."""
    try:
        with mock.patch.object(cli, "_setup"):
            cli.main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def base_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "KAPFLOW_ENV"}}
    env["KAPFLOW_DATA_DIR"] = str(data_dir)
    return env


@dataclasses.dataclass
class Target:
    """A brand-new empty database, and how kapflow and the test reach it."""

    env: dict[str, str]
    where: str  # the SQLite file, or the PostgreSQL database name

    def connect(self) -> Any:
        if connection.vendor == "sqlite":
            return sqlite3.connect(self.where)
        import psycopg

        conf = connection.settings_dict
        return psycopg.connect(
            dbname=self.where,
            user=conf["USER"],
            password=conf["PASSWORD"],
            host=conf["HOST"],
            port=conf["PORT"],
        )


@contextmanager
def empty_database(tmp_path: Path) -> Iterator[Target]:
    data_dir = tmp_path / "restored"
    env = base_env(data_dir)
    if connection.vendor == "sqlite":
        yield Target(env, str(data_dir / "kapflow.sqlite3"))
        return
    conf = connection.settings_dict
    name = f"kapflow_restore_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    credentials = quote(conf["USER"]) + (f":{quote(conf['PASSWORD'])}" if conf["PASSWORD"] else "")
    env["DATABASE_URL"] = f"postgres://{credentials}@{conf['HOST']}:{conf['PORT']}/{name}"
    try:
        yield Target(env, name)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def live_connection() -> Any:
    if connection.vendor == "sqlite":
        return sqlite3.connect(connection.settings_dict["NAME"])
    return Target({}, connection.settings_dict["NAME"]).connect()


def rows_by_id(conn: Any, table: str) -> dict[Any, tuple[Any, ...]]:
    cursor = conn.cursor()
    cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - a table name of this test
    return {row[0]: tuple(row) for row in cursor.fetchall()}


def restored_counts(target: Target) -> dict[str, int]:
    conn = target.connect()
    try:
        return backup.row_counts(conn.cursor(), connection.vendor)
    finally:
        conn.close()


# --- The round trip -------------------------------------------------------------------------


# One test for the round trip and the mid-write snapshots: a test whose data is committed
# costs an emptying of every table after it, which is slow on PostgreSQL.
@pytest.mark.django_db(transaction=True)  # committed, so that the backup and the writer see it
def test_backups_made_while_the_clinic_writes_hold_whole_transactions_and_restore_verified(clinic, tmp_path):
    before = live_counts()
    new_patient(clinic.frontdesk, "CALIBRATE")
    base = live_counts()
    per_write = {t: base[t] - before[t] for t in before if base[t] != before[t]}
    assert per_write["core_accesslogentry"] == per_write["patients_patient"] == 1

    with app_in_use(clinic):
        manifests = [backup.backup_create(path=tmp_path / f"clinic-{n}.kfb") for n in range(2)]
    for n, manifest in enumerate(manifests):
        assert_whole_writes(manifest.row_counts, base, per_write)
        report = backup.backup_verify(path=tmp_path / f"clinic-{n}.kfb")
        assert not report.failed, report.checks

    archive, manifest = tmp_path / "clinic-1.kfb", manifests[-1]
    with empty_database(tmp_path) as target:
        restored = kapflow("restore", str(archive), env=target.env)
        assert restored.returncode == 0, restored.stderr
        assert "restore verified" in restored.stdout
        assert f"{manifest.audit_entries} entries, every hash chain verifies" in restored.stdout

        assert restored_counts(target) == manifest.row_counts
        assert manifest.row_counts["dosing_administration"] == 1
        assert manifest.row_counts["courses_clinicalnote"] >= 2
        assert manifest.audit_entries > 10
        assert_sample_identical(target)

        # The restored clinic works: a new access-log entry continues its chain, which verifies.
        code = (
            "from kapflow.core import audit; from kapflow.clinics.models import Clinic; "
            "e = audit.record(user=None, clinic=Clinic.objects.get(slug='demo'), action='view', "
            "category='clinical', detail='after restore'); print('seq', e.seq, audit.verify()[1])"
        )
        last = last_seq(target, clinic.demo.pk)
        after = kapflow("manage", "shell", "--no-imports", "-c", code, env=target.env)
        assert after.returncode == 0, after.stderr
        assert f"seq {last + 1} []" in after.stdout


def assert_whole_writes(counts: dict[str, int], base: dict[str, int], per_write: dict[str, int]) -> None:
    """Every table grew by the same number of whole writes: no transaction is cut in half."""
    writes = counts["patients_patient"] - base["patients_patient"]
    assert writes >= 3, "the writer was at work before the backup"
    for table, count in counts.items():
        assert count - base[table] == writes * per_write.get(table, 0), table


def assert_sample_identical(target: Target) -> None:
    live, copy = live_connection(), target.connect()
    try:
        for table in SAMPLE:
            restored_rows = rows_by_id(copy, table)
            live_rows = rows_by_id(live, table)
            assert restored_rows, table
            # The clinic has only grown since: each restored row is the live row, unchanged.
            assert restored_rows == {pk: live_rows[pk] for pk in restored_rows}, table
    finally:
        live.close()
        copy.close()


def last_seq(target: Target, chain: int) -> int:
    conn = target.connect()
    try:
        cursor = conn.cursor()
        cursor.execute(f"SELECT max(seq) FROM core_accesslogentry WHERE chain = {int(chain)}")  # noqa: S608
        return int(cursor.fetchone()[0])
    finally:
        conn.close()


# --- Refusals: exit 1, a clear message, nothing changed -----------------------------------


@pytest.fixture
def archive(world, tmp_path) -> Path:
    """A backup of the test database as committed (the test's own rows are not committed,
    which makes the refusals quick: no database has to be emptied after them)."""
    path = tmp_path / "clinic.kfb"
    backup.backup_create(path=path)
    return path


def test_restore_refuses_a_database_that_is_not_empty(archive, capsys):
    before = live_counts()
    code, output = cli_run(capsys, "restore", str(archive))
    assert code == 1
    assert "kapflow: the target database" in output
    assert "is not empty" in output and "restore needs an empty database" in output
    assert "nothing was restored" in output and "Traceback" not in output
    assert live_counts() == before


def flip(path: Path, member: str, at: int | None = None) -> None:
    """Change one bit of ``member`` (in its middle, or at byte ``at`` of it) inside the archive."""
    with tarfile.open(path) as tar:
        info = tar.getmember(member)
        offset = info.offset_data + (info.size // 2 if at is None else at)
    with path.open("r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x01]))


def test_a_changed_byte_in_the_database_image_is_refused(archive, capsys):
    before = live_counts()
    flip(archive, IMAGES[connection.vendor])
    code, output = cli_run(capsys, "restore", str(archive))
    assert code == 1
    assert "is damaged: its database image does not match its sha256" in output
    assert "nothing was restored" in output
    code, output = cli_run(capsys, "backup", "--verify", str(archive))
    assert code == 1
    assert "is damaged" in output
    assert live_counts() == before


def test_a_changed_count_in_the_manifest_is_refused(archive, capsys):
    with tarfile.open(archive) as tar:
        text = tar.extractfile(MANIFEST).read()  # type: ignore[union-attr]
    at = text.index(b'"core_accesslogentry": ') + len(b'"core_accesslogentry": ')
    flip(archive, MANIFEST, at=at)
    code, output = cli_run(capsys, "restore", str(archive))
    assert code == 1
    assert f"is damaged: its {MANIFEST} does not match its sha256" in output


def test_a_file_that_is_not_a_backup_is_refused(world, tmp_path, capsys):
    before = live_counts()
    noise = tmp_path / "noise.kfb"
    noise.write_bytes(secrets.token_bytes(8192))
    code, output = cli_run(capsys, "restore", str(noise))
    assert code == 1
    assert "is not a kapflow backup" in output and "nothing was restored" in output

    other_tar = tmp_path / "photos.tar"
    with tarfile.open(other_tar, "w") as tar:
        tar.add(noise, arcname="photo.jpg")
    code, output = cli_run(capsys, "restore", str(other_tar))
    assert code == 1
    assert f"is not a kapflow backup: it holds no {MANIFEST}" in output
    assert live_counts() == before


def test_a_missing_file_is_refused(world, tmp_path, capsys):
    code, output = cli_run(capsys, "restore", str(tmp_path / "nowhere.kfb"))
    assert code == 1
    assert "nowhere.kfb does not exist; nothing was restored" in output
    code, output = cli_run(capsys, "backup", "--verify", str(tmp_path / "nowhere.kfb"))
    assert code == 1
    assert "does not exist" in output


def test_backup_never_overwrites_a_file_without_force(world, tmp_path, capsys):
    existing = tmp_path / "keep.kfb"
    existing.write_bytes(b"last week's backup")
    code, output = cli_run(capsys, "backup", str(existing))
    assert code == 1
    assert "keep.kfb already exists; choose another name, or pass --force" in output
    assert existing.read_bytes() == b"last week's backup"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.kfb"]  # no temporary file left

    code, output = cli_run(capsys, "backup", "--force", str(existing))
    assert code == 0, output
    assert oct(existing.stat().st_mode & 0o777) == "0o600"  # health data: its owner only
    code, output = cli_run(capsys, "backup", "--verify", str(existing))
    assert code == 0, output
    assert "backup intact" in output


def test_a_backup_of_the_other_engine_is_refused(archive, tmp_path):
    env = base_env(tmp_path / "other")
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = "postgres://nobody@127.0.0.1:9/never_touched"
        expected = "this is a SQLite backup, but the configured database is PostgreSQL"
    else:
        expected = "this is a PostgreSQL backup, but the configured database is SQLite"
    refused = kapflow("restore", str(archive), env=env)
    assert refused.returncode == 1
    assert expected in refused.stderr and "nothing was restored" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "other" / "kapflow.sqlite3").exists()


def test_a_backup_from_a_newer_kapflow_is_refused(archive, tmp_path, capsys):
    work = tmp_path / "work"
    work.mkdir()
    manifest, image = read_archive(archive, work)
    future = dataclasses.replace(
        manifest, migrations=[*manifest.migrations, ("core", "9999_from_the_future")]
    )
    newer = tmp_path / "newer.kfb"
    write_archive(newer, future, image)
    code, output = cli_run(capsys, "restore", str(newer))
    assert code == 1
    assert "the backup was made by a newer kapflow" in output
    assert "core.9999_from_the_future" in output


def test_verification_names_a_missing_migration_and_says_to_migrate(archive, tmp_path):
    """A backup older than the code restores, and the verification says what to do."""
    manifest, _ = read_archive(archive, tmp_path)
    with connection.cursor() as cursor:  # undone with the test's transaction
        cursor.execute("SELECT id, app, name FROM django_migrations ORDER BY id DESC LIMIT 1")
        last = cursor.fetchone()
        cursor.execute("DELETE FROM django_migrations WHERE id = %s", [last[0]])
    checks = {c.name: c for c in backup.verify_database(manifest, connection.vendor)}
    assert not checks["migrations"].ok
    assert f"{last[1]}.{last[2]}" in checks["migrations"].detail
    assert "run kapflow manage migrate" in checks["migrations"].detail
    assert checks["access log"].ok


def test_a_backup_that_fails_half_way_leaves_nothing_under_its_name(world, tmp_path, capsys):
    def disk_full(partial: Path, manifest, image: Path) -> None:
        partial.write_bytes(b"the first half of an archive")
        raise OSError(28, "No space left on device")

    with mock.patch.object(backup, "write_archive", disk_full):
        code, output = cli_run(capsys, "backup", str(tmp_path / "nightly.kfb"))
    assert code == 1
    assert "nightly.kfb failed: [Errno 28] No space left on device; no backup was written" in output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's copy step (PostgreSQL: pg_dump)")
def test_a_full_disk_while_copying_the_database_is_told_without_a_traceback(world, tmp_path, capsys):
    class FullDisk:
        def backup(self, *args: Any, **kwargs: Any) -> None:
            raise sqlite3.OperationalError("database or disk is full")

        def close(self) -> None:
            pass

    with mock.patch.object(backup, "_sqlite_connect", lambda *args, **kwargs: FullDisk()):
        code, output = cli_run(capsys, "backup", str(tmp_path / "nightly.kfb"))
    assert code == 1
    assert "failed: database or disk is full; no backup was written" in output
    assert "Traceback" not in output
    assert list(tmp_path.iterdir()) == []
