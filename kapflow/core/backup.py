"""Backups of the whole database as one file, and restoring one into an empty database.

A backup is one archive (``backup_archive``): the database image, made with SQLite's online
backup API or ``pg_dump -Fc``, and a manifest with the migrations, every table's row count and
the image's sha256.

Both engines copy one consistent snapshot while kapflow keeps writing: SQLite's backup runs
in a single step (one read transaction; WAL lets writers go on), PostgreSQL's counts and
``pg_dump --snapshot`` share one exported REPEATABLE READ snapshot. The counts in the manifest
are therefore the counts of the image.

Restoring refuses, before it touches anything, an archive that is not a kapflow backup or is
damaged, a backup of the other engine, a backup with migrations this code does not have, and
a target database that is not empty. After restoring it checks the row counts against the
manifest, the access log's hash chains and that no migration of the code is missing.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess  # nosec B404
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.request import pathname2url

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from kapflow.core import audit
from kapflow.core.backup_archive import (
    ENGINE_NAMES,
    IMAGES,
    BackupError,
    Manifest,
    check_destination,
    publish,
    read_archive,
    sha256,
    write_archive,
)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def __str__(self) -> str:
        return f"  {self.name:<12} {'ok' if self.ok else 'FAILED'}: {self.detail}"


@dataclass
class Report:
    manifest: Manifest
    checks: list[Check] = field(default_factory=list)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


def _kapflow_version() -> str:
    try:
        return metadata.version("kapflow")
    except metadata.PackageNotFoundError:
        return "unknown"


# --- The configured database ----------------------------------------------------------------


def engine() -> str:
    vendor = connections[DEFAULT_DB_ALIAS].vendor
    if vendor not in IMAGES:
        raise BackupError(f"backups support SQLite and PostgreSQL; the configured database is {vendor}")
    return vendor


def _sqlite_file() -> Path:
    return Path(connections[DEFAULT_DB_ALIAS].settings_dict["NAME"])


def _sqlite_connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """Open an existing SQLite file (never create one)."""
    mode = "ro" if read_only else "rw"
    return sqlite3.connect(f"file:{pathname2url(str(path))}?mode={mode}", uri=True, timeout=20)


def _pg_settings() -> tuple[str, str]:
    """The configured PostgreSQL database as a libpq connection string, and its password
    (passed apart: to pg_dump/pg_restore in PGPASSWORD, never on a command line)."""
    from psycopg import pq
    from psycopg.conninfo import make_conninfo

    conf = connections[DEFAULT_DB_ALIAS].settings_dict
    options = conf.get("OPTIONS") or {}
    keywords = {option.keyword.decode() for option in pq.Conninfo.get_defaults()}
    params = {k: str(v) for k, v in options.items() if k in keywords and k != "password"}
    for key, setting in (("dbname", "NAME"), ("user", "USER"), ("host", "HOST"), ("port", "PORT")):
        if conf.get(setting):
            params[key] = str(conf[setting])
    return make_conninfo(**params), str(conf.get("PASSWORD") or options.get("password") or "")


@contextmanager
def _pg_connect(*, snapshot: bool = False) -> Iterator[Any]:
    import psycopg

    conninfo, password = _pg_settings()
    try:
        conn = psycopg.connect(conninfo, password=password) if password else psycopg.connect(conninfo)
    except psycopg.Error as exc:
        raise BackupError(f"cannot connect to the configured PostgreSQL database: {exc}") from None
    try:
        if snapshot:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
        yield conn
    finally:
        conn.rollback()
        conn.close()


def _program(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/local/bin")
    if not found:
        raise BackupError(f"{name} was not found: install the PostgreSQL client tools")
    return found


def _run(argv: list[str], *, password: str = "") -> str:
    """Run a PostgreSQL client program (pg_dump, pg_restore); its output, or a BackupError with
    its last words. Bandit's B404/B603 are marked: an argument list, no shell."""
    env = dict(os.environ, **({"PGPASSWORD": password} if password else {}))
    # An argument list, no shell: nothing in the settings is ever parsed by a shell.
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603  # nosec B603
    if done.returncode != 0:
        tail = " ".join(done.stderr.strip().splitlines()[-3:]) or f"exit status {done.returncode}"
        raise BackupError(f"{Path(argv[0]).name} failed: {tail}")
    return done.stdout


# --- Tables, counts and migrations (one DB-API cursor, either engine) -----------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(cursor: Any, vendor: str) -> dict[str, str]:
    """Every table: its name in the manifest -> its quoted name in SQL."""
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 7) <> 'sqlite_'"
        )
        return {name: _quote(name) for (name,) in cursor.fetchall()}
    cursor.execute(
        "SELECT n.nspname, c.relname, n.nspname = current_schema() FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') "
        "AND n.nspname <> 'information_schema' AND left(n.nspname, 3) <> 'pg_'"
    )
    return {
        (name if current else f"{schema}.{name}"): f"{_quote(schema)}.{_quote(name)}"
        for schema, name, current in cursor.fetchall()
    }


def row_counts(cursor: Any, vendor: str) -> dict[str, int]:
    counts = {}
    for name, quoted in sorted(_tables(cursor, vendor).items()):
        cursor.execute(f"SELECT count(*) FROM {quoted}")  # noqa: S608 - a quoted catalog table name  # nosec B608
        counts[name] = int(cursor.fetchone()[0])
    return counts


def _migrations(cursor: Any) -> list[tuple[str, str]]:
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
    return [(str(app), str(name)) for app, name in cursor.fetchall()]


# --- Taking a backup ------------------------------------------------------------------------


def _sqlite_image(into: Path) -> tuple[list[tuple[str, str]], dict[str, int]]:
    source = _sqlite_file()
    if not source.is_file():
        raise BackupError(f"the database file {source} does not exist; there is nothing to back up")
    try:
        live = _sqlite_connect(source)
        try:
            copy = sqlite3.connect(into)
            try:
                # pages=-1: the whole database in one step, i.e. inside one read transaction, so
                # the copy is one consistent state even while kapflow writes (WAL lets writers go on).
                live.backup(copy, pages=-1)
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file in the archive
                (integrity,) = copy.execute("PRAGMA integrity_check").fetchone()
                if integrity != "ok":
                    raise BackupError(f"the copy of the database fails SQLite's integrity check: {integrity}")
                cursor = copy.cursor()
                return _migrations(cursor), row_counts(cursor, "sqlite")
            finally:
                copy.close()
        finally:
            live.close()
    except sqlite3.Error as exc:  # e.g. "database or disk is full" while copying, "database is locked"
        raise BackupError(f"copying the database {source} failed: {exc}; no backup was written") from None


def _postgresql_image(into: Path) -> tuple[list[tuple[str, str]], dict[str, int]]:
    pg_dump = _program("pg_dump")
    conninfo, password = _pg_settings()
    with _pg_connect(snapshot=True) as conn, conn.cursor() as cursor:
        # The counts and the dump read the same snapshot: the transaction exporting it
        # stays open until pg_dump has finished.
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
        counts = row_counts(cursor, "postgresql")
        migrations = _migrations(cursor)
        _run(
            [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={into}", "--dbname", conninfo],
            password=password,
        )
    return migrations, counts


def backup_create(*, path: Path, force: bool = False) -> Manifest:
    """Write a backup of the configured database to ``path`` (one file, readable by its owner
    only). It is made beside ``path`` and moved there when complete: a failure or a crash
    never leaves part of a backup under ``path``."""
    path = path.absolute()
    check_destination(path, force=force)
    vendor = engine()
    try:
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}.") as work:
            return _create_in(Path(work), path, vendor, force=force)
    except OSError as exc:  # e.g. the disk is full
        raise BackupError(f"writing {path} failed: {exc}; no backup was written") from None


def _create_in(work: Path, path: Path, vendor: str, *, force: bool) -> Manifest:
    image = work / IMAGES[vendor]
    migrations, counts = (_sqlite_image if vendor == "sqlite" else _postgresql_image)(image)
    manifest = Manifest(
        engine=vendor,
        created_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        kapflow_version=_kapflow_version(),
        migrations=migrations,
        row_counts=counts,
        database_sha256=sha256(image),
        database_bytes=image.stat().st_size,
    )
    partial = work / "archive.partial"
    write_archive(partial, manifest, image)
    publish(partial, path, force=force)
    return manifest


# --- Checking a backup ----------------------------------------------------------------------


def backup_verify(*, path: Path) -> Report:
    """Check a backup without restoring it: structure and checksums, then the image itself
    (SQLite: integrity check and row counts; PostgreSQL: pg_restore reads its table of contents)."""
    with tempfile.TemporaryDirectory(prefix="kapflow-verify-") as work:
        manifest, image = read_archive(path.absolute(), Path(work))
        report = Report(manifest, [Check("checksums", True, "the manifest and the image match their sha256")])
        if manifest.engine == "sqlite":
            report.checks.extend(_sqlite_image_checks(image, manifest))
        else:
            report.checks.append(_pgdump_check(image, manifest))
    return report


def _sqlite_image_checks(image: Path, manifest: Manifest) -> list[Check]:
    conn = _sqlite_connect(image, read_only=True)
    try:
        (integrity,) = conn.execute("PRAGMA integrity_check").fetchone()
        counts = row_counts(conn.cursor(), "sqlite")
    finally:
        conn.close()
    return [
        Check("integrity", integrity == "ok", f"SQLite integrity check: {integrity}"),
        _counts_check(manifest, counts),
    ]


def _pgdump_check(image: Path, manifest: Manifest) -> Check:
    listing = _run([_program("pg_restore"), "--list", str(image)])
    dumped = set()
    for line in listing.splitlines():
        words = line.split()
        if " TABLE DATA " in line and len(words) >= 7:
            schema, table = words[5], words[6]
            dumped.update({table, f"{schema}.{table}"})
    missing = sorted(t for t, n in manifest.row_counts.items() if n and t not in dumped)
    if missing:
        return Check("contents", False, f"the dump lacks the rows of {', '.join(missing[:5])}")
    return Check("contents", True, f"pg_restore reads the dump: data of {len(manifest.row_counts)} tables")


def _counts_check(manifest: Manifest, counts: dict[str, int]) -> Check:
    expected = manifest.row_counts
    differ = [
        f"{table}: {expected.get(table, 'no table')} in the backup, {counts.get(table, 'no table')} here"
        for table in sorted(set(expected) | set(counts))
        if expected.get(table) != counts.get(table)
    ]
    if differ:
        return Check("row counts", False, f"{len(differ)} table(s) differ: {'; '.join(differ[:5])}")
    return Check("row counts", True, f"{len(counts)} tables, {sum(counts.values())} rows, as in the manifest")


# --- Restoring ------------------------------------------------------------------------------


def backup_restore(*, path: Path) -> Report:
    """Restore the backup at ``path`` into the configured database, which must be empty, then
    verify it. Every refusal comes before anything is written."""
    vendor = engine()
    with tempfile.TemporaryDirectory(prefix="kapflow-restore-") as work:
        try:
            manifest, image = read_archive(path.absolute(), Path(work))
            _check_compatible(manifest, vendor)
            _check_target_empty(vendor)
        except BackupError as exc:
            raise BackupError(f"{exc}; nothing was restored") from None
        if vendor == "sqlite":
            _sqlite_restore(image)
        else:
            _postgresql_restore(image)
    return Report(manifest, verify_database(manifest, vendor))


def _check_compatible(manifest: Manifest, vendor: str) -> None:
    if manifest.engine != vendor:
        configured = "DATABASE_URL" if vendor == "postgresql" else "DATABASE_URL is not set"
        wanted = (
            "set DATABASE_URL to an empty PostgreSQL database"
            if manifest.engine == "postgresql"
            else "unset DATABASE_URL and point KAPFLOW_DATA_DIR at a folder without a database"
        )
        raise BackupError(
            f"this is a {ENGINE_NAMES[manifest.engine]} backup, but the configured database is "
            f"{ENGINE_NAMES[vendor]} ({configured}); to restore it, {wanted}"
        )
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = [f"{app}.{name}" for app, name in manifest.migrations if (app, name) not in known]
    if unknown:
        raise BackupError(
            f"the backup was made by a newer kapflow ({manifest.kapflow_version}): this version lacks "
            f"{len(unknown)} of its migrations ({', '.join(unknown[:3])}); restore it with that "
            "version or a newer one"
        )


def _check_target_empty(vendor: str) -> None:
    if vendor == "sqlite":
        target = _sqlite_file()
        if not target.exists() or target.stat().st_size == 0:
            return
        try:
            conn = _sqlite_connect(target)
            try:
                counts = row_counts(conn.cursor(), "sqlite")
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"the target {target} is not an empty SQLite database ({exc})") from None
        where = f"the target database {target}"
    else:
        with _pg_connect() as conn, conn.cursor() as cursor:
            counts = row_counts(cursor, "postgresql")
        where = f"the target database {connections[DEFAULT_DB_ALIAS].settings_dict['NAME']}"
    full = {table: n for table, n in counts.items() if n}
    if full:
        largest = ", ".join(f"{t}: {n}" for t, n in sorted(full.items(), key=lambda i: -i[1])[:3])
        raise BackupError(
            f"{where} is not empty: {len(full)} of its tables hold rows ({largest}); "
            "restore needs an empty database"
        )
    if counts and vendor == "postgresql":
        raise BackupError(
            f"{where} already has {len(counts)} (empty) tables; restore needs a database without "
            "tables (DROP DATABASE, then CREATE DATABASE)"
        )


def _sqlite_restore(image: Path) -> None:
    target = _sqlite_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    source = _sqlite_connect(image, read_only=True)
    try:
        dest = sqlite3.connect(target, timeout=20)
        try:
            # Through SQLite, not a file copy: one transaction, and a stale -wal file beside
            # the target can never be replayed over the restored pages.
            source.backup(dest, pages=-1)
            dest.execute("PRAGMA journal_mode=WAL")
        finally:
            dest.close()
    except sqlite3.Error as exc:
        raise BackupError(f"writing {target} failed: {exc}") from None
    finally:
        source.close()


def _postgresql_restore(image: Path) -> None:
    conninfo, password = _pg_settings()
    argv = [_program("pg_restore"), "--no-owner", "--exit-on-error", "--single-transaction"]
    try:
        _run([*argv, "--dbname", conninfo, str(image)], password=password)
    except BackupError as exc:
        raise BackupError(f"{exc}; nothing was restored (one transaction, rolled back)") from None


def verify_database(manifest: Manifest, vendor: str) -> list[Check]:
    """The configured database against a backup's manifest: row counts, SQLite's integrity
    check, the access log's hash chains, and no migration of the code missing."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        checks = [_counts_check(manifest, row_counts(cursor, vendor))]
        if vendor == "sqlite":
            cursor.execute("PRAGMA integrity_check")
            (integrity,) = cursor.fetchone()
            checks.append(Check("integrity", integrity == "ok", f"SQLite integrity check: {integrity}"))
    checks.append(_audit_check())
    checks.append(_migrations_check())
    return checks


def _audit_check() -> Check:
    try:
        checked, problems = audit.verify()
    except DatabaseError as exc:
        return Check("access log", False, f"cannot be read: {exc}")
    if problems:
        return Check(
            "access log", False, f"{len(problems)} problem(s) in {checked} entries; first: {problems[0]}"
        )
    return Check("access log", True, f"{checked} entries, every hash chain verifies")


def _migrations_check() -> Check:
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        first = plan[0][0]
        return Check(
            "migrations",
            False,
            f"{len(plan)} migration(s) of this kapflow are not applied (first {first.app_label}."
            f"{first.name}): the backup is older than the code; run kapflow manage migrate",
        )
    return Check(
        "migrations", True, f"current: {len(executor.loader.applied_migrations)} applied, none missing"
    )
