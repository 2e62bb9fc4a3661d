"""API test helpers: a client that calls with a member's personal token."""

from __future__ import annotations

from rest_framework.test import APIClient

from kapflow.accounts.models import Membership
from kapflow.api.tokens import token_create


def token_for(member: Membership, *, read_only: bool = False) -> str:
    return token_create(user=member.user, membership=member, name="tests", read_only=read_only)[1]


def api(member: Membership | None = None, *, read_only: bool = False) -> APIClient:
    """An API client with the member's token (anonymous without a member)."""
    client = APIClient()
    if member is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(member, read_only=read_only)}")
    return client
