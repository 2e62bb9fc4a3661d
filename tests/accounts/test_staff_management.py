"""The clinic admin changes roles, deactivates people and resets lost authenticators."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from kapflow.accounts.models import Membership
from kapflow.accounts.services import membership_deactivate
from kapflow.core.errors import ApplicationError
from kapflow.core.models import AccessLogEntry
from kapflow.core.roles import Role
from tests.accounts.conftest import is_signed_in, sign_in, sign_in_with_code
from tests.conftest import PASSWORD

LAST_ADMIN = "A clinic needs at least one active clinic admin."


def detail(member: Membership) -> str:
    return reverse("staff:detail", kwargs={"clinic": "demo", "membership_id": member.pk})


def set_active(member: Membership) -> str:
    return reverse("staff:set_active", kwargs={"clinic": "demo", "membership_id": member.pk})


def fresh(member: Membership) -> Membership:
    return Membership.objects.select_related("user").get(pk=member.pk)


def test_the_staff_list_shows_everyone_in_the_clinic_only(world, login):
    response = login(world.admin).get(reverse("staff:list", kwargs={"clinic": "demo"}))
    assert response.status_code == 200
    page = response.content.decode()
    for name in ("Alex Admin", "Frankie Desk", "Theo Therapist", "Priya Prescriber", "Nico Nurse"):
        assert name in page
    assert "Olive Other" not in page


def test_the_admin_changes_a_role(world, login):
    client = login(world.admin)
    response = client.post(detail(world.nurse), {"role": Role.PRESCRIBER.value})
    assert response.status_code == 302
    assert fresh(world.nurse).role == Role.PRESCRIBER
    entry = AccessLogEntry.objects.filter(user=world.admin.user, detail__contains="nico@demo.test").last()
    assert entry is not None
    assert "nurse -> prescriber" in entry.detail


def test_an_unknown_role_is_a_field_error(world, login):
    response = login(world.admin).post(detail(world.nurse), {"role": "superuser"})
    assert response.status_code == 400
    assert response.context["form"].errors["role"]
    assert fresh(world.nurse).role == Role.NURSE


def test_the_last_clinic_admin_cannot_be_demoted(world, login):
    response = login(world.admin).post(detail(world.admin), {"role": Role.THERAPIST.value})
    assert response.status_code == 400
    assert LAST_ADMIN in response.content.decode()
    assert fresh(world.admin).role == Role.CLINIC_ADMIN


def test_with_a_second_admin_one_of_them_can_step_down(world, login):
    login(world.admin).post(detail(world.frontdesk), {"role": Role.CLINIC_ADMIN.value})
    response = login(world.admin).post(detail(world.admin), {"role": Role.THERAPIST.value})
    assert response.status_code == 302
    assert fresh(world.admin).role == Role.THERAPIST


def test_the_last_clinic_admin_cannot_be_deactivated(world):
    """Only reachable outside the admin's own pages (e.g. a support script), but still refused."""
    with pytest.raises(ApplicationError, match=LAST_ADMIN):
        membership_deactivate(actor=world.other_admin.user, membership=world.admin)
    assert fresh(world.admin).is_active


def test_an_admin_cannot_deactivate_themself(world, login):
    client = login(world.admin)
    client.post(detail(world.frontdesk), {"role": Role.CLINIC_ADMIN.value})  # not the last admin
    response = client.post(set_active(world.admin), {"active": "0"}, follow=True)
    assert "You cannot deactivate your own account." in response.content.decode()
    assert fresh(world.admin).is_active
    assert fresh(world.admin).user.is_active


def test_deactivating_ends_all_their_sessions_at_once(world, login):
    laptop, phone = Client(), Client()
    for device in (laptop, phone):
        sign_in(device, "theo@demo.test")
        assert device.get(reverse("clinic_home", kwargs={"clinic": "demo"})).status_code == 200
    response = login(world.admin).post(set_active(world.therapist), {"active": "0"}, follow=True)
    assert "Theo Therapist is deactivated; 2 open session(s) ended." in response.content.decode()
    for device in (laptop, phone):
        nxt = device.get(reverse("clinic_home", kwargs={"clinic": "demo"}))
        assert nxt.status_code == 302
        assert nxt["Location"].startswith(reverse("accounts:login"))
        assert not is_signed_in(device)


def test_a_deactivated_person_cannot_sign_in_again(world, login):
    login(world.admin).post(set_active(world.therapist), {"active": "0"})
    membership = fresh(world.therapist)
    assert not membership.is_active
    assert membership.deactivated_at is not None
    assert sign_in(Client(), "theo@demo.test").status_code == 400


def test_deactivation_is_written_to_the_access_log(world, login):
    login(world.admin).post(set_active(world.therapist), {"active": "0"})
    entry = AccessLogEntry.objects.filter(clinic=world.demo, user=world.admin.user).order_by("-seq").first()
    assert entry is not None
    assert entry.detail.startswith("deactivated theo@demo.test")


def test_deactivation_in_one_clinic_keeps_the_account_for_another(world, login):
    Membership.objects.create(user=world.therapist.user, clinic=world.other, role=Role.THERAPIST)
    login(world.admin).post(set_active(world.therapist), {"active": "0"})
    client = Client()
    assert sign_in(client, "theo@demo.test").status_code == 302
    assert client.get(reverse("clinic_home", kwargs={"clinic": "other"})).status_code == 200
    assert client.get(reverse("clinic_home", kwargs={"clinic": "demo"})).status_code == 404


def test_reactivating_lets_the_person_sign_in_again(world, login):
    admin = login(world.admin)
    admin.post(set_active(world.therapist), {"active": "0"})
    response = admin.post(set_active(world.therapist), {"active": "1"}, follow=True)
    assert "Theo Therapist can sign in again." in response.content.decode()
    assert fresh(world.therapist).is_active
    assert sign_in(Client(), "theo@demo.test").status_code == 302


def reset_two_factor(member: Membership) -> str:
    return reverse("staff:reset_two_factor", kwargs={"clinic": "demo", "membership_id": member.pk})


def test_resetting_a_lost_authenticator_removes_it_and_ends_their_sessions(world, login, device_for):
    theo = Client()
    sign_in_with_code(theo, "theo@demo.test", device_for(world.therapist.user))
    assert theo.get(reverse("clinic_home", kwargs={"clinic": "demo"})).status_code == 200
    response = login(world.admin).post(reset_two_factor(world.therapist), follow=True)
    assert "Two-factor authentication of Theo Therapist was reset" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=world.therapist.user).exists()
    assert not is_signed_in(theo)
    # Theo signs in with the password alone now, and sets up the new phone.
    assert sign_in(Client(), "theo@demo.test")["Location"] != reverse("accounts:login_verify")


def test_a_session_kept_through_a_password_change_still_ends_at_the_reset(world, login, device_for):
    theo = Client()
    sign_in_with_code(theo, "theo@demo.test", device_for(world.therapist.user))
    new = "a-brand-new-password-77"
    changed = theo.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert changed.status_code == 302  # the password change gives this browser a new session id
    login(world.admin).post(reset_two_factor(world.therapist))
    assert theo.get(reverse("clinic_home", kwargs={"clinic": "demo"})).status_code == 302
    assert not is_signed_in(theo)


def test_an_admin_cannot_reset_their_own_authenticator_here(world, device_for):
    client = Client()
    sign_in_with_code(client, "alex@demo.test", device_for(world.admin.user))
    response = client.post(reset_two_factor(world.admin), follow=True)
    assert "Use your own account menu" in response.content.decode()
    assert TOTPDevice.objects.filter(user=world.admin.user).exists()
    assert is_signed_in(client)


def test_a_staff_member_of_another_clinic_is_not_found(world, login):
    client = login(world.admin)
    url = reverse("staff:detail", kwargs={"clinic": "demo", "membership_id": world.other_therapist.pk})
    assert client.get(url).status_code == 404
    deactivate = reverse(
        "staff:set_active", kwargs={"clinic": "demo", "membership_id": world.other_therapist.pk}
    )
    assert client.post(deactivate, {"active": "0"}).status_code == 404
    assert fresh(world.other_therapist).is_active


def test_staff_pages_need_a_signed_in_person(world, client):
    response = client.get(reverse("staff:list", kwargs={"clinic": "demo"}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_made_up_staff_ids_give_404_not_500(world, login):
    client = login(world.admin)
    huge = 10**30  # beyond any database integer
    assert client.get(f"/c/demo/staff/{huge}/").status_code == 404
    assert client.post(f"/c/demo/staff/{huge}/active/", {"active": "0"}).status_code == 404
    assert client.post(f"/c/demo/staff/{huge}/reset-2fa/").status_code == 404
    assert client.post(f"/c/demo/staff/invitations/{huge}/revoke/").status_code == 404
