"""Staff writes: invitations, joining a clinic, role changes, deactivation.

Each service checks the actor's permission, saves, and writes its access-log entry in one
transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from kapflow.accounts.models import Invitation, Membership, User
from kapflow.accounts.sessions import end_all_sessions
from kapflow.clinics.models import Clinic
from kapflow.core import audit
from kapflow.core.errors import ApplicationError
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.roles import Role

INVITATION_DAYS = 7


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invitation_create(
    *, actor: User, clinic: Clinic, email: str, full_name: str, role: str, accept_url: str
) -> tuple[Invitation, str]:
    """Invite ``email`` to ``clinic`` as ``role``. ``accept_url`` has a ``{token}`` slot."""
    email = email.strip().lower()
    if Membership.objects.filter(clinic=clinic, user__email=email, is_active=True).exists():
        raise ApplicationError(_("%(email)s is already on this clinic's staff.") % {"email": email})
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        Invitation.objects.filter(clinic=clinic, email=email, accepted_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        invitation = Invitation.objects.create(
            clinic=clinic,
            email=email,
            full_name=full_name,
            role=role,
            token_hash=token_digest(token),
            invited_by=actor,
            expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
        )
        audit.record(
            user=actor,
            clinic=clinic,
            action=AuditAction.CREATE,
            category=DataCategory.STAFF,
            detail=f"invited {email} as {role}",
        )
        body = render_to_string(
            "accounts/email/invitation.txt",
            {
                "clinic": clinic,
                "invitation": invitation,
                "url": accept_url.format(token=token),
                "days": INVITATION_DAYS,
            },
        )
        transaction.on_commit(
            lambda: send_mail(
                _("Your invitation to %(clinic)s on kapflow") % {"clinic": clinic.name},
                body,
                settings.DEFAULT_FROM_EMAIL,
                [email],
            )
        )
    return invitation, token


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation a link points to, if it is still usable."""
    invitation = Invitation.objects.select_related("clinic").filter(token_hash=token_digest(token)).first()
    if invitation is None or not invitation.is_usable(timezone.now()):
        return None
    return invitation


def invitation_accept(
    *, invitation: Invitation, user: User | None, full_name: str = "", password: str = ""
) -> User:
    """Join the clinic: as the signed-in ``user``, or (``user=None``) with a new ``password``.

    With ``user=None`` the link itself proves the person reads that mailbox, so a deactivated
    account of that address is reopened with the new password; an active one must sign in.
    """
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not locked.is_usable(timezone.now()):
            raise ApplicationError(_("This invitation has already been used or has expired."))
        if user is None:
            user = User.objects.filter(email=locked.email).first()
            if user is None:
                user = User.objects.create_user(locked.email, password, full_name=full_name)
            elif user.is_active:
                raise ApplicationError(_("An account with this email exists: sign in to accept."))
            else:
                user.full_name = full_name or user.full_name
                user.set_password(password)
                user.save(update_fields=["full_name", "password"])
        elif user.email != locked.email:
            raise ApplicationError(_("This invitation was sent to another email address."))
        Membership.objects.update_or_create(
            user=user,
            clinic=locked.clinic,
            defaults={"role": locked.role, "is_active": True, "deactivated_at": None},
        )
        if not user.is_active:
            user.is_active = True
            user.save(update_fields=["is_active"])
        locked.accepted_at = timezone.now()
        locked.save(update_fields=["accepted_at"])
        audit.record(
            user=user,
            clinic=locked.clinic,
            action=AuditAction.CREATE,
            category=DataCategory.STAFF,
            detail=f"accepted invitation as {locked.role}",
        )
    return user


def invitation_revoke(*, actor: User, invitation: Invitation) -> None:
    with transaction.atomic():
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit.record(
            user=actor,
            clinic=invitation.clinic,
            action=AuditAction.UPDATE,
            category=DataCategory.STAFF,
            detail=f"revoked invitation of {invitation.email}",
        )


def _other_admins(membership: Membership) -> bool:
    return (
        Membership.objects.filter(clinic=membership.clinic, role=Role.CLINIC_ADMIN, is_active=True)
        .exclude(pk=membership.pk)
        .exists()
    )


def membership_change_role(*, actor: User, membership: Membership, role: str) -> Membership:
    if membership.role == role:
        return membership
    if membership.role == Role.CLINIC_ADMIN and not _other_admins(membership):
        raise ApplicationError(_("A clinic needs at least one active clinic admin."))
    with transaction.atomic():
        old = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit.record(
            user=actor,
            clinic=membership.clinic,
            action=AuditAction.UPDATE,
            category=DataCategory.STAFF,
            detail=f"role of {membership.user.email}: {old} -> {role}",
        )
    return membership


def membership_deactivate(*, actor: User, membership: Membership) -> int:
    """Take a person off the clinic's staff and end all their sessions at once."""
    if membership.user_id == actor.pk:
        raise ApplicationError(_("You cannot deactivate your own account."))
    if membership.role == Role.CLINIC_ADMIN and not _other_admins(membership):
        raise ApplicationError(_("A clinic needs at least one active clinic admin."))
    with transaction.atomic():
        membership.is_active = False
        membership.deactivated_at = timezone.now()
        membership.save(update_fields=["is_active", "deactivated_at"])
        user = membership.user
        if not user.memberships.filter(is_active=True).exists():
            user.is_active = False
            user.save(update_fields=["is_active"])
        ended = end_all_sessions(user)
        audit.record(
            user=actor,
            clinic=membership.clinic,
            action=AuditAction.UPDATE,
            category=DataCategory.STAFF,
            detail=f"deactivated {user.email}; {ended} session(s) ended",
        )
    return ended


def two_factor_reset(*, actor: User, membership: Membership) -> None:
    """Remove a staff member's authenticator (lost phone); they set up a new one at next sign-in."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if membership.user_id == actor.pk:
        raise ApplicationError(
            _("Use your own account menu to move two-factor authentication to a new device.")
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=membership.user).delete()
        ended = end_all_sessions(membership.user)
        audit.record(
            user=actor,
            clinic=membership.clinic,
            action=AuditAction.UPDATE,
            category=DataCategory.STAFF,
            detail=f"reset two-factor authentication of {membership.user.email}; {ended} session(s) ended",
        )


def membership_reactivate(*, actor: User, membership: Membership) -> None:
    with transaction.atomic():
        membership.is_active = True
        membership.deactivated_at = None
        membership.save(update_fields=["is_active", "deactivated_at"])
        if not membership.user.is_active:
            membership.user.is_active = True
            membership.user.save(update_fields=["is_active"])
        audit.record(
            user=actor,
            clinic=membership.clinic,
            action=AuditAction.UPDATE,
            category=DataCategory.STAFF,
            detail=f"reactivated {membership.user.email}",
        )
