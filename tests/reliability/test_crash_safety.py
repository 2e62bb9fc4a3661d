"""Crash safety, the short run: ``bench/crash_safety.py`` for a few cycles of writing through the
API and killing the server with SIGKILL, on the suite's own kind of database (SQLite, or
PostgreSQL when DATABASE_URL is set, in a database of its own). The full run is 100 cycles:
see docs/RELIABILITY.md.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "crash_safety.py"
CYCLES = 3
TIMEOUT = 300  # seconds; about 20 s when all is well


def crash_database_url() -> str:
    """The suite's PostgreSQL server with a database of this test's own ("<name>_crash"), or
    "" for SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return ""
    parts = urlsplit(url)
    return parts._replace(path=f"/{parts.path.lstrip('/') or 'kapflow'}_crash").geturl()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def figure(output: str, name: str) -> str:
    found = re.search(rf"^{re.escape(name)}\s{{2,}}(.+)$", output, re.MULTILINE)
    assert found, f"no {name!r} in the output:\n{output}"
    return found.group(1)


def check_results(output: str) -> dict[str, str]:
    """The table of checks: name -> "ok" or "FAILED"."""
    table = output[output.index("\ncheck ") :].strip().split("\n\n")[0].splitlines()[1:]
    rows = [re.match(r"(.+?)\s{2,}(ok|FAILED)\b", line) for line in table]
    assert all(rows), table
    return {row[1]: row[2] for row in rows if row}


def run_script(command: list[str]) -> tuple[int, str]:
    """The script's exit status and output. On a timeout it gets SIGTERM first, so that it kills
    the server it started (in a session of its own, which killing the script would not reach)."""
    script = subprocess.Popen(  # noqa: S603 - our interpreter and script
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT
    )
    try:
        output, _ = script.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        script.terminate()
        try:
            output, _ = script.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            script.kill()
            output, _ = script.communicate()
        pytest.fail(f"bench/crash_safety.py took more than {TIMEOUT} s:\n{output}")
    return script.returncode, output


def test_acknowledged_writes_survive_the_server_being_killed_mid_traffic(tmp_path: Path) -> None:
    database_url = crash_database_url()
    command = [sys.executable, str(SCRIPT), "--cycles", str(CYCLES), "--seed", "11"]
    command += ["--port", str(free_port()), "--data-dir", str(tmp_path / "data")]
    if database_url:
        command += ["--database-url", database_url]

    returncode, output = run_script(command)

    assert returncode == 0, output
    assert output.rstrip().endswith("PASSED"), output
    assert figure(output, "database") == ("postgresql" if database_url else "sqlite")
    assert figure(output, "cycles survived") == f"{CYCLES}/{CYCLES}"
    acknowledged = re.fullmatch(
        r"(\d+) \(patients (\d+), readings (\d+), addenda (\d+)\)", figure(output, "writes acknowledged")
    )
    assert acknowledged, output
    assert all(int(count) > 0 for count in acknowledged.groups()), output  # every kind was written
    cut_off = re.fullmatch(
        r"(\d+): (\d+) present and whole, (\d+) absent", figure(output, "writes cut off by the kill")
    )
    assert cut_off, output
    assert int(cut_off[1]) >= 1, output  # the kills landed mid-traffic
    assert int(cut_off[1]) == int(cut_off[2]) + int(cut_off[3])

    results = check_results(output)
    assert set(results.values()) == {"ok"}, output
    for essential in (
        "server restarted after every kill, none lived on",
        "every acknowledged write present",
        "every write found holds the values sent",
        "no write stored twice",
        "kapflow audit verify exits 0",
        "every patient has its access-log entry",
        "every reading has its access-log entry",
        "every addendum has its access-log entry",
    ):
        assert essential in results, output
    integrity = "PostgreSQL amcheck" if database_url else "SQLite PRAGMA integrity_check"
    assert any(name.startswith(integrity) for name in results), output
