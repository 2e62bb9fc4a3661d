"""The ``kapflow`` command: serve, worker, demo, seed, audit verify, and Django's commands under ``manage``."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapflow.settings")
    from kapflow.env import ConfigurationError

    try:
        import django

        django.setup()
    except ConfigurationError as exc:
        sys.stderr.write(f"kapflow: configuration error: {exc}\n")
        raise SystemExit(2) from None


def serve(host: str, port: int, workers: int) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    call_command("migrate", interactive=False, verbosity=0)
    if settings.PRODUCTION:
        call_command("collectstatic", interactive=False, verbosity=0)
    # gunicorn forks the workers from this process: a connection left open here would be one
    # database session shared by all of them (their transactions would mix). Each opens its own.
    connections.close_all()

    from kapflow.core.logs import ACCESS_LOG_FORMAT
    from kapflow.wsgi import application

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            # Method, path (secret segments masked), status, size, time: no query string or referrer.
            self.cfg.set("logger_class", "kapflow.core.logs.AccessLogger")
            self.cfg.set("access_log_format", ACCESS_LOG_FORMAT)
            self.cfg.set("timeout", 60)
            # gunicorn's control socket is one path per user ($HOME/.gunicorn/gunicorn.ctl), which
            # several kapflow servers on one host would take from each other; kapflow needs none.
            self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:
            return application

    sys.stdout.write(f"kapflow is serving on http://{host}:{port}/ (Ctrl+C stops it)\n")
    sys.stdout.flush()
    Server().run()


def _parser() -> argparse.ArgumentParser:
    """The ``kapflow`` command line: one sub-command per job."""
    parser = argparse.ArgumentParser(prog="kapflow", description="Run and look after a kapflow clinic.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="migrate the database, then serve kapflow")
    serve_parser.add_argument("--host", default=os.environ.get("KAPFLOW_HOST", "127.0.0.1"))
    serve_parser.add_argument("--port", type=int, default=int(os.environ.get("KAPFLOW_PORT", "8000")))
    serve_parser.add_argument("--workers", type=int, default=int(os.environ.get("KAPFLOW_WORKERS", "2")))
    commands.add_parser(
        "worker",
        help="run the background task worker (email reminders); options go to db_worker, e.g. --batch",
        add_help=False,
    )
    commands.add_parser("demo", help="create or refresh the demo clinic (refused in production)")
    seed_parser = commands.add_parser("seed", help="create a synthetic clinic network for benchmarks")
    seed_parser.add_argument("--clinics", type=int, default=25)
    seed_parser.add_argument("--patients", type=int, default=50_000)
    seed_parser.add_argument(
        "--seed", type=int, default=1, help="the same seed on the same day, the same network"
    )
    seed_parser.add_argument("--quiet", action="store_true", help="no progress bar")
    audit_parser = commands.add_parser("audit", help="the access log")
    audit_parser.add_argument("audit_command", choices=["verify"])
    token_parser = commands.add_parser("token", help="personal API tokens")
    token_parser.add_argument("token_command", choices=["create"])
    token_parser.add_argument("email")
    token_parser.add_argument("--read-only", action="store_true", help="can read but not change records")
    token_parser.add_argument("--name", default="command line", help="what the token is for")
    token_parser.add_argument("--clinic", help="the clinic's slug, when the person works at several")
    backup_parser = commands.add_parser("backup", help="back up the database into one file (safe in use)")
    backup_parser.add_argument("path")
    backup_parser.add_argument("--force", action="store_true", help="replace PATH if it exists")
    backup_parser.add_argument("--verify", action="store_true", help="check the backup at PATH instead")
    restore_parser = commands.add_parser("restore", help="restore a backup into an empty database, verified")
    restore_parser.add_argument("path")
    commands.add_parser("manage", help="run a Django management command", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    if argv[:1] == ["manage"]:
        _setup()
        from django.core.management import execute_from_command_line

        execute_from_command_line(["kapflow manage", *argv[1:]])
        return
    if argv[:1] == ["worker"]:
        # The database task worker of django-tasks; every option is db_worker's own
        # (--batch: run what is due, then exit; --interval, --max-tasks, --queue-name ...).
        _setup()
        from django.core.management import execute_from_command_line

        execute_from_command_line(["kapflow", "db_worker", *argv[1:]])
        return
    args = parser.parse_args(argv)
    _setup()
    from django.core.management import CommandError, call_command

    try:
        if args.command == "serve":
            serve(args.host, args.port, args.workers)
        elif args.command == "demo":
            call_command("demo")
        elif args.command == "seed":
            call_command(
                "seed", clinics=args.clinics, patients=args.patients, seed=args.seed, quiet=args.quiet
            )
        elif args.command == "audit":
            call_command("audit_verify")
        elif args.command == "token":
            options = {"read_only": args.read_only, "name": args.name}
            if args.clinic:
                options["clinic"] = args.clinic
            call_command("token", args.token_command, args.email, **options)
        elif args.command == "backup":
            call_command("backup", args.path, force=args.force, verify=args.verify)
        elif args.command == "restore":
            call_command("restore", args.path)
    except CommandError as exc:
        # A failed check is an answer, not a crash: say why and exit non-zero, no traceback.
        sys.stderr.write(f"kapflow: {exc}\n")
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
