"""Rounds of concurrent clients: every client reads what it would see, then all are released
together by a barrier to write; after each round the main thread checks the database.

Each client runs in its own thread with its own connection (closed when the thread ends), and
keeps its own test client (page or API) for every round, as a person keeps a browser tab.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, connections

ACKNOWLEDGED = "acknowledged"
REFUSED = "refused"
UNEXPECTED = "unexpected"
WAIT_SECONDS = 120  # a barrier wait longer than this means a client is stuck: fail, never hang


@dataclass(frozen=True)
class Attempt:
    """One write of one client in one round, and how the server answered it."""

    round: int
    client: int
    path: str  # page, autosave, api, waste...
    value: str  # what the client wrote (the text, the patient, the milligrams)
    status: int
    outcome: str  # ACKNOWLEDGED, REFUSED or UNEXPECTED
    reason: str = ""  # why it was refused (stale, taken, stock...)
    ref: str = ""  # what the server named (the new record's id, a Location)
    body: str = field(default="", repr=False)

    def shown(self) -> str:
        return f"round {self.round} client {self.client} {self.path} {self.status}: {self.body[:600]}"


# A client: given the round, it reads (before the release) and returns its write.
Write = Callable[[], Attempt]
Reader = Callable[[int], Write]


def run_rounds(
    clients: list[Reader], rounds: int, check_round: Callable[[int, list[Attempt]], None]
) -> list[Attempt]:
    """Run ``rounds`` rounds of every client writing at once; ``check_round`` sees each round's
    attempts once all of them are answered. Returns every attempt."""
    barrier = threading.Barrier(len(clients) + 1)
    attempts: list[Attempt] = []
    errors: list[BaseException] = []

    def work(client: Reader) -> None:
        try:
            for number in range(rounds):
                write = client(number)
                barrier.wait(WAIT_SECONDS)  # released together
                attempts.append(write())
                barrier.wait(WAIT_SECONDS)  # the round is over: the main thread checks
        except threading.BrokenBarrierError:
            pass  # another thread failed: its error is the one reported
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            barrier.abort()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(client,), daemon=True) for client in clients]
    for thread in threads:
        thread.start()
    finished = 0
    try:
        for number in range(rounds):
            barrier.wait(WAIT_SECONDS)
            barrier.wait(WAIT_SECONDS)
            check_round(number, [a for a in attempts if a.round == number])
            finished += 1
    except threading.BrokenBarrierError:
        pass  # a client failed (its error is raised below) or a round outlasted WAIT_SECONDS
    finally:
        barrier.abort()
        for thread in threads:
            thread.join(WAIT_SECONDS)
    if errors:
        raise errors[0]
    assert not any(thread.is_alive() for thread in threads), "a client thread is stuck"
    assert finished == rounds, f"only {finished} of {rounds} rounds finished within {WAIT_SECONDS} s"
    return attempts


def outcome(status: int, acknowledged: Iterable[int], refused: Iterable[int]) -> str:
    if status in acknowledged:
        return ACKNOWLEDGED
    if status in refused:
        return REFUSED
    return UNEXPECTED


def assert_expected(attempts: list[Attempt]) -> None:
    """No answer outside the ones a client is told to expect (a 500, a 400 for a valid write)."""
    odd = [a.shown() for a in attempts if a.outcome == UNEXPECTED]
    assert not odd, "\n".join(odd)


@dataclass
class Figures:
    """What a scenario measured, printed as one ``RELIABILITY:`` line for docs/RELIABILITY.md."""

    scenario: str
    clients: int
    rounds: int
    attempts: list[Attempt]
    lost_updates: int
    extra: dict[str, object] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def line(self) -> str:
        acknowledged = sum(a.outcome == ACKNOWLEDGED for a in self.attempts)
        refused = sum(a.outcome == REFUSED for a in self.attempts)
        parts = {
            "scenario": self.scenario,
            "db": connection.vendor,
            "clients": self.clients,
            "rounds": self.rounds,
            "attempts": len(self.attempts),
            "acknowledged": acknowledged,
            "refused": refused,
            "lost_updates": self.lost_updates,
            **self.extra,
            "seconds": f"{time.monotonic() - self.started:.1f}",
        }
        return "RELIABILITY: " + " ".join(f"{key}={value}" for key, value in parts.items())
