"""The server under test and the load on it, for ``run.py``: ``kapflow serve`` in a process
group of its own, plain requests (to check every target, and to wait for the server to
settle), and ``wrk`` with ``wrk_targets.lua``, whose figures it reads.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from crash_safety import answers, healthy, kapflow_command, live_members  # beside this script

LUA = Path(__file__).with_name("wrk_targets.lua")
WORKERS = 2
# In production ``kapflow serve`` runs collectstatic first, which compresses every static file
# again (about 40 s of CPU on a 2-core machine): the first answer can take minutes.
START_TIMEOUT = 600.0
CHECK_THREADS = 4
SETTLED = 0.1  # seconds: /healthz answering faster than this means nothing is queued before it

Line = Sequence[str]  # a request: its path, then its headers as "Name: value"


class BenchError(Exception):
    """The run cannot go on (the message says why)."""


class BenchServer:
    """``kapflow serve`` in a process group of its own, so that stopping it reaches every worker."""

    def __init__(self, port: int, env: dict[str, str], log_path: Path) -> None:
        self.port = port
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Start and wait for /healthz; returns the seconds it took."""
        if answers(self.port):
            raise BenchError(f"something already answers on port {self.port}; choose another --port")
        started = time.monotonic()
        with self.log_path.open("ab") as log:  # the access log too: not the terminal
            self.process = subprocess.Popen(
                [*kapflow_command(), "serve", "--port", str(self.port), "--workers", str(WORKERS)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        while time.monotonic() - started < START_TIMEOUT:
            if self.process.poll() is not None:
                raise BenchError(
                    f"the server exited with code {self.process.returncode}; see {self.log_path}"
                )
            if healthy(self.port):
                return time.monotonic() - started
            time.sleep(0.2)
        raise BenchError(f"no answer from /healthz within {START_TIMEOUT:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        """SIGTERM to the whole group (gunicorn stops its workers), SIGKILL after 10 s."""
        if self.process is None:
            return
        group = self.process.pid  # start_new_session: the master leads its own group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        self.process.wait()
        self.process = None
        deadline = time.monotonic() + 10
        while live_members(group) and time.monotonic() < deadline:
            time.sleep(0.1)
        if live_members(group):
            print(f"warning: processes {live_members(group)} of the server lived on", file=sys.stderr)

    def tracebacks(self, most: int = 3) -> str:
        """The distinct tracebacks in the server's log (Django logs one with each 500)."""
        if not self.log_path.exists():
            return ""
        found: dict[str, str] = {}
        lines = self.log_path.read_text(errors="replace").splitlines()
        for number, line in enumerate(lines):
            if line.startswith("Traceback (most recent call last)"):
                end = next((i for i in range(number + 1, len(lines)) if not lines[i].startswith(" ")), number)
                found.setdefault(lines[end], "\n".join(lines[max(number - 1, 0) : end + 1]))
        shown = list(found.values())[:most]
        return "".join(f"\n\nfrom the server's log ({self.log_path}):\n{block}" for block in shown)


# --- Plain requests -----------------------------------------------------------------------


def fetch(port: int, line: Line) -> tuple[int, str]:
    """One GET; returns the status and where it redirects to, if it does."""
    path, *headers = line
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers=dict(header.split(": ", 1) for header in headers))
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Location") or ""
    finally:
        conn.close()


def not_ok(port: int, lines: list[Line]) -> list[str]:
    """Ask each once (a few at a time); returns a line for each not answered 200."""
    with ThreadPoolExecutor(CHECK_THREADS) as pool:
        statuses = list(pool.map(lambda line: fetch(port, line), lines))
    return [
        f"GET {line[0]} -> {status}{f' (to {location})' if location else ''}"
        for line, (status, location) in zip(lines, statuses, strict=True)
        if status != 200
    ]


def settle(port: int) -> None:
    """Wait for the server to work off what the last run left queued: gunicorn still serves a
    request whose client wrk has gone, at the expense of the next run. /healthz answers only
    once everything queued before it has been taken up."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        started = time.monotonic()
        fetch(port, ["/healthz"])
        if time.monotonic() - started < SETTLED:
            return
    raise BenchError("the server was still busy 10 minutes after a run")


# --- wrk ----------------------------------------------------------------------------------


def write_targets(path: Path, lines: list[Line]) -> Path:
    """The targets file ``wrk_targets.lua`` reads: one request a line, fields tab-separated."""
    path.write_text("".join("\t".join(line) + "\n" for line in lines), encoding="utf-8")
    return path


def parse_wrk(output: str) -> dict[str, int]:
    """The figures ``wrk_targets.lua`` prints in its ``done()``: the line ``BENCH {json}``."""
    for line in output.splitlines():
        if line.startswith("BENCH "):
            figures: dict[str, int] = json.loads(line.removeprefix("BENCH "))
            return figures
    raise BenchError(f"wrk printed no figures:\n{output[-2000:]}")


def wrk(port: int, targets: Path, *, connections: int, seconds: int, seed: int) -> dict[str, int]:
    """Load the server with the targets for ``seconds``; returns the figures of ``parse_wrk``."""
    command = [
        *("wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s"),
        *("--timeout", "30s"),  # a slow page is a slow figure, not a socket error
        *("--latency", "-s", str(LUA), f"http://127.0.0.1:{port}", "--", str(targets), str(seed)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, check=False)
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout[-2000:]}")
    return parse_wrk(done.stdout)
