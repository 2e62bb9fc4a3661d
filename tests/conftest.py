"""Personas for every role, as in healthchecks' hc/test.py.

Alex is the Demo clinic's admin, Frankie its front desk, Theo its therapist, Priya its
prescriber and Nico its nurse. Theo and Priya are on Jordan's care team; Nico is not.
Olive is a therapist at the Other clinic and must never see anything of Demo's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from django.test import Client

from kapflow.accounts.models import Membership, User
from kapflow.clinics.models import Clinic, Location, Room
from kapflow.core.roles import Role
from kapflow.patients import services
from kapflow.patients.models import Patient

PASSWORD = "correct-horse-battery"


@dataclass
class World:
    demo: Clinic
    other: Clinic
    admin: Membership
    frontdesk: Membership
    therapist: Membership
    prescriber: Membership
    nurse: Membership
    other_therapist: Membership
    other_admin: Membership
    patient: Patient  # Jordan, Demo clinic; Theo and Priya on the care team
    other_patient: Patient  # Olivia, Other clinic
    room: Room

    def member(self, name: str) -> Membership:
        return getattr(self, name)


def make_member(clinic: Clinic, email: str, name: str, role: Role) -> Membership:
    user = User.objects.create_user(email, PASSWORD, full_name=name)
    return Membership.objects.create(user=user, clinic=clinic, role=role)


PATIENT_DATA = {
    "legal_given_name": "Jordan",
    "legal_family_name": "Rivera",
    "date_of_birth": date(1986, 4, 12),
    "email": "jordan@example.org",
    "phone": "+1 303 555 0101",
}


@pytest.fixture
def world(db: None) -> World:
    demo = Clinic.objects.create(slug="demo", name="Demo KAP Clinic", time_zone="America/Denver")
    other = Clinic.objects.create(slug="other", name="Other KAP Clinic", time_zone="America/New_York")
    location = Location.objects.create(clinic=demo, name="Main")
    room = Room.objects.create(clinic=demo, location=location, name="Dosing room 1")
    w = World(
        demo=demo,
        other=other,
        admin=make_member(demo, "alex@demo.test", "Alex Admin", Role.CLINIC_ADMIN),
        frontdesk=make_member(demo, "frankie@demo.test", "Frankie Desk", Role.FRONT_DESK),
        therapist=make_member(demo, "theo@demo.test", "Theo Therapist", Role.THERAPIST),
        prescriber=make_member(demo, "priya@demo.test", "Priya Prescriber", Role.PRESCRIBER),
        nurse=make_member(demo, "nico@demo.test", "Nico Nurse", Role.NURSE),
        other_therapist=make_member(other, "olive@other.test", "Olive Other", Role.THERAPIST),
        other_admin=make_member(other, "oscar@other.test", "Oscar Other", Role.CLINIC_ADMIN),
        patient=None,  # type: ignore[arg-type]
        other_patient=None,  # type: ignore[arg-type]
        room=room,
    )
    w.patient = services.patient_create(member=w.frontdesk, data=dict(PATIENT_DATA, record_number="R-1"))
    for clinician in (w.therapist, w.prescriber):
        services.care_team_add(member=w.frontdesk, patient=w.patient, membership_id=clinician.pk)
    w.other_patient = services.patient_create(
        member=w.other_admin,
        data={"legal_given_name": "Olivia", "legal_family_name": "Stone", "date_of_birth": date(1990, 1, 1)},
    )
    return w


@pytest.fixture
def login(client: Client):
    """``login(membership)`` signs the test client in as that person (no 2FA device)."""

    def sign_in(member: Membership) -> Client:
        client.force_login(member.user)
        return client

    return sign_in


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rate-limit counts (API, sign-in, unknown tokens) live in the per-process cache: none leak between tests."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 is deliberately slow; tests that need it (test_passwords.py) put it back."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def portal_user(world: World) -> User:
    """Jordan's own sign-in to the patient portal (the "patient" persona)."""
    from kapflow.portal.models import PortalAccount

    user = User.objects.create_user("jordan.portal@example.org", PASSWORD, full_name="Jordan Rivera")
    PortalAccount.objects.create(user=user, patient=world.patient, clinic=world.demo)
    return user
