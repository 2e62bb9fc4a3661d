"""How long the outcomes dashboard takes on an already-seeded network (issue #12: under 1 s).

The dashboard is per clinic; there is no network-wide page. So for every clinic of the
database, its admin asks for ``/c/<clinic>/outcomes/`` through Django's test client (the
middleware, the view with its access-log entry, the template; no web server), for the default
period (the last twelve months) and for the whole history (from 2000-01-01). Each clinic is
measured in a fresh process that has loaded the application as ``kapflow serve`` does: cold is
the first request after that start (new database connection, nothing cached), warm the best
of the next ``--repeat``; the median of ``--runs`` such processes counts, so that one burst of
other work on the machine does not make a clinic the worst. Printed: every clinic, the worst
clinic and the sum over all clinics (what one view over the whole network would cost). Exit
status 1 when the worst clinic takes ``--target`` seconds or more, cold or warm.

It signs each admin in (a session row) and every request writes an access-log entry: give it a
seeded network of its own (``kapflow seed``), as a data directory (SQLite) or a DATABASE_URL:

    .venv/bin/python bench/dashboard.py --data-dir /tmp/kf/net
    .venv/bin/python bench/dashboard.py --database-url postgres://postgres@127.0.0.1:5432/kapflow_bench
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from statistics import median

PERIODS = ("last 12 months", "whole history")


def _setup(args: argparse.Namespace) -> None:
    os.environ["KAPFLOW_DATA_DIR"] = args.data_dir or tempfile.mkdtemp(prefix="kapflow-bench-")
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapflow.settings")
    import django

    django.setup()


def measure_clinic(slug: str, repeat: int) -> dict[str, tuple[float, float]]:
    """(cold, warm) seconds of each period's page for the clinic's admin, in this process."""
    from django.test import Client

    import kapflow.wsgi  # noqa: F401 - what `kapflow serve` loads before its workers answer
    from kapflow.accounts.models import Membership
    from kapflow.core.roles import Role
    from kapflow.outcomes.forms import default_period

    admin = Membership.objects.filter(clinic__slug=slug, role=Role.CLINIC_ADMIN, is_active=True).first()
    if admin is None:
        raise SystemExit(f"{slug} has no active clinic admin to ask for its dashboard")
    client = Client()
    client.force_login(admin.user)
    today = default_period()["end"]
    queries = {
        PERIODS[0]: {},  # the form's default: the last twelve months
        PERIODS[1]: {"start": date(2000, 1, 1).isoformat(), "end": today.isoformat()},
    }
    found = {}
    for period, query in queries.items():
        times = []
        for _ in range(1 + repeat):
            started = time.perf_counter()
            response = client.get(f"/c/{slug}/outcomes/", query)
            times.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"/c/{slug}/outcomes/ answered {response.status_code}")
        found[period] = (times[0], min(times[1:]))
    return found


def _child(args: argparse.Namespace, slug: str) -> dict[str, tuple[float, float]]:
    command = [sys.executable, __file__, "--clinic", slug, "--repeat", str(args.repeat)]
    if args.data_dir:
        command += ["--data-dir", args.data_dir]
    if args.database_url:
        command += ["--database-url", args.database_url]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"measuring {slug} failed:\n{done.stderr.strip() or done.stdout.strip()}")
    return {period: tuple(value) for period, value in json.loads(done.stdout.splitlines()[-1]).items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="KAPFLOW_DATA_DIR of the seeded network (SQLite)")
    parser.add_argument("--database-url", help="a seeded PostgreSQL database instead")
    parser.add_argument("--repeat", type=int, default=3, help="warm requests per period (the best counts)")
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per clinic (the median counts)")
    parser.add_argument("--target", type=float, default=1.0, help="seconds the worst clinic must stay under")
    parser.add_argument("--clinic", help=argparse.SUPPRESS)  # one clinic, in a child process
    args = parser.parse_args()
    if not args.data_dir and not args.database_url:
        parser.error("give --data-dir or --database-url")
    _setup(args)
    if args.clinic:
        print(json.dumps(measure_clinic(args.clinic, args.repeat)))
        return 0

    from kapflow.clinics.models import Clinic

    slugs = list(Clinic.objects.order_by("slug").values_list("slug", flat=True))
    where = args.database_url.rsplit("@", 1)[-1] if args.database_url else f"sqlite {args.data_dir}"
    print(
        f"Outcomes dashboard, {where}: {len(slugs)} clinics, median of {args.runs} fresh processes each (seconds)"
    )
    print(f"{'clinic':<16}" + "".join(f"{p + ' cold':>22}{'warm':>8}" for p in PERIODS))
    results = {}
    for slug in slugs:
        runs = [_child(args, slug) for _ in range(args.runs)]
        results[slug] = {
            period: (median(run[period][0] for run in runs), median(run[period][1] for run in runs))
            for period in PERIODS
        }
        print(
            f"{slug:<16}"
            + "".join(f"{results[slug][p][0]:>22.3f}{results[slug][p][1]:>8.3f}" for p in PERIODS)
        )
    worst_time = 0.0
    for period in PERIODS:
        cold = max(slugs, key=lambda s: results[s][period][0])
        warm = max(slugs, key=lambda s: results[s][period][1])
        print(
            f"{period}: worst clinic cold {results[cold][period][0]:.3f} ({cold}), "
            f"warm {results[warm][period][1]:.3f} ({warm}); all {len(slugs)} clinics "
            f"cold {sum(results[s][period][0] for s in slugs):.2f}, "
            f"warm {sum(results[s][period][1] for s in slugs):.2f}"
        )
        worst_time = max(worst_time, results[cold][period][0], results[warm][period][1])
    met = worst_time < args.target
    print(f"target: the worst clinic under {args.target:g} s: {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
