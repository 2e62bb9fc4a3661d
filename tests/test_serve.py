"""``kapflow serve``: gunicorn forks its workers from the process that ran the migrations."""

from __future__ import annotations

import pytest
from django.db import connections
from gunicorn.app.base import BaseApplication

from kapflow import cli


@pytest.mark.django_db(transaction=True)
def test_the_workers_inherit_no_database_connection_from_the_migrations(monkeypatch):
    """A connection left open by ``migrate`` would be shared by every forked worker: on
    PostgreSQL their statements then mix in one session, so one worker's COMMIT could commit
    another's half-done write (the crash test found patients saved without their access-log
    entry, and hundreds of 500s)."""
    open_at_fork: dict[str, bool] = {}

    def run(server: BaseApplication) -> None:  # where gunicorn would fork the workers
        open_at_fork.update({c.alias: c.connection is not None for c in connections.all()})

    monkeypatch.setattr(BaseApplication, "run", run)
    cli.serve("127.0.0.1", 8022, 2)

    assert open_at_fork == {"default": False}


@pytest.mark.django_db(transaction=True)
def test_the_server_masks_its_access_log_and_opens_no_control_socket(monkeypatch):
    """Two kapflow servers on one host (a clinic's and a benchmark's) must not take gunicorn's
    per-user control socket from each other; the access log is kapflow's masking logger."""
    seen: dict[str, object] = {}

    def run(server: BaseApplication) -> None:
        seen.update(
            control_socket_disable=server.cfg.control_socket_disable,
            logger_class=server.cfg.settings["logger_class"].value,
            workers=server.cfg.workers,
        )

    monkeypatch.setattr(BaseApplication, "run", run)
    cli.serve("127.0.0.1", 8022, 2)

    assert seen == {
        "control_socket_disable": True,
        "logger_class": "kapflow.core.logs.AccessLogger",
        "workers": 2,
    }
