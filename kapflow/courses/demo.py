"""Demo course: the eligible demo patient (Jordan) has an active sublingual course with two
signed preparation notes, an intention and a shared journal entry."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from kapflow.accounts.models import Membership
from kapflow.courses import portal_services, services
from kapflow.courses.models import TreatmentCourse
from kapflow.patients.models import Patient
from kapflow.portal.models import PortalAccount

NOTES = [
    {
        "intentions_and_goals": '"I want to feel something other than flat. I want to be kinder to myself."',
        "explained": ["effects_and_duration", "medical_role", "therapist_role", "no_driving"],
        "safety_plan": "Reviewed; sister Sam is the support person. Crisis line given.",
        "fasting_and_escort_given": True,
        "readiness": "Curious and a little anxious; wants to continue.",
    },
    {
        "intentions_and_goals": "Revisited: to meet the self-critical voice with curiosity.",
        "explained": [
            "effects_and_duration",
            "medical_role",
            "therapist_role",
            "consent_to_touch",
            "if_difficult",
            "no_driving",
        ],
        "safety_plan": "Unchanged.",
        "fasting_and_escort_given": True,
        "readiness": "Ready for the first dosing session.",
    },
]


def load(therapist: Membership, prescriber: Membership) -> None:
    jordan = Patient.objects.filter(clinic=therapist.clinic, record_number="DEMO-0001").first()
    if jordan is None or TreatmentCourse.objects.filter(patient=jordan).exists():
        return
    today = timezone.localdate()
    course = services.course_create(
        member=therapist,
        patient=jordan,
        route="sublingual",
        planned_dosing_sessions=6,
        therapist_ids=[therapist.user_id],
        medical_ids=[prescriber.user_id],
        starts_on=today - timedelta(days=10),
    )
    services.course_set_status(member=therapist, course=course, status="active")
    for days_ago, content in zip((9, 2), NOTES, strict=True):
        visit = services.visit_create(
            member=therapist, course=course, kind="preparation", happened_on=today - timedelta(days=days_ago)
        )
        note = services.note_save_draft(
            member=therapist, note=visit.note, content=content, base_version=visit.note.version
        )
        services.note_sign(member=therapist, note=note, base_version=note.version)
    account = PortalAccount.objects.filter(patient=jordan).first()
    if account is not None:
        portal_services.intention_set(
            user=account.user,
            patient=jordan,
            text="To meet the critical voice in my head with curiosity, not fear.",
        )
        portal_services.journal_write(
            user=account.user,
            patient=jordan,
            shared=True,
            text="After our second preparation session I noticed I was less afraid of the first dose.",
        )
