"""Create or refresh the demo clinic, so a new user can walk the whole pathway at once."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from kapflow.accounts.models import Membership, User
from kapflow.clinics.models import Clinic, Location, Room, RoomKind
from kapflow.consent import demo as consent_demo
from kapflow.core.roles import Role
from kapflow.courses import demo as courses_demo
from kapflow.dosing import demo as dosing_demo
from kapflow.intake import demo as intake_demo
from kapflow.measures import demo as measures_demo
from kapflow.outcomes import demo as outcomes_demo
from kapflow.patients import services
from kapflow.patients.models import CareTeamMember, ClinicalBackground, Patient
from kapflow.portal.models import PortalAccount
from kapflow.scheduling import demo as scheduling_demo
from kapflow.screening import demo as screening_demo

PASSWORD = "kapflow-demo"  # noqa: S105 - the published demo password, refused in production  # nosec B105

STAFF = [
    ("admin@demo.kapflow.test", "Alex Admin", Role.CLINIC_ADMIN, "demo"),
    ("frontdesk@demo.kapflow.test", "Frankie Desk", Role.FRONT_DESK, "demo"),
    ("therapist@demo.kapflow.test", "Theo Therapist", Role.THERAPIST, "demo"),
    ("prescriber@demo.kapflow.test", "Dr. Priya Prescriber", Role.PRESCRIBER, "demo"),
    ("nurse@demo.kapflow.test", "Nico Nurse", Role.NURSE, "demo"),
    ("therapist@other.kapflow.test", "Olive Other", Role.THERAPIST, "other"),
    ("admin@other.kapflow.test", "Oscar Other-Admin", Role.CLINIC_ADMIN, "other"),
]

# The demo patient's own sign-in to the patient portal: (email, record number of the patient).
PORTAL_LOGIN = ("patient@demo.kapflow.test", "DEMO-0001")

PATIENTS: list[dict[str, Any]] = [
    {
        "record_number": "DEMO-0001",
        "legal_given_name": "Jordan",
        "legal_family_name": "Rivera",
        "preferred_name": "Jo",
        "pronouns": "they/them",
        "date_of_birth": date(1986, 4, 12),
        "sex_at_birth": "female",
        "gender_identity": "Non-binary",
        "email": "jordan.rivera@example.org",
        "phone": "+1 303 555 0101",
        "address": "12 Aspen Way\nBoulder, CO 80302",
        "emergency_contact_name": "Sam Rivera",
        "emergency_contact_relationship": "Sibling",
        "emergency_contact_phone": "+1 303 555 0199",
        "background": {
            "presenting_concerns": "Recurrent major depression for 9 years; three adequate antidepressant trials and two courses of CBT without remission.",
            "diagnoses": "F33.1 Major depressive disorder, recurrent, moderate",
            "allergies": "Penicillin (rash)",
            "referral_source": "Dr. Hale, primary care",
        },
    },
    {
        "record_number": "DEMO-0002",
        "legal_given_name": "Margaret",
        "legal_family_name": "Chen",
        "preferred_name": "Maggie",
        "pronouns": "she/her",
        "date_of_birth": date(1972, 11, 3),
        "sex_at_birth": "female",
        "gender_identity": "Woman",
        "email": "maggie.chen@example.org",
        "phone": "+1 720 555 0142",
        "address": "400 Pearl St, Apt 5\nDenver, CO 80203",
        "emergency_contact_name": "Wei Chen",
        "emergency_contact_relationship": "Spouse",
        "emergency_contact_phone": "+1 720 555 0143",
        "background": {
            "presenting_concerns": "Treatment-resistant depression with anxious distress after bereavement.",
            "diagnoses": "F32.2 Major depressive disorder, single episode, severe\nF41.1 Generalized anxiety disorder",
            "allergies": "None known",
            "referral_source": "Self-referred",
        },
    },
    {
        "record_number": "DEMO-0003",
        "legal_given_name": "Marcus",
        "legal_family_name": "Okafor",
        "preferred_name": "",
        "pronouns": "he/him",
        "date_of_birth": date(1991, 2, 27),
        "sex_at_birth": "male",
        "gender_identity": "Man",
        "email": "",
        "phone": "+1 303 555 0177",
        "address": "",
        "emergency_contact_name": "",
        "emergency_contact_relationship": "",
        "emergency_contact_phone": "",
        "background": None,
    },
]


class Command(BaseCommand):
    help = "Create or refresh the demo clinic (refused when KAPFLOW_ENV=production)."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("The demo clinic is refused in production: it has published passwords.")
        with transaction.atomic():
            clinics = self._clinics()
            members = self._staff(clinics)
            self._patients(members)
            intake_demo.load(clinics["demo"], members["frontdesk@demo.kapflow.test"])
            measures_demo.load(members["therapist@demo.kapflow.test"])
            screening_demo.load(members["prescriber@demo.kapflow.test"])
            self._portal_account(clinics["demo"])
            consent_demo.load(members["admin@demo.kapflow.test"])
            courses_demo.load(members["therapist@demo.kapflow.test"], members["prescriber@demo.kapflow.test"])
            dosing_demo.load(
                desk=members["frontdesk@demo.kapflow.test"],
                therapist=members["therapist@demo.kapflow.test"],
                prescriber=members["prescriber@demo.kapflow.test"],
                nurse=members["nurse@demo.kapflow.test"],
            )
            scheduling_demo.load(
                desk=members["frontdesk@demo.kapflow.test"],
                therapist=members["therapist@demo.kapflow.test"],
                prescriber=members["prescriber@demo.kapflow.test"],
                nurse=members["nurse@demo.kapflow.test"],
            )
            outcomes_demo.load(
                desk=members["frontdesk@demo.kapflow.test"],
                therapist=members["therapist@demo.kapflow.test"],
                prescriber=members["prescriber@demo.kapflow.test"],
                nurse=members["nurse@demo.kapflow.test"],
            )
        self.stdout.write(self.style.SUCCESS("Demo clinic ready."))
        self.stdout.write(
            "  Public site:  http://127.0.0.1:8000/  (with KAPFLOW_PUBLIC_CLINIC=demo, as make run sets)"
        )
        self.stdout.write("  Sign in at:   http://127.0.0.1:8000/accounts/login/  with:")
        for email, _name, role, slug in STAFF:
            self.stdout.write(f"  {email:34} {role.value:13} ({clinics[slug].name})")
        self.stdout.write(f"  {PORTAL_LOGIN[0]:34} {'patient':13} (portal of {clinics['demo'].name})")
        self.stdout.write(f"  password for all: {PASSWORD}")
        self.stdout.write(
            "  API:          http://127.0.0.1:8000/api/docs/  (a token: .venv/bin/kapflow token create EMAIL)"
        )

    def _clinics(self) -> dict[str, Clinic]:
        demo, _ = Clinic.objects.update_or_create(
            slug="demo",
            defaults={
                "name": "Demo KAP Clinic",
                "time_zone": "America/Denver",
                "address": "1200 Walnut Street, Suite 300\nBoulder, CO 80302",
                "phone": "+1 303 555 0100",
                "email": "hello@demo.kapflow.test",
                "is_active": True,
                # Small enough that the demo's year of history shows every figure of the dashboard.
                "report_min_group": 3,
            },
        )
        other, _ = Clinic.objects.update_or_create(
            slug="other",
            defaults={
                "name": "Other KAP Clinic",
                "time_zone": "America/New_York",
                "is_active": True,
            },
        )
        location, _ = Location.objects.get_or_create(
            clinic=demo, name="Walnut Street", defaults={"address": demo.address}
        )
        for name, kind in (
            ("Dosing room 1", RoomKind.TREATMENT),
            ("Dosing room 2", RoomKind.TREATMENT),
            ("Consultation room", RoomKind.CONSULTATION),
        ):
            Room.objects.get_or_create(clinic=demo, location=location, name=name, defaults={"kind": kind})
        Location.objects.get_or_create(clinic=other, name="Main office")
        return {"demo": demo, "other": other}

    def _staff(self, clinics: dict[str, Clinic]) -> dict[str, Membership]:
        members = {}
        for email, name, role, slug in STAFF:
            user = User.objects.filter(email=email).first() or User(email=email)
            user.full_name = name
            user.is_active = True
            user.set_password(PASSWORD)
            user.save()
            membership, _ = Membership.objects.update_or_create(
                user=user,
                clinic=clinics[slug],
                defaults={"role": role, "is_active": True, "deactivated_at": None},
            )
            members[email] = membership
        return members

    def _patients(self, members: dict[str, Membership]) -> None:
        desk = members["frontdesk@demo.kapflow.test"]
        therapist = members["therapist@demo.kapflow.test"]
        prescriber = members["prescriber@demo.kapflow.test"]
        for spec in PATIENTS:
            data = {k: v for k, v in spec.items() if k != "background"}
            patient = Patient.objects.filter(clinic=desk.clinic, record_number=data["record_number"]).first()
            if patient is None:
                patient = services.patient_create(member=desk, data=data)
            for clinician in (therapist, prescriber):
                if not CareTeamMember.objects.filter(
                    patient=patient, user=clinician.user, removed_at__isnull=True
                ).exists():
                    services.care_team_add(member=desk, patient=patient, membership_id=clinician.pk)
            if spec["background"] and not ClinicalBackground.objects.filter(patient=patient).exists():
                services.clinical_background_save(
                    member=therapist, patient=patient, data=spec["background"], base_version=None
                )

    def _portal_account(self, clinic: Clinic) -> None:
        """Jordan Rivera (DEMO-0001) signs in to the patient portal as an invited patient would."""
        email, record_number = PORTAL_LOGIN
        patient = Patient.objects.get(clinic=clinic, record_number=record_number)
        account = PortalAccount.objects.filter(patient=patient).select_related("user").first()
        user = account.user if account is not None else User.objects.filter(email=email).first()
        user = user or User(email=email)
        user.email = email
        user.full_name = patient.display_name
        user.is_active = True
        user.set_password(PASSWORD)
        user.save()
        PortalAccount.objects.update_or_create(
            patient=patient, defaults={"user": user, "clinic": clinic, "is_active": True}
        )
