"""Performance at clinic-network scale: the pages and endpoints a clinic lives in, served by the
production server, measured against the same server's floor.

One run, on SQLite (a fresh temporary data directory) or on PostgreSQL (``--database-url``,
a database that is DROPPED and created again):

1. ``kapflow manage migrate``, then ``kapflow seed`` loads a synthetic network (timed);
   on PostgreSQL, ``ANALYZE`` then gathers the statistics autovacuum would have;
2. targets are chosen from the database (``endpoints.py``): for every page and endpoint up
   to 200 (path, person) pairs spread over every clinic, each person allowed to see it (a
   clinician on the patient's care team for a patient's pages), signed in through a session
   of their own (past two-factor sign-in) or with a read-only API token;
3. ``kapflow serve --workers 2`` (gunicorn) starts with production settings
   (``KAPFLOW_ENV=production``: DEBUG off, two-factor sign-in required, HTTPS as behind a TLS
   proxy, so every request carries ``X-Forwarded-Proto: https``), the API rate limit raised
   so that no request is answered 429, the access log in a file (``drive.py``);
4. every target is asked once with a plain request: anything but 200 stops the run;
5. for each endpoint in turn: wait until the server has worked off the last run, ask every
   target once more (warm-up, and keeps the sessions from the idle timeout), ``--warmup``
   seconds of load, then ``--duration`` seconds measured by ``wrk`` (another process, on
   loopback) with ``--connections`` connections, each request a random pair of the endpoint
   (``wrk_targets.lua``). The floor, ``/healthz`` (a trivial JSON view behind the same
   middleware), is measured first and last; the floor is their mean;
6. a table: p50 and p95 latency, requests per second, throughput as a share of the floor,
   and whether the targets are met: p95 under 100 ms; at least 10 % of the floor for HTML
   pages, 20 % for API and FHIR reads; no answer other than 2xx, no socket error.

The server is stopped at the end, on an error and on Ctrl+C; the PostgreSQL database is
dropped and the data directory removed (both kept with ``--keep``; the data directory, with
the server's log, is also kept after an error). Exit status 1 after an error (a non-2xx
answer, a socket error, a target refused, the server failing) and, with ``--strict``, when
any target is missed.

Run it from the repository root with the project's virtualenv (``make bench`` runs both):

    .venv/bin/python bench/run.py --clinics 25 --patients 50000
    .venv/bin/python bench/run.py --database-url postgres://postgres@127.0.0.1:5432/kapflow_bench
    .venv/bin/python bench/run.py --clinics 2 --patients 500 --duration 3 --json results.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import drive  # beside this script
import endpoints as bench
from crash_safety import REFUSED_DATABASES, drop_postgres, kapflow_command, recreate_postgres
from drive import BenchError, BenchServer

P95_TARGET_MS = 100.0
FLOOR_SHARE = {"html": 0.10, "api": 0.20, "fhir": 0.20}  # throughput as a share of the floor
PROXY_HEADERS = ("X-Forwarded-Proto: https",)  # what the TLS proxy in front of kapflow adds


# --- Arguments, environment, database -----------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clinics", type=int, default=25)
    parser.add_argument("--patients", type=int, default=50000)
    parser.add_argument("--seed", type=int, default=1, help="seeds the network and the choice of targets")
    parser.add_argument("--database-url", default="", help="a PostgreSQL database to drop and create")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per endpoint")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before each measurement")
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--keep", action="store_true", help="keep the data directory and database")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.port == 8000:
        parser.error("port 8000 is the development server's; choose another")
    if min(args.clinics, args.patients, args.connections, args.duration) < 1 or args.warmup < 0:
        parser.error("--clinics, --patients, --connections and --duration must be at least 1")
    if args.database_url:
        url = urlsplit(args.database_url)
        if url.scheme not in {"postgres", "postgresql"}:
            parser.error("--database-url must be a postgres:// URL (SQLite is the default)")
        if url.path.lstrip("/") in REFUSED_DATABASES:
            parser.error(f"refusing to drop the database {url.path.lstrip('/')!r}: name one of its own")
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed; on Debian: sudo apt-get install wrk")
    return args


def environment(data_dir: Path, database_url: str, secret_key: str, *, production: bool) -> dict[str, str]:
    """The environment of the kapflow commands: nothing inherited from KAPFLOW_*. The server
    runs as in production; migrate and seed run as development (seed refuses production)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KAPFLOW_") and k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        KAPFLOW_ENV="production" if production else "development",
        KAPFLOW_DATA_DIR=str(data_dir),
        KAPFLOW_SECRET_KEY=secret_key,
        KAPFLOW_ALLOWED_HOSTS="127.0.0.1,localhost",
        # Per token per minute: the benchmark's few tokens ask far more often than people do.
        KAPFLOW_API_RATE_LIMIT="1000000000",
        DJANGO_SETTINGS_MODULE="kapflow.settings",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def load_network(args: argparse.Namespace, env: dict[str, str]) -> float:
    """Migrate, then seed the network; returns the seconds the seed took."""
    subprocess.run([*kapflow_command(), "manage", "migrate", "--noinput", "-v", "0"], env=env, check=True)
    command = [
        "seed",
        "--clinics",
        str(args.clinics),
        "--patients",
        str(args.patients),
        "--seed",
        str(args.seed),
    ]
    print(f"$ kapflow {' '.join(command)}", flush=True)
    started = time.monotonic()
    subprocess.run([*kapflow_command(), *command], env=env, check=True)
    took = time.monotonic() - started
    print(f"seeded {args.clinics} clinics and {args.patients} patients in {took:.1f} s", flush=True)
    return took


def analyze() -> None:
    """PostgreSQL: gather the planner's statistics, as autovacuum does in a database in use. A
    database loaded a moment ago has none (and this server may run without autovacuum): every
    table looks like one row and the planner picks nested loops that take seconds."""
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"analyzed the database in {time.monotonic() - started:.1f} s", flush=True)


def database_version(database_url: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if database_url else "SELECT 'SQLite ' || sqlite_version()")
        row = cursor.fetchone()
    return str(row[0]).split(" on ")[0] if row else "?"


# --- Targets ------------------------------------------------------------------------------


def choose_targets(seed: int) -> list[bench.Endpoint]:
    """Every endpoint with its pairs, each pair signed in (sessions and tokens are written now)."""
    from django.db import connections

    started = time.monotonic()
    network = bench.load_network()
    chosen = bench.endpoints(network, seed)
    bench.sign_in(chosen)
    connections.close_all()  # the server's workers open their own
    sessions = sum(len(e.pairs) for e in chosen if e.kind == "html")
    print(f"chose targets and signed in {sessions} sessions in {time.monotonic() - started:.1f} s")
    return chosen


def request_lines(endpoint: bench.Endpoint) -> list[drive.Line]:
    """Each pair as a request: its path, then its headers as "Name: value"."""
    return [
        [pair.path, *PROXY_HEADERS, *([pair.credential] if pair.credential else []), *endpoint.headers]
        for pair in endpoint.pairs
    ]


def refuse_unless_ok(port: int, chosen: list[bench.Endpoint], server: BenchServer) -> float:
    """Ask every target once; refuse to measure unless each answers 200 (a benchmark of 403
    pages or sign-in redirects is worthless). Returns the seconds it took."""
    started = time.monotonic()
    empty = [e.name for e in chosen if not e.pairs]
    if empty:
        raise BenchError(f"the network has nothing to ask for: {', '.join(empty)}")
    refused = [f"{e.name}: {line}" for e in chosen for line in drive.not_ok(port, request_lines(e))]
    if refused:
        shown = "\n  ".join(refused[:10])
        more = f"\n  ... and {len(refused) - 10} more" if len(refused) > 10 else ""
        raise BenchError(
            f"{len(refused)} target(s) did not answer 200:\n  {shown}{more}{server.tracebacks()}"
        )
    return time.monotonic() - started


# --- Measuring ----------------------------------------------------------------------------


@dataclass
class Measured:
    name: str
    kind: str
    targets: int
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    rps: float
    non_2xx: int
    socket_errors: int
    share: float = 0.0  # of the floor's requests per second

    def misses(self) -> list[str]:
        """The targets this endpoint misses, in words ([] when it meets them all)."""
        found = []
        if not self.requests:
            found.append(f"no request finished in {self.seconds:.0f} s")
        if self.non_2xx:
            found.append(f"{self.non_2xx} non-2xx")
        if self.socket_errors:
            found.append(f"{self.socket_errors} socket errors")
        if self.kind == "floor":
            return found
        if self.p95_ms >= P95_TARGET_MS:
            found.append(f"p95 >= {P95_TARGET_MS:.0f} ms")
        if self.share < FLOOR_SHARE[self.kind]:
            found.append(f"throughput < {FLOOR_SHARE[self.kind]:.0%} of floor")
        return found


def measure(endpoint: bench.Endpoint, args: argparse.Namespace, server: BenchServer) -> Measured:
    """Warm up (every target once, then ``--warmup`` seconds of load), then measure."""
    slug = endpoint.name.replace(" ", "_").replace("/", "_").replace("?", "").replace("=", "")
    targets = drive.write_targets(server.log_path.with_name(f"targets-{slug}.tsv"), request_lines(endpoint))
    drive.settle(args.port)
    if endpoint.kind != "floor":  # also keeps each session from the idle timeout
        refuse_unless_ok(args.port, [endpoint], server)
    load = {"connections": args.connections, "seed": args.seed}
    if args.warmup:
        drive.wrk(args.port, targets, seconds=args.warmup, **load)
    figures = drive.wrk(args.port, targets, seconds=args.duration, **load)
    seconds = figures["duration_us"] / 1e6
    return Measured(
        name=endpoint.name,
        kind=endpoint.kind,
        targets=len(endpoint.pairs),
        requests=figures["requests"],
        seconds=round(seconds, 2),
        p50_ms=figures["p50_us"] / 1000,
        p95_ms=figures["p95_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        max_ms=figures["max_us"] / 1000,
        rps=figures["requests"] / seconds if seconds else 0.0,
        non_2xx=figures["non_2xx"],
        socket_errors=figures["socket_errors"],
    )


def measure_all(
    chosen: list[bench.Endpoint], args: argparse.Namespace, server: BenchServer
) -> list[Measured]:
    """The floor first, every endpoint, the floor again; shares are of the floors' mean."""
    floor = bench.Endpoint("floor /healthz", "floor", [bench.Pair("/healthz", None)])
    results = []
    for endpoint in [floor, *chosen, floor]:
        result = measure(endpoint, args, server)
        print(
            f"  {result.name:<34} p50 {result.p50_ms:7.1f} ms  p95 {result.p95_ms:7.1f} ms"
            f"  {result.rps:8.1f} req/s",
            flush=True,
        )
        results.append(result)
    first, last = results[0], results[-1]
    results[0].name, results[-1].name = "floor /healthz (first)", "floor /healthz (last)"
    mean = (first.rps + last.rps) / 2
    for result in results:
        result.share = result.rps / mean if mean else 0.0
    return results


# --- Report -------------------------------------------------------------------------------


def table(results: list[Measured]) -> str:
    header = ("endpoint", "kind", "targets", "p50 ms", "p95 ms", "req/s", "of floor", "met")
    rows = [header]
    for r in results:
        misses = r.misses()
        met = "yes" if not misses else "no: " + ", ".join(misses)
        share = "" if r.kind == "floor" else f"{r.share:.1%}"
        p50, p95 = (f"{ms:.1f}" if r.requests else "-" for ms in (r.p50_ms, r.p95_ms))
        rows.append((r.name, r.kind, str(r.targets), p50, p95, f"{r.rps:.1f}", share, met))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    numbers = {2, 3, 4, 5, 6}  # right-aligned columns
    lines = []
    for row in rows:
        cells = [
            c.rjust(w) if i in numbers else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def report(args: argparse.Namespace, header: dict[str, str], results: list[Measured]) -> bool:
    """Print the figures and the table (and write the JSON); True if every target is met."""
    first, last = (r.rps for r in results if r.kind == "floor")
    header["floor"] = f"{(first + last) / 2:.1f} req/s (first {first:.1f}, last {last:.1f})"
    header["load average"] += ", after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    print()
    for name, value in header.items():
        print(f"{name + ':':<16}{value}")
    if abs(first - last) > 0.2 * max(first, last):
        print("warning: the floor moved by more than 20 % during the run: something else used the machine")
    print()
    print(table(results))
    missed = [r.name for r in results if r.misses()]
    print(f"\n{'every target met' if not missed else f'targets missed by {len(missed)} of {len(results)}'}")
    if args.json:
        # Not the database URL: it may hold a password.
        options = {k: v for k, v in vars(args).items() if k not in {"json", "keep", "strict", "database_url"}}
        results_json = [{**asdict(r), "misses": r.misses()} for r in results]
        written = {**header, "options": options, "floor_rps": (first + last) / 2, "results": results_json}
        args.json.write_text(json.dumps(written, indent=2) + "\n", encoding="utf-8")
    return not missed


# --- Main ---------------------------------------------------------------------------------


def stopped(signum: int, _frame: Any) -> None:
    """SIGTERM: unwind, so that the server (in a session of its own) is stopped."""
    raise SystemExit(f"bench: stopped by signal {signum}")


def run(args: argparse.Namespace, data_dir: Path) -> bool:
    secret_key = secrets.token_urlsafe(64)
    seed_env = environment(data_dir, args.database_url, secret_key, production=False)
    server_env = environment(data_dir, args.database_url, secret_key, production=True)
    if args.database_url:
        recreate_postgres(args.database_url)
    seed_seconds = load_network(args, seed_env)
    os.environ.clear()
    os.environ.update(server_env)  # this process signs people in on the server's database
    import django

    django.setup()
    if args.database_url:
        analyze()
    header = {
        "database": database_version(args.database_url),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Linux {platform.release()}",
        "network": f"{args.clinics} clinics, {args.patients} patients, seed {args.seed} "
        f"(seeded in {seed_seconds:.1f} s)",
        "load": f"wrk, {args.connections} connections, {args.duration} s per endpoint after {args.warmup} s",
        "server": f"kapflow serve --workers {drive.WORKERS} (gunicorn), KAPFLOW_ENV=production, port {args.port}",
        "load average": "before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()),
    }
    chosen = choose_targets(args.seed)
    log_path = data_dir / "server.log"
    server = BenchServer(args.port, server_env, log_path)
    try:
        print(f"server up in {server.start():.1f} s (its log: {log_path})", flush=True)
        took = refuse_unless_ok(args.port, chosen, server)
        print(
            f"asked each of {sum(len(e.pairs) for e in chosen)} targets once in {took:.0f} s: all 200",
            flush=True,
        )
        results = measure_all(chosen, args, server)
    finally:
        server.stop()
    met = report(args, header, results)
    failed = [r.name for r in results if r.non_2xx or r.socket_errors]
    if failed:
        print(f"errors in {', '.join(failed)}{server.tracebacks()}")
        raise BenchError("some requests failed; the data directory is kept")
    return met


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, stopped)
    data_dir = Path(tempfile.mkdtemp(prefix="kapflow-bench-"))
    what = "PostgreSQL " + urlsplit(args.database_url).path.lstrip("/") if args.database_url else "SQLite"
    print(f"kapflow benchmark on {what}, data in {data_dir}", flush=True)
    keep = args.keep
    try:
        met = run(args, data_dir)
        return 1 if args.strict and not met else 0
    except (BenchError, subprocess.CalledProcessError) as exc:
        keep = True
        print(f"\nbench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nbench: interrupted", file=sys.stderr)
        return 130
    finally:
        cleanup(args, data_dir, keep=keep)


def cleanup(args: argparse.Namespace, data_dir: Path, *, keep: bool) -> None:
    from django.apps import apps

    if apps.ready:
        from django.db import connections

        connections.close_all()
    if args.database_url and not args.keep:
        drop_postgres(args.database_url)
    if keep:
        print(f"kept: {data_dir}" + (f" and {args.database_url}" if args.keep and args.database_url else ""))
    else:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
