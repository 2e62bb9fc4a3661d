"""Failed attempts per client address in a fixed time window, counted in Django's cache.

Signing in (password and two-factor code) and API calls with an unknown token are counted
here, so one address cannot guess passwords, codes or tokens quickly across many accounts
(django-axes locks a single account; this limits the address, and never locks an account).

The counts live in the default cache. kapflow configures none, so that is Django's
per-process local-memory cache: with N server workers an address can make up to N times the
limit at worst, and a restart forgets the counts. Point ``CACHES`` at a shared cache
(Redis, Memcached) to make the limit exact across workers.

The address is ``client_address`` below: ``REMOTE_ADDR``, or behind a reverse proxy named in
``KAPFLOW_TRUSTED_PROXIES`` the address the proxy put in ``X-Forwarded-For``. The intake rate
limit uses the same. Only a hash of it is kept, as part of the cache key.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def _now() -> float:
    return time.time()


@dataclass(frozen=True)
class Window:
    """At most ``limit`` failures per ``seconds`` from one address, for one kind of attempt."""

    scope: str
    limit: int
    seconds: int

    def _key(self, address: str, index: int) -> str:
        digest = hashlib.sha256(address.encode("utf-8", "replace")).hexdigest()[:32]
        return f"kapflow-rate:{self.scope}:{digest}:{index}"

    def retry_after(self, address: str) -> int | None:
        """Seconds to wait if the address has used up this window, else None."""
        now = _now()
        index = int(now // self.seconds)
        if int(cache.get(self._key(address, index), 0)) < self.limit:
            return None
        return max(1, int((index + 1) * self.seconds - now) + 1)

    def count(self, address: str) -> None:
        """Count one failed attempt from the address."""
        key = self._key(address, int(_now() // self.seconds))
        cache.add(key, 0, timeout=self.seconds + 1)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr: this attempt starts the count
            cache.add(key, 1, timeout=self.seconds + 1)


def client_address(request: HttpRequest) -> str:
    """The address a request came from, as the limits count it.

    ``REMOTE_ADDR``, unless that is a reverse proxy named in ``KAPFLOW_TRUSTED_PROXIES``: then
    the address that proxy saw, the right-most entry of ``X-Forwarded-For`` (the one it added;
    entries further left are whatever the client claimed). Without this, behind the proxy every
    request would come from 127.0.0.1 and one person's failures would limit everyone. An IPv6
    address counts by its /64, which one client commonly holds whole.
    """
    address = str(request.META.get("REMOTE_ADDR") or "")
    if address and address in settings.KAPFLOW_TRUSTED_PROXIES:
        forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",")[-1].strip()
        address = forwarded or address
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:100] or "unknown"
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)
