"""Demo measures: a few months of PHQ-9 and GAD-7 for the demo patients, one open alert."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from kapflow.accounts.models import Membership
from kapflow.measures import services
from kapflow.measures.models import MeasureAssignment, MeasureResponse, SafetyAlert, Schedule
from kapflow.patients.models import Patient

# Totals every two weeks, oldest first: Jordan improves, Maggie improves less.
HISTORY = {
    "DEMO-0001": {"phq9": [19, 18, 15, 12, 10, 8, 7], "gad7": [14, 13, 11, 9, 8, 6, 5]},
    "DEMO-0002": {"phq9": [22, 21, 20, 17, 16, 15], "gad7": [17, 17, 15, 14, 13, 12]},
}


def _answers(key: str, total: int) -> dict[str, int]:
    """Item answers adding up to ``total``, spread evenly; PHQ-9 item 9 kept at 0."""
    items = [f"q{n}" for n in range(1, 10 if key == "phq9" else 8)]
    scored = items[:-1] if key == "phq9" else items
    answers = dict.fromkeys(items, 0)
    for index in range(total):
        item = scored[index % len(scored)]
        answers[item] = min(3, answers[item] + 1)
    return answers


def load(therapist: Membership) -> None:
    for record_number, series in HISTORY.items():
        patient = Patient.objects.filter(clinic=therapist.clinic, record_number=record_number).first()
        if patient is None or MeasureResponse.objects.filter(patient=patient).exists():
            continue
        now = timezone.now()
        for key, totals in series.items():
            for index, total in enumerate(totals):
                when = now - timedelta(days=14 * (len(totals) - index), hours=3)
                services.response_record_paper(
                    member=therapist,
                    patient=patient,
                    instrument_key=key,
                    answers=_answers(key, total),
                    answered_at=when,
                )
        if not MeasureAssignment.objects.filter(patient=patient).exists():
            services.assignment_create(
                member=therapist,
                patient=patient,
                instrument_key="phq9",
                schedule=Schedule.EVERY_N_DAYS,
                interval_days=14,
                starts_on=timezone.localdate(),
            )
    # Maggie's latest PHQ-9 answers item 9 "several days": an open safety alert for her team.
    maggie = Patient.objects.filter(clinic=therapist.clinic, record_number="DEMO-0002").first()
    if maggie is not None and not SafetyAlert.objects.filter(patient=maggie).exists():
        answers = _answers("phq9", 14)
        answers["q9"] = 1
        services.response_record_paper(
            member=therapist,
            patient=maggie,
            instrument_key="phq9",
            answers=answers,
            answered_at=timezone.now() - timedelta(hours=2),
        )
