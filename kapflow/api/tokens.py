"""Creating, finding and revoking personal API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kapflow.accounts.models import Membership, User
from kapflow.api.models import ApiToken
from kapflow.core import audit
from kapflow.core.errors import ApplicationError
from kapflow.core.models import AuditAction, DataCategory

PREFIX = "kf_"
# Writing last_used_at on every call would make every read a write; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_ACTIVE_TOKENS = 20


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def token_create(*, user: User, membership: Membership, name: str, read_only: bool) -> tuple[ApiToken, str]:
    """Make a token for ``user`` in the membership's clinic; returns it and its secret (shown once)."""
    name = name.strip()
    if not name:
        raise ApplicationError(_("Give the token a name, so you know later what uses it."))
    if len(name) > 80:
        raise ApplicationError(_("Keep the name under 80 characters."))
    if membership.user_id != user.pk or not membership.is_active or not membership.clinic.is_active:
        raise ApplicationError(_("Tokens are made for a clinic where you work."))
    with transaction.atomic():
        active = ApiToken.objects.filter(user=user, revoked_at__isnull=True).count()
        if active >= MAX_ACTIVE_TOKENS:
            raise ApplicationError(
                _("You have %(n)d active tokens; revoke one you no longer use first.") % {"n": active}
            )
        secret = PREFIX + secrets.token_urlsafe(32)
        token = ApiToken.objects.create(
            user=user,
            membership=membership,
            name=name,
            prefix=secret[: len(PREFIX) + 6],
            digest=digest_of(secret),
            read_only=read_only,
        )
        audit.record(
            user=user,
            clinic=membership.clinic,
            action=AuditAction.CREATE,
            category=DataCategory.ACCOUNT,
            detail=f"API token {token.prefix}… ({token.scope}) created: {name}",
        )
    return token, secret


def token_revoke(*, user: User, token: ApiToken) -> ApiToken:
    if token.user_id != user.pk:
        raise ApplicationError(_("That token is not yours."))
    with transaction.atomic():
        row = ApiToken.objects.select_for_update().get(pk=token.pk)
        if row.revoked_at is None:
            row.revoked_at = timezone.now()
            row.save(update_fields=["revoked_at"])
            audit.record(
                user=user,
                clinic=row.membership.clinic,
                action=AuditAction.UPDATE,
                category=DataCategory.ACCOUNT,
                detail=f"API token {row.prefix}… revoked: {row.name}",
            )
    return row


def token_for(secret: str) -> ApiToken | None:
    """The active token with this secret, whose person still works at its clinic."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user", "membership__clinic", "membership__user")
        .filter(digest=digest_of(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None:
        return None
    member = token.membership
    if not (token.user.is_active and member.is_active and member.clinic.is_active):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
