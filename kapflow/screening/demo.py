"""Demo screening: one patient eligible (consent is signed by the consent demo), one not
eligible, one awaiting a decision with a hard-stop finding."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from kapflow.accounts.models import Membership
from kapflow.patients.models import Patient
from kapflow.screening import services
from kapflow.screening.models import HealthQuestionnaire, MedicalScreening

BASE: dict[str, Any] = {
    "conditions": [],
    "med_classes": [],
    "medications": "",
    "substance_use_active": False,
    "substance_use_notes": "",
    "pregnant_or_breastfeeding": False,
    "psychosis_history": False,
    "psychosis_family_history": False,
    "bipolar": False,
    "mood_stabiliser": False,
    "adequate_trials": 3,
    "psychotherapy_tried": True,
    "ect": False,
    "tms": False,
    "prior_ketamine": False,
    "systolic": 128,
    "diastolic": 82,
    "heart_rate": 72,
    "weight_kg": Decimal("68.0"),
    "height_cm": Decimal("170.0"),
    "notes": "",
}


def load(prescriber: Membership) -> None:
    clinic = prescriber.clinic
    patients = {p.record_number: p for p in Patient.objects.filter(clinic=clinic)}
    jordan, maggie, marcus = patients.get("DEMO-0001"), patients.get("DEMO-0002"), patients.get("DEMO-0003")
    if jordan and not MedicalScreening.objects.filter(patient=jordan).exists():
        if not HealthQuestionnaire.objects.filter(patient=jordan).exists():
            services.questionnaire_submit(
                user=prescriber.user,
                patient=jordan,
                data={
                    "conditions": [],
                    "other_conditions": "",
                    "medications": "Sertraline 100 mg daily",
                    "substance_use": "A glass of wine at weekends",
                    "pregnant_or_breastfeeding": "no",
                    "psychiatric_history": "Recurrent depression since 2017",
                    "psychosis": "no",
                    "bipolar": "no",
                    "antidepressant_trials": 3,
                    "psychotherapy": True,
                    "ect": False,
                    "tms": False,
                    "prior_ketamine": False,
                },
            )
        screening = services.screening_record(
            member=prescriber,
            patient=jordan,
            data={**BASE, "medications": "Sertraline 100 mg daily", "systolic": 142, "diastolic": 88},
        )  # a caution: blood pressure just above 140/90
        services.decision_record(
            member=prescriber,
            screening=screening,
            outcome="eligible",
            valid_until=timezone.localdate() + timedelta(days=180),
            routes=["sublingual", "intramuscular", "intravenous"],
        )
    if marcus and not MedicalScreening.objects.filter(patient=marcus).exists():
        screening = services.screening_record(
            member=prescriber, patient=marcus, data={**BASE, "psychosis_history": True, "adequate_trials": 1}
        )
        services.decision_record(
            member=prescriber,
            screening=screening,
            outcome="not_eligible",
            reason="History of psychosis (hard stop in the clinic's rules). Referred back to his psychiatrist.",
        )
    if maggie and not MedicalScreening.objects.filter(patient=maggie).exists():
        services.screening_record(
            member=prescriber, patient=maggie, data={**BASE, "systolic": 186, "diastolic": 112}
        )
