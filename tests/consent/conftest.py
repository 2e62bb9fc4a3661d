"""Helpers of the consent tests: a published form, Jordan's portal sign-in, a signature."""

from __future__ import annotations

import pytest
from django.test import Client

from kapflow.consent import services
from kapflow.consent.models import ConsentSignature, ConsentTemplate

BODY = "## What KAP is\nKetamine with psychotherapy.\n\n## Risks\nRaised blood pressure."


def publish(world, body: str = BODY, title: str = "Consent to KAP") -> ConsentTemplate:
    return services.template_publish(member=world.admin, title=title, body=body)


def sign(world, portal_user, template: ConsentTemplate | None = None) -> ConsentSignature:
    return services.consent_sign(
        user=portal_user,
        patient=world.patient,
        template=template or publish(world),
        typed_name="Jordan Rivera",
        confirmed=True,
    )


@pytest.fixture
def patient_client(portal_user) -> Client:
    client = Client()
    client.force_login(portal_user)
    return client
