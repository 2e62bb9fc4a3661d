"""FHIR bulk export speed and memory on an already-seeded network (issue #12: at least 5,000
resources per second, with memory that stays flat as the export grows).

Two ``$export`` jobs of the clinic with the most patients, each every resource type, each
written by the worker's task (``kapflow.fhir.tasks.run_export``) in a fresh process: a cohort
of median size (``Group/cohort-YYYY-MM``) and the whole clinic, tens of times more.
For each: resources written, seconds, resources per second (also per second of the process's
own CPU time, which the other load on the machine does not change), the process's peak RSS
and how far it rose above the RSS it had before the export started. The targets: at least
``--target`` resources per second for the whole clinic, and its peak RSS within 10 % of the
cohort's. Exit status 1 when either is missed.

It writes the jobs' rows and files (both removed afterwards): give it a seeded network of its
own (``kapflow seed``), as a data directory (SQLite) or a DATABASE_URL:

    .venv/bin/python bench/export.py --data-dir /tmp/kf/net
    .venv/bin/python bench/export.py --database-url postgres://postgres@127.0.0.1:5432/kapflow_bench
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

from dashboard import _setup  # beside this script: the same database options

FLAT = 1.10  # the whole clinic's peak RSS may be at most this times the cohort's


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def export_once(slug: str, group_id: str) -> dict[str, Any]:
    """Write one export job (the whole clinic, or ``group_id``) as the worker does; remove it."""
    from kapflow.accounts.models import Membership
    from kapflow.core.roles import Role
    from kapflow.fhir import mapping
    from kapflow.fhir.export_services import remove_files
    from kapflow.fhir.models import ExportJob, ExportKind
    from kapflow.fhir.tasks import run_export

    admin = Membership.objects.select_related("clinic", "user").filter(
        clinic__slug=slug, role=Role.CLINIC_ADMIN
    )
    member = admin.first()
    if member is None:
        raise SystemExit(f"{slug} has no clinic admin to start the export")
    job = ExportJob.objects.create(
        clinic=member.clinic,
        requested_by=member.user,
        kind=ExportKind.GROUP if group_id else ExportKind.SYSTEM,
        group_id=group_id,
        types=list(mapping.RESOURCE_TYPES),
        request_url="bench/export.py",
    )
    before = _rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    outcome = run_export.call(str(job.public_id))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    job.refresh_from_db()
    remove_files(job)
    job.delete()
    if not outcome.startswith("done"):
        raise SystemExit(f"the export of {slug} {group_id} ended: {outcome}")
    return {
        "resources": sum(job.counts.values()),
        "seconds": seconds,
        "cpu": cpu,
        "peak": peak,
        "growth": peak - before,
    }


def _child(args: argparse.Namespace, slug: str, group_id: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--clinic", slug, "--group", group_id]
    if args.data_dir:
        command += ["--data-dir", args.data_dir]
    if args.database_url:
        command += ["--database-url", args.database_url]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(
            f"the export of {slug} {group_id} failed:\n{done.stderr.strip() or done.stdout.strip()}"
        )
    found: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return found


def _largest() -> tuple[str, int, str, int]:
    """The clinic with the most patients, and its cohort of median size."""
    from django.db.models import Count

    from kapflow.clinics.models import Clinic
    from kapflow.fhir import mapping
    from kapflow.patients.models import Patient

    sizes = Patient.objects.filter(voided_at__isnull=True).values("clinic").annotate(n=Count("pk"))
    largest = sizes.order_by("-n", "clinic").first()
    if largest is None:
        raise SystemExit("the database has no patient: seed it first (kapflow seed)")
    clinic = Clinic.objects.get(pk=largest["clinic"])
    cohorts = {group: mapping.group_patients(clinic, group).count() for group in mapping.group_ids(clinic)}
    if not cohorts:
        raise SystemExit(f"{clinic.slug} has no treatment course, so no cohort to export")
    by_size = sorted(cohorts, key=lambda group: (cohorts[group], group))
    cohort = by_size[len(by_size) // 2]
    return clinic.slug, largest["n"], cohort, cohorts[cohort]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="KAPFLOW_DATA_DIR of the seeded network (SQLite)")
    parser.add_argument("--database-url", help="a seeded PostgreSQL database instead")
    parser.add_argument("--target", type=int, default=5000, help="resources per second of the whole clinic")
    parser.add_argument("--clinic", help=argparse.SUPPRESS)  # one export, in a child process
    parser.add_argument("--group", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.data_dir and not args.database_url:
        parser.error("give --data-dir or --database-url")
    _setup(args)
    if args.clinic:
        print(json.dumps(export_once(args.clinic, args.group)))
        return 0

    slug, patients, cohort, members = _largest()
    where = args.database_url.rsplit("@", 1)[-1] if args.database_url else f"sqlite {args.data_dir}"
    print(
        f"FHIR $export of every type, {where}: clinic {slug} ({patients:,} patients), each in a fresh process"
    )
    print(
        f"{'export':<36}{'resources':>10}{'seconds':>9}{'per s':>8}{'per CPU s':>10}{'peak RSS':>10}{'growth':>8}"
    )
    results = {}
    for label, group_id in ((f"Group/{cohort} ({members} patients)", cohort), ("the whole clinic", "")):
        r = results[label] = _child(args, slug, group_id)
        print(
            f"{label:<36}{r['resources']:>10,}{r['seconds']:>9.1f}{r['resources'] / r['seconds']:>8,.0f}"
            f"{r['resources'] / r['cpu']:>10,.0f}{r['peak']:>7.0f} MB{r['growth']:>+5.0f} MB"
        )
    small, big = results.values()
    rate = big["resources"] / big["seconds"]
    flat = big["peak"] <= FLAT * small["peak"]
    print(
        f"target: at least {args.target:,} resources/s: {'met' if rate >= args.target else 'MISSED'} "
        f"({rate:,.0f}); memory flat ({big['resources'] / small['resources']:.0f} times the resources, "
        f"peak RSS at most {FLAT:.2f} times): {'met' if flat else 'MISSED'} ({big['peak'] / small['peak']:.2f})"
    )
    return 0 if rate >= args.target and flat else 1


if __name__ == "__main__":
    sys.exit(main())
