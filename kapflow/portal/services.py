"""Portal writes: inviting a patient to the portal, and the patient accepting.

Each service checks permission, saves and writes its access-log entry in one transaction.
The token travels only in the email; the database keeps its SHA-256.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from kapflow.accounts.models import Membership, User
from kapflow.accounts.services import token_digest
from kapflow.core import audit
from kapflow.core.access import require
from kapflow.core.errors import ApplicationError
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.patients.models import Patient
from kapflow.portal.models import PortalAccount, PortalInvitation


class InvitationUnusable(ApplicationError):
    """The link was used, withdrawn or has expired: nothing can be done with it any more."""

    status = 410


def _email_refusal(*, email: str, patient: Patient) -> str | None:
    """Why ``email`` cannot become the sign-in of ``patient``'s portal account, if it cannot."""
    user = User.objects.filter(email=email).first()
    if user is None:
        return None
    if Membership.objects.filter(user=user).exists():
        return _(
            "%(email)s is the address of a staff account. The patient needs an email address of their own."
        ) % {"email": email}
    own = PortalAccount.objects.filter(user=user, patient=patient).exists()
    if own:
        return None
    if PortalAccount.objects.filter(user=user).exists():
        return _("%(email)s already signs in to another patient's portal account.") % {"email": email}
    return _("%(email)s already belongs to another kapflow account.") % {"email": email}


def _refuse_unless_invitable(*, patient: Patient, email: str) -> None:
    if patient.is_voided:
        raise ApplicationError(_("This record is voided; it cannot have a portal account."))
    if PortalAccount.objects.filter(patient=patient, is_active=True).exists():
        raise ApplicationError(_("This patient already has an active portal account."))
    refusal = _email_refusal(email=email, patient=patient)
    if refusal is not None:
        raise ApplicationError(refusal)


def portal_invitation_send(
    *, member: Membership, patient: Patient, email: str, accept_url: str
) -> tuple[PortalInvitation, str]:
    """Email ``patient`` a single-use link to set a portal password.

    ``accept_url`` has a ``{token}`` slot. Earlier unused invitations of the patient stop
    working. The email names the clinic, the link and its expiry, and nothing about health.
    """
    require(member, Action.PORTAL_INVITE, patient)
    email = email.strip().lower()
    clinic = member.clinic
    token = secrets.token_urlsafe(32)
    hours = settings.KAPFLOW_PORTAL_INVITATION_HOURS
    with transaction.atomic():
        # Lock the patient row: two invitations sent at once queue, and only the last one works.
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        _refuse_unless_invitable(patient=patient, email=email)
        now = timezone.now()
        PortalInvitation.objects.filter(
            patient=patient, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        invitation = PortalInvitation.objects.create(
            clinic=clinic,
            patient=patient,
            email=email,
            token_hash=token_digest(token),
            sent_by=member.user,
            expires_at=now + timedelta(hours=hours),
        )
        audit.record(
            user=member.user,
            clinic=clinic,
            patient=patient,
            action=AuditAction.CREATE,
            category=DataCategory.PORTAL,
            detail=f"portal invitation sent to {email}",
        )
        with timezone.override(clinic.tzinfo):
            body = render_to_string(
                "portal/email/invitation.txt",
                {
                    "clinic": clinic,
                    "url": accept_url.format(token=token),
                    "expires_at": invitation.expires_at,
                    "hours": hours,
                },
            )
        subject = _("Your invitation to the patient portal of %(clinic)s") % {"clinic": clinic.name}
        transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email]))
    return invitation, token


def portal_invitation_for_token(token: str) -> PortalInvitation | None:
    """The invitation a link points to, if it is still usable."""
    invitation = (
        PortalInvitation.objects.select_related("clinic", "patient")
        .filter(token_hash=token_digest(token))
        .first()
    )
    if invitation is None or not invitation.is_usable(timezone.now()):
        return None
    return invitation


def portal_invitation_accept(*, invitation: PortalInvitation, password: str) -> PortalAccount:
    """Create the patient's sign-in and portal account from the link, once; all or nothing.

    Raises ``InvitationUnusable`` (410) when the link was used, withdrawn or expired meanwhile,
    and ``ApplicationError`` when the address or the patient can no longer take an account.
    """
    with transaction.atomic():
        locked = (
            PortalInvitation.objects.select_for_update()
            .select_related("clinic", "patient")
            .get(pk=invitation.pk)
        )
        if not locked.is_usable(timezone.now()):
            raise InvitationUnusable(_("This invitation link has already been used or has expired."))
        patient = locked.patient
        _refuse_unless_invitable(patient=patient, email=locked.email)
        account = PortalAccount.objects.filter(patient=patient).select_related("user").first()
        if account is None:
            user = User.objects.create_user(locked.email, password, full_name=patient.display_name)
            account = PortalAccount.objects.create(user=user, patient=patient, clinic=locked.clinic)
        else:
            # A switched-off account of this patient opens again, at the invited address.
            user = account.user
            user.email = locked.email
            user.full_name = patient.display_name
            user.is_active = True
            user.set_password(password)
            user.save(update_fields=["email", "full_name", "is_active", "password"])
            account.is_active = True
            account.save(update_fields=["is_active"])
        locked.used_at = timezone.now()
        locked.save(update_fields=["used_at"])
        audit.record(
            user=user,
            clinic=locked.clinic,
            patient=patient,
            action=AuditAction.CREATE,
            category=DataCategory.PORTAL,
            detail="portal invitation accepted; portal account active",
        )
    return account
