"""Only the clinic's own admin reaches the staff pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kapflow.accounts.models import Invitation, Membership
from kapflow.accounts.services import membership_change_role, membership_deactivate
from kapflow.core.models import AccessLogEntry, AuditOutcome

NON_ADMINS = ["frontdesk", "therapist", "prescriber", "nurse"]


def staff_pages(world) -> list[tuple[str, str]]:
    """(method, url) of every staff page, aimed at Demo's nurse or a Demo invitation."""
    invitation = Invitation.objects.create(
        clinic=world.demo,
        email="x@new.test",
        role="nurse",
        token_hash="0" * 64,
        invited_by=world.admin.user,
        expires_at=timezone.now() + timedelta(days=7),
    )
    target = {"clinic": "demo", "membership_id": world.nurse.pk}
    return [
        ("get", reverse("staff:list", kwargs={"clinic": "demo"})),
        ("get", reverse("staff:invite", kwargs={"clinic": "demo"})),
        ("post", reverse("staff:invite", kwargs={"clinic": "demo"})),
        ("get", reverse("staff:detail", kwargs=target)),
        ("post", reverse("staff:detail", kwargs=target)),
        ("post", reverse("staff:set_active", kwargs=target)),
        ("post", reverse("staff:reset_two_factor", kwargs=target)),
        (
            "post",
            reverse("staff:invitation_revoke", kwargs={"clinic": "demo", "invitation_id": invitation.pk}),
        ),
    ]


def attempt(client, method: str, url: str):
    data = {"email": "x@new.test", "full_name": "X", "role": "clinic_admin", "active": "0"}
    return getattr(client, method)(url, data) if method == "post" else client.get(url)


@pytest.mark.parametrize("role", NON_ADMINS)
def test_other_roles_get_403_on_every_staff_page(world, login, role):
    client = login(world.member(role))
    for method, url in staff_pages(world):
        response = attempt(client, method, url)
        assert response.status_code == 403, (method, url)
    # Nothing changed: no promotion, no deactivation, the invitation still stands.
    nurse = Membership.objects.get(pk=world.nurse.pk)
    assert nurse.role == "nurse"
    assert nurse.is_active
    assert Invitation.objects.get().revoked_at is None
    assert Invitation.objects.count() == 1


@pytest.mark.parametrize("role", NON_ADMINS)
def test_the_refusal_is_written_to_the_access_log(world, login, role):
    login(world.member(role)).get(reverse("staff:list", kwargs={"clinic": "demo"}))
    assert AccessLogEntry.objects.filter(
        user=world.member(role).user, outcome=AuditOutcome.DENIED, category="staff"
    ).exists()


def test_the_other_clinics_admin_gets_404_on_every_staff_page(world, login):
    client = login(world.other_admin)
    for method, url in staff_pages(world):
        assert attempt(client, method, url).status_code == 404, (method, url)
    assert Membership.objects.get(pk=world.nurse.pk).is_active
    assert Invitation.objects.get().revoked_at is None


def test_the_other_clinics_admin_cannot_touch_demo_staff_through_their_own_clinic(world, login):
    client = login(world.other_admin)
    url = reverse("staff:set_active", kwargs={"clinic": "other", "membership_id": world.nurse.pk})
    assert client.post(url, {"active": "0"}).status_code == 404
    assert Membership.objects.get(pk=world.nurse.pk).is_active


def test_a_deactivated_admin_loses_the_staff_pages(world, login):
    membership_change_role(actor=world.admin.user, membership=world.frontdesk, role="clinic_admin")
    membership_deactivate(actor=world.frontdesk.user, membership=world.admin)
    world.admin.user.is_active = True  # keep the account, only the membership is gone
    world.admin.user.save()
    client = login(world.admin)
    assert client.get(reverse("staff:list", kwargs={"clinic": "demo"})).status_code == 404
