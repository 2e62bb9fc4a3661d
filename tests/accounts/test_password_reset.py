"""Resetting a forgotten password by email, without revealing who has an account."""

from __future__ import annotations

import re

from django.core import mail
from django.urls import reverse

from tests.accounts.conftest import is_signed_in, sign_in
from tests.conftest import PASSWORD

RESET_URL = reverse("accounts:password_reset")
NEW_PASSWORD = "a-brand-new-password-77"


def ask_for_reset(client, email: str):
    return client.post(RESET_URL, {"email": email}, follow=True)


def link_in(message) -> str:
    match = re.search(r"http://testserver(/accounts/password-reset/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_asking_for_a_reset_sends_an_email_with_a_link(world, client):
    response = ask_for_reset(client, "theo@demo.test")
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["theo@demo.test"]
    assert mail.outbox[0].subject == "Reset your kapflow password"
    assert link_in(mail.outbox[0])


def test_following_the_link_and_choosing_a_new_password_works(world, client):
    ask_for_reset(client, "theo@demo.test")
    form = client.get(link_in(mail.outbox[0]), follow=True)
    assert form.status_code == 200
    assert form.context["validlink"]
    set_password_url = form.redirect_chain[-1][0]
    response = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("accounts:password_reset_complete")
    assert sign_in(client, "theo@demo.test", PASSWORD).status_code == 400
    assert sign_in(client, "theo@demo.test", NEW_PASSWORD).status_code == 302
    assert is_signed_in(client)


def test_the_link_works_only_once(world, client):
    ask_for_reset(client, "theo@demo.test")
    link = link_in(mail.outbox[0])
    set_password_url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    again = client.get(link, follow=True)
    assert again.status_code == 200
    assert not again.context["validlink"]


def test_a_weak_new_password_is_refused(world, client):
    ask_for_reset(client, "theo@demo.test")
    set_password_url = client.get(link_in(mail.outbox[0]), follow=True).redirect_chain[-1][0]
    response = client.post(set_password_url, {"new_password1": "123", "new_password2": "123"})
    assert response.status_code == 200  # Django's view re-renders the form
    assert response.context["form"].errors["new_password2"]
    assert sign_in(client, "theo@demo.test", PASSWORD).status_code == 302


def test_an_unknown_email_shows_the_same_page_and_sends_nothing(world, client):
    known = ask_for_reset(client, "theo@demo.test")
    mail.outbox.clear()
    unknown = ask_for_reset(client, "nobody@demo.test")
    assert unknown.status_code == known.status_code == 200
    assert unknown.redirect_chain == known.redirect_chain
    assert "Check your email" in unknown.content.decode()
    assert mail.outbox == []


def test_a_deactivated_account_gets_no_reset_email(world, client):
    world.nurse.user.is_active = False
    world.nurse.user.save()
    response = ask_for_reset(client, "nico@demo.test")
    assert "Check your email" in response.content.decode()
    assert mail.outbox == []


def test_a_tampered_link_is_refused_without_error(world, client):
    ask_for_reset(client, "theo@demo.test")
    link = link_in(mail.outbox[0])
    tampered = link[:-3] + ("aa/" if not link.endswith("aa/") else "bb/")
    response = client.get(tampered, follow=True)
    assert response.status_code == 200
    assert not response.context["validlink"]
    garbage = client.get("/accounts/password-reset/%00/nonsense/", follow=True)
    assert garbage.status_code == 200
    assert not garbage.context["validlink"]


def test_a_malformed_email_is_a_field_error(world, client):
    response = client.post(RESET_URL, {"email": "not an email"})
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert mail.outbox == []
