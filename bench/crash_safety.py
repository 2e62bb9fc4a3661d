"""Crash safety: kill the server with SIGKILL while clients write through the REST API, again
and again, then prove that nothing acknowledged was lost and nothing was left half-written.

Each cycle starts the production server (``kapflow serve``: gunicorn, a master and two workers,
in a process group of its own), lets several clients write through ``/api/v1/`` for a random
0.2-2 s (the front desk creates patients, the nurse records vital signs in a dosing session in
progress, the therapist adds addenda to a signed note), then kills the whole group with SIGKILL mid-traffic and
starts it again. Every write the server acknowledged (2xx) is journalled with the values sent.
A write cut off by the kill is "unknown": it may or may not be there, but must be whole. Every
write carries a unique marker, so an unknown one can be found without its id.

After the last cycle, with the server stopped, the database is read directly and checked:

- the server came back after every kill, and no process of a killed server lived on;
- every acknowledged write is present, once, with the values sent (unknown ones: whole or absent);
- SQLite ``PRAGMA integrity_check`` is ok and ``PRAGMA foreign_key_check`` finds nothing;
  PostgreSQL: amcheck's ``bt_index_check`` (with heapallindexed) on every btree index and
  ``verify_heapam`` on every table of the public schema are clean;
- ``kapflow audit verify`` exits 0;
- no record the test wrote lacks its access-log entry (and each patient its history row).

It prints the figures and a table of the checks, and exits 1 naming each failed check. The
checks are in ``crash_checks.py`` beside this script. A SIGKILL is a crash of the server
process, not a power cut: what the operating system has accepted survives it.

Run it from the repository root with the project's virtualenv:

    .venv/bin/python bench/crash_safety.py --cycles 100
    .venv/bin/python bench/crash_safety.py --cycles 100 \\
        --database-url postgres://postgres@127.0.0.1:5432/kapflow_crash

SQLite uses a fresh temporary data directory (or ``--data-dir``, which must be empty). With
``--database-url`` the named PostgreSQL database is DROPPED and created again, so names that
may hold real data (postgres, template0, template1, test, kapflow) are refused. A temporary
data directory (the server's log is in it) and the database are removed after a pass and kept
after a failure (or with ``--keep``).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import crash_checks as checks  # beside this script
from crash_checks import Check

REFUSED_DATABASES = {"", "postgres", "template0", "template1", "test", "kapflow"}
START_TIMEOUT = 90.0  # seconds for /healthz to answer after a start (it migrates first)
REQUEST_TIMEOUT = 30.0
KILL_DELAY = (0.2, 2.0)  # seconds of traffic before the kill
WORKERS = 2

KINDS = ("patient", "reading", "addendum")  # what the clients write, in turn


# --- The journal --------------------------------------------------------------------------


@dataclass
class Write:
    """One request: what was sent, and what the client learnt about it."""

    kind: str
    marker: str
    sent: dict[str, Any]
    outcome: str = "in flight"  # "acknowledged", "unknown" (cut off by the kill) or "refused"
    status: int | None = None
    public_id: str | None = None


@dataclass
class Journal:
    writes: list[Write] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, write: Write) -> None:
        with self.lock:
            self.writes.append(write)

    def having(self, *outcomes: str) -> list[Write]:
        return [w for w in self.writes if w.outcome in outcomes]


@dataclass(frozen=True)
class Targets:
    """Where the clients write: a token per role, the open dosing session and the signed note."""

    tokens: dict[str, str]
    session_id: str
    note_id: str


# --- Database and environment -------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=100, help="start-write-kill cycles (default 100)")
    parser.add_argument("--seed", type=int, default=1, help="seeds the kill delays and the values written")
    parser.add_argument("--database-url", default="", help="a PostgreSQL database to drop and create")
    parser.add_argument("--data-dir", type=Path, help="an empty directory (default: a temporary one)")
    parser.add_argument("--port", type=int, default=8021)
    parser.add_argument("--clients", type=int, default=4, help="concurrent writing clients")
    parser.add_argument("--keep", action="store_true", help="keep the data directory and database")
    args = parser.parse_args(argv)
    if args.port == 8000:
        parser.error("port 8000 is the development server's; choose another")
    if args.cycles < 1 or args.clients < 1:
        parser.error("--cycles and --clients must be at least 1")
    if args.database_url:
        url = urlsplit(args.database_url)
        if url.scheme not in {"postgres", "postgresql"}:
            parser.error("--database-url must be a postgres:// URL (SQLite is the default)")
        if url.path.lstrip("/") in REFUSED_DATABASES:
            parser.error(f"refusing to drop the database {url.path.lstrip('/')!r}: name one of its own")
    return args


def fresh_data_dir(wanted: Path | None) -> Path:
    if wanted is None:
        return Path(tempfile.mkdtemp(prefix="kapflow-crash-"))
    if wanted.exists() and any(wanted.iterdir()):
        raise SystemExit(f"crash_safety: --data-dir {wanted} is not empty; give a fresh one")
    wanted.mkdir(parents=True, exist_ok=True)
    return wanted.resolve()


def environment(data_dir: Path, database_url: str) -> dict[str, str]:
    """The server's environment (and this process's): nothing inherited from KAPFLOW_*."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KAPFLOW_") and k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        KAPFLOW_ENV="development",  # production would want HTTPS, a secret key and collectstatic
        KAPFLOW_DATA_DIR=str(data_dir),
        KAPFLOW_API_RATE_LIMIT="1000000",
        KAPFLOW_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="kapflow.settings",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _maintenance(database_url: str, statements: Iterable[Any]) -> None:
    import psycopg

    url = urlsplit(database_url)
    admin = url._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def recreate_postgres(database_url: str) -> None:
    from psycopg import sql

    name = sql.Identifier(urlsplit(database_url).path.lstrip("/"))
    _maintenance(
        database_url,
        [
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name),
            sql.SQL("CREATE DATABASE {}").format(name),
        ],
    )


def drop_postgres(database_url: str) -> None:
    from psycopg import sql

    name = sql.Identifier(urlsplit(database_url).path.lstrip("/"))
    _maintenance(database_url, [sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name)])


WRITERS = {"patient": "front_desk", "reading": "nurse", "addendum": "therapist"}  # kind -> role


def _staff(clinic: Any) -> dict[str, Any]:
    """The clinic's front desk, therapist and nurse (no passwords: they write with tokens)."""
    from kapflow.accounts.models import Membership, User

    members = {}
    for role in ("front_desk", "therapist", "nurse"):
        user = User.objects.create_user(f"{role}@crash.kapflow.test", None, full_name=f"Crash {role}")
        members[role] = Membership.objects.create(user=user, clinic=clinic, role=role)
    return members


def _course_in_progress(staff: dict[str, Any], patient: Any) -> tuple[Any, Any]:
    """An active course with a signed preparation note and a dosing session checked in."""
    from django.utils import timezone

    from kapflow.courses import services as courses
    from kapflow.courses.models import CourseStatus
    from kapflow.dosing.services import session_check_in

    therapist, today = staff["therapist"], timezone.localdate()
    course = courses.course_create(
        member=therapist,
        patient=patient,
        route="sublingual",
        planned_dosing_sessions=6,
        therapist_ids=[therapist.user_id],
        medical_ids=[staff["nurse"].user_id],
        starts_on=today,
    )
    course = courses.course_set_status(member=therapist, course=course, status=CourseStatus.ACTIVE)
    visit = courses.visit_create(member=therapist, course=course, kind="preparation", happened_on=today)
    note = courses.note_save_draft(
        member=therapist, note=visit.note, content={"readiness": "Ready."}, base_version=visit.note.version
    )
    note = courses.note_sign(member=therapist, note=note, base_version=note.version)
    return note, session_check_in(member=staff["nurse"], course=course)


def prepare_clinic() -> Targets:
    """Migrate, then make what the writers need through the services, as staff would: a clinic,
    a patient with the therapist and nurse on the care team, a signed note, a dosing session in
    progress, and a read-write API token for each writer."""
    import django
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    from kapflow.api.tokens import token_create
    from kapflow.clinics.models import Clinic
    from kapflow.patients import services as patients

    call_command("migrate", interactive=False, verbosity=0)
    clinic = Clinic.objects.create(slug="crash", name="Crash Test Clinic", time_zone="UTC")
    staff = _staff(clinic)
    patient = patients.patient_create(
        member=staff["front_desk"],
        data={
            "legal_given_name": "Jordan",
            "legal_family_name": "Rivera",
            "date_of_birth": date(1986, 4, 12),
        },
    )
    for role in ("therapist", "nurse"):
        patients.care_team_add(member=staff["front_desk"], patient=patient, membership_id=staff[role].pk)
    note, session = _course_in_progress(staff, patient)
    tokens = {}
    for kind, role in WRITERS.items():
        member = staff[role]
        tokens[kind] = token_create(user=member.user, membership=member, name="crash test", read_only=False)[
            1
        ]
    connections.close_all()  # hold nothing open while servers are killed
    return Targets(tokens=tokens, session_id=str(session.public_id), note_id=str(note.public_id))


# --- Traffic ------------------------------------------------------------------------------


class NotSent(Exception):
    """The connection was refused: the request never reached a server."""


def payload(kind: str, marker: str, rng: random.Random) -> dict[str, Any]:
    if kind == "patient":
        born = date(rng.randint(1940, 2004), rng.randint(1, 12), rng.randint(1, 28))
        return {
            "legal_given_name": "Crash",
            "legal_family_name": marker,
            "date_of_birth": born.isoformat(),
            "sex_at_birth": rng.choice(["female", "male", "intersex", "unknown", "declined"]),
            "email": f"{marker.lower()}@example.org",
            "phone": f"+1 303 555 {rng.randint(1000, 9999)}",
        }
    if kind == "reading":
        return {
            "kind": "vitals",
            "systolic": rng.randint(105, 135),
            "diastolic": rng.randint(65, 85),
            "heart_rate": rng.randint(55, 95),
            "spo2": rng.randint(95, 100),
            "note": marker,
        }
    return {"text": f"{marker} Addendum written while the server was being killed."}


def path_of(kind: str, targets: Targets) -> str:
    return {
        "patient": "/api/v1/patients/",
        "reading": f"/api/v1/dosing-sessions/{targets.session_id}/readings/",
        "addendum": f"/api/v1/notes/{targets.note_id}/addenda/",
    }[kind]


def post(port: int, path: str, token: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        try:
            conn.connect()
        except ConnectionRefusedError:
            raise NotSent() from None
        conn.request(
            "POST",
            path,
            body=json.dumps(body),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        answer = response.read()
        return response.status, json.loads(answer) if answer else {}
    finally:
        conn.close()


def client(
    number: int, cycle: int, port: int, targets: Targets, journal: Journal, stop: threading.Event, seed: int
) -> None:
    """Write until told to stop; the server's death shows as cut-off and refused connections."""
    rng = random.Random(seed)
    sequence = 0
    while not stop.is_set():
        kind = KINDS[(number + sequence) % len(KINDS)]
        marker = f"C{cycle:03d}-{number}-{sequence:05d}"
        sequence += 1
        write = Write(kind=kind, marker=marker, sent=payload(kind, marker, rng))
        try:
            status, body = post(port, path_of(kind, targets), targets.tokens[kind], write.sent)
        except NotSent:
            time.sleep(0.02)
            continue
        except (OSError, http.client.HTTPException, ValueError):
            write.outcome = "unknown"
        else:
            write.status = status
            write.outcome = "acknowledged" if 200 <= status < 300 else "refused"
            write.public_id = body.get("id")
        journal.add(write)


# --- The server ---------------------------------------------------------------------------


def kapflow_command() -> list[str]:
    script = Path(sys.executable).with_name("kapflow")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kapflow.cli"]


def answers(port: int) -> bool:
    """Whether anything accepts connections on the port."""
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def live_members(pgid: int) -> list[int]:
    """Processes of the group still alive (a zombie is dead, only not yet reaped)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (command) state ppid pgrp ...": the command may hold spaces, so split after ")".
        state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == pgid and state not in {"Z", "X"}:
            found.append(int(entry.name))
    return found


class ServerError(Exception):
    pass


class Server:
    """``kapflow serve`` in a process group of its own, so one killpg reaches every worker."""

    def __init__(self, port: int, env: dict[str, str], log_path: Path) -> None:
        self.port = port
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Start and wait for /healthz; returns the seconds it took."""
        if answers(self.port):
            raise ServerError(f"something already answers on port {self.port}")
        started = time.monotonic()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*kapflow_command(), "serve", "--port", str(self.port), "--workers", str(WORKERS)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        while time.monotonic() - started < START_TIMEOUT:
            if self.process.poll() is not None:
                raise ServerError(f"the server exited with code {self.process.returncode}\n{self.log_tail()}")
            if healthy(self.port):
                return time.monotonic() - started
            time.sleep(0.05)
        raise ServerError(f"no answer from /healthz within {START_TIMEOUT:.0f} s\n{self.log_tail()}")

    def kill(self) -> list[int]:
        """SIGKILL the whole group; returns the processes (or port) still alive 10 s later."""
        if self.process is None:
            return []
        pgid = self.process.pid  # start_new_session: the master leads its own group
        with contextlib.suppress(ProcessLookupError):  # it died on its own
            os.killpg(pgid, signal.SIGKILL)
        self.process.wait()
        self.process = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            survivors = live_members(pgid)
            if not survivors and not answers(self.port):
                return []
            time.sleep(0.05)
        return live_members(pgid) or [-1]  # -1: the port still answers

    def log_tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


@dataclass
class Run:
    cycles_survived: int = 0
    failures: list[str] = field(default_factory=list)  # a server that did not start, or lived on


def cycle(
    number: int,
    args: argparse.Namespace,
    server: Server,
    targets: Targets,
    journal: Journal,
    rng: random.Random,
) -> str:
    """One start-write-kill cycle; returns a line for the progress log."""
    up = server.start()
    before = len(journal.writes)
    stop = threading.Event()
    clients = [
        threading.Thread(
            target=client,
            args=(n, number, args.port, targets, journal, stop, rng.randrange(2**32)),
            daemon=True,
        )
        for n in range(args.clients)
    ]
    for thread in clients:
        thread.start()
    delay = rng.uniform(*KILL_DELAY)
    time.sleep(delay)
    stop.set()  # no request starts after the kill; those in flight are cut off by it
    survivors = server.kill()
    for thread in clients:
        thread.join(REQUEST_TIMEOUT + 5)
    if survivors:
        raise ServerError(
            f"processes {survivors} of the killed server lived on (-1: the port still answered)"
        )
    written = journal.writes[before:]
    acknowledged = sum(w.outcome == "acknowledged" for w in written)
    unknown = sum(w.outcome == "unknown" for w in written)
    return f"up in {up:.1f} s, killed after {delay:.2f} s: {acknowledged} acknowledged, {unknown} cut off"


def run_cycles(args: argparse.Namespace, server: Server, targets: Targets, journal: Journal) -> Run:
    rng = random.Random(args.seed)
    run = Run()
    try:
        for number in range(1, args.cycles + 1):
            line = cycle(number, args, server, targets, journal, rng)
            run.cycles_survived += 1
            print(f"cycle {number}/{args.cycles}: {line}", flush=True)
    except ServerError as exc:
        run.failures.append(f"cycle {run.cycles_survived + 1}: {exc}")
    finally:
        server.kill()
    return run


# --- Report -------------------------------------------------------------------------------


def figures(
    args: argparse.Namespace, run: Run, journal: Journal, unknown: Counter[str]
) -> list[tuple[str, str]]:
    acknowledged = journal.having("acknowledged")
    by_kind = Counter(w.kind for w in acknowledged)
    cut_off = len(journal.having("unknown"))
    return [
        ("database", "postgresql" if args.database_url else "sqlite"),
        ("cycles survived", f"{run.cycles_survived}/{args.cycles}"),
        (
            "writes acknowledged",
            f"{len(acknowledged)} (patients {by_kind['patient']}, readings {by_kind['reading']}, "
            f"addenda {by_kind['addendum']})",
        ),
        (
            "writes cut off by the kill",
            f"{cut_off}: {unknown['present']} present and whole, {unknown['absent']} absent",
        ),
    ]


def report(figure_rows: list[tuple[str, str]], checks: list[Check]) -> None:
    width = max(len(name) for name in [*(f[0] for f in figure_rows), *(c.name for c in checks)]) + 2
    print()
    for name, value in figure_rows:
        print(f"{name:<{width}}{value}")
    print()
    print(f"{'check':<{width}}result")
    for check in checks:
        result = "ok" if check.passed else "FAILED"
        print(f"{check.name:<{width}}{result}{'  ' + check.detail if check.detail else ''}")


def run_checks(
    args: argparse.Namespace, env: dict[str, str], run: Run, journal: Journal, targets: Targets
) -> tuple[list[Check], Counter[str]]:
    """Every check, in the order of the table, and what became of the cut-off writes."""
    found = checks.rows_by_marker(targets.session_id, targets.note_id)
    write_checks, unknown = checks.check_writes(journal.writes, found)
    done = [
        Check("server restarted after every kill, none lived on", not run.failures, "; ".join(run.failures)),
        *write_checks,
        *(checks.check_postgres() if args.database_url else checks.check_sqlite()),
        checks.check_audit_verify(kapflow_command(), env),
        *checks.check_audit_entries(targets.session_id, targets.note_id, found),
    ]
    return done, unknown


def stopped(signum: int, _frame: Any) -> None:
    """SIGTERM (a test's timeout, a CI job cancelled): unwind, so that ``run_cycles`` kills the
    server it started. The server is in a session of its own: nothing else would reach it."""
    raise SystemExit(f"crash_safety: stopped by signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, stopped)
    data_dir = fresh_data_dir(args.data_dir)
    env = environment(data_dir, args.database_url)
    os.environ.clear()
    os.environ.update(env)  # this process reads the same database as the server
    print(f"crash safety: {args.cycles} cycles, {args.clients} clients, seed {args.seed}, data in {data_dir}")
    clock = [time.monotonic()]
    if args.database_url:
        recreate_postgres(args.database_url)
    targets = prepare_clinic()
    clock.append(time.monotonic())
    journal = Journal()
    run = run_cycles(args, Server(args.port, env, data_dir / "server.log"), targets, journal)
    clock.append(time.monotonic())
    results, unknown = run_checks(args, env, run, journal, targets)
    clock.append(time.monotonic())
    setup, cycles, checking = (b - a for a, b in itertools.pairwise(clock))
    took = (
        f"{clock[-1] - clock[0]:.0f} s (setup {setup:.0f} s, cycles {cycles:.0f} s, checks {checking:.0f} s)"
    )
    report([*figures(args, run, journal, unknown), ("wall time", took)], results)
    failed = [c.name for c in results if not c.passed]
    cleanup(args, data_dir, keep=args.keep or bool(failed))
    if failed:
        print(f"\nFAILED: {'; '.join(failed)}")
        return 1
    print("\nPASSED")
    return 0


def cleanup(args: argparse.Namespace, data_dir: Path, *, keep: bool) -> None:
    from django.db import connections

    connections.close_all()
    if keep:
        print(f"kept for inspection: {data_dir}" + (f" and {args.database_url}" if args.database_url else ""))
        return
    if args.database_url:
        drop_postgres(args.database_url)
    if args.data_dir is None:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
