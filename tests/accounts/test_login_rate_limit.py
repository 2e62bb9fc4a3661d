"""Failed sign-ins per address are limited (KAPFLOW_LOGIN_RATE_LIMIT per 5 minutes), across
accounts and at the two-factor step, without locking anyone's account."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.test import Client

from kapflow.core import ratelimit
from tests.accounts.conftest import VERIFY_URL, code_for, is_signed_in, sign_in, wrong_code_for

LIMITED = "Too many failed sign-in attempts from your network"
EMAILS = ["theo@demo.test", "priya@demo.test", "nico@demo.test", "frankie@demo.test", "alex@demo.test"]


@pytest.fixture(autouse=True)
def window_start(monkeypatch) -> float:
    """The counts are per fixed window (``now // 300``): a test that crossed a window's end
    half-way (a busy CI machine) would see its count start again. These run at the start of one."""
    start = (ratelimit._now() // 300 + 1) * 300 + 1
    monkeypatch.setattr(ratelimit, "_now", lambda: start)
    return start


@pytest.fixture
def limit(settings):
    settings.KAPFLOW_LOGIN_RATE_LIMIT = 6
    return 6


def spray(client: Client, times: int) -> list[int]:
    """Wrong passwords, each for another address (so axes locks none of them)."""
    return [sign_in(client, f"guess{i}@demo.test", "wrong-password").status_code for i in range(times)]


def test_an_address_guessing_across_accounts_is_stopped_with_429_and_the_form(world, limit):
    attacker = Client(REMOTE_ADDR="203.0.113.50")
    assert spray(attacker, limit) == [400] * limit
    refused = sign_in(attacker, "theo@demo.test")  # even the right password is not tried
    assert refused.status_code == 429
    page = refused.content.decode()
    assert LIMITED in page and re.search(r"Wait ([2-5] minutes|1 minute),", page), page
    assert 'name="password"' in page  # the form, to try again later
    assert 1 <= int(refused["Retry-After"]) <= 301
    assert not is_signed_in(attacker)


def test_the_limit_locks_no_account(world, limit):
    attacker = Client(REMOTE_ADDR="203.0.113.51")
    spray(attacker, limit + 20)
    # Nothing beyond the limit reached authentication: no account came near axes' lock.
    assert sum(a.failures_since_start for a in AccessAttempt.objects.all()) == limit
    colleague = Client(REMOTE_ADDR="198.51.100.20")
    assert sign_in(colleague, "theo@demo.test").status_code == 302
    assert is_signed_in(colleague)


def test_the_window_ends_after_five_minutes(world, limit, monkeypatch):
    attacker = Client(REMOTE_ADDR="203.0.113.52")
    spray(attacker, limit)
    assert sign_in(attacker, "theo@demo.test").status_code == 429
    later = ratelimit._now() + 301
    monkeypatch.setattr(ratelimit, "_now", lambda: later)
    assert sign_in(attacker, "theo@demo.test").status_code == 302


def test_successful_sign_ins_do_not_count(world, limit):
    office = Client(REMOTE_ADDR="203.0.113.53")
    for _ in range(limit + 2):
        assert sign_in(office, "theo@demo.test").status_code == 302
        office.post("/accounts/logout/")
    assert spray(office, 1) == [400]


def test_the_default_is_thirty_failures_per_address(world):
    attacker = Client(REMOTE_ADDR="203.0.113.54")
    assert spray(attacker, 30) == [400] * 30
    assert sign_in(attacker, "theo@demo.test").status_code == 429


def test_guessing_two_factor_codes_counts_and_is_stopped(world, limit, device_for):
    devices = {
        email: device_for(world.member(name).user)
        for email, name in zip(
            EMAILS, ["therapist", "prescriber", "nurse", "frontdesk", "admin"], strict=True
        )
    }
    attacker = Client(REMOTE_ADDR="203.0.113.55")
    statuses = []
    for i in range(limit):
        email = EMAILS[i % len(EMAILS)]
        attacker.cookies.clear()
        assert sign_in(attacker, email)["Location"] == VERIFY_URL  # the password is known
        statuses.append(attacker.post(VERIFY_URL, {"code": wrong_code_for(devices[email])}).status_code)
    assert statuses == [400] * limit
    # The next step is refused whatever the code, and the form is shown with the reason.
    attacker.cookies.clear()
    assert sign_in(attacker, "theo@demo.test").status_code == 429
    person = Client(REMOTE_ADDR="203.0.113.55")  # a colleague behind the same address
    assert sign_in(person, "nico@demo.test").status_code == 429


def test_the_code_step_itself_answers_429_with_the_form(world, settings, device_for):
    settings.KAPFLOW_LOGIN_RATE_LIMIT = 2
    device = device_for(world.therapist.user)
    client = Client(REMOTE_ADDR="203.0.113.56")
    assert sign_in(client, "theo@demo.test")["Location"] == VERIFY_URL
    assert client.post(VERIFY_URL, {"code": wrong_code_for(device)}).status_code == 400
    assert client.post(VERIFY_URL, {"code": wrong_code_for(device)}).status_code == 400
    refused = client.post(VERIFY_URL, {"code": code_for(device)})  # right, but not tried
    assert refused.status_code == 429 and LIMITED in refused.content.decode()
    assert 'name="code"' in refused.content.decode()
    assert not is_signed_in(client)


# --- Behind a reverse proxy (README, production step 5) ---------------------------------------
def via_proxy(client_address: str) -> Client:
    """A browser reaching kapflow through the local proxy, which names it in X-Forwarded-For."""
    return Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=client_address)


def test_behind_a_trusted_proxy_one_clients_failures_do_not_stop_another(world, limit, settings):
    settings.KAPFLOW_TRUSTED_PROXIES = frozenset({"127.0.0.1"})
    attacker = via_proxy("203.0.113.60")
    spray(attacker, limit)
    assert sign_in(attacker, "theo@demo.test").status_code == 429

    colleague = via_proxy("198.51.100.61")
    assert sign_in(colleague, "theo@demo.test").status_code == 302


def test_a_forwarded_address_is_believed_only_from_a_trusted_proxy(world, limit, settings):
    """A client cannot escape its count by claiming a new X-Forwarded-For on each attempt; and
    of a proxy's header only the right-most entry (the one the proxy wrote) counts."""
    settings.KAPFLOW_TRUSTED_PROXIES = frozenset({"127.0.0.1"})
    direct = [
        sign_in(
            Client(REMOTE_ADDR="203.0.113.62", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}"), f"g{n}@demo.test", "x"
        ).status_code
        for n in range(limit + 1)
    ]
    assert direct == [400] * limit + [429]

    forged = [
        sign_in(via_proxy(f"10.0.1.{n}, 203.0.113.63"), f"h{n}@demo.test", "x").status_code
        for n in range(limit + 1)
    ]
    assert forged == [400] * limit + [429]


def test_an_ipv6_client_counts_by_its_64_network(world, limit):
    statuses = [
        sign_in(Client(REMOTE_ADDR=f"2001:db8:1:2::{n:x}"), f"v{n}@demo.test", "x").status_code
        for n in range(1, limit + 2)
    ]
    assert statuses == [400] * limit + [429]
    assert sign_in(Client(REMOTE_ADDR="2001:db8:1:3::1"), "theo@demo.test").status_code == 302
