"""Demo appointment requests in each state, so the triage queue shows real work."""

from __future__ import annotations

from typing import Any

from kapflow.accounts.models import Membership
from kapflow.clinics.models import Clinic
from kapflow.intake import services
from kapflow.intake.models import AppointmentRequest, ContactMethod, ContactOutcome, HeardFrom, RequestStatus

REQUESTS: list[dict[str, Any]] = [
    {
        "name": "Casey Morgan",
        "email": "casey.morgan@example.org",
        "phone": "",
        "preferred_contact": ContactMethod.EMAIL,
        "preferred_times": "Weekday evenings",
        "hopes": "Years of depression; nothing has lifted it for long. A friend told me about KAP.",
        "heard_from": HeardFrom.FRIEND,
        "answers": {
            "treatments": "two_or_more",
            "therapy": "yes",
            "psychosis": "no",
            "bipolar": "no",
            "pregnancy": "no",
            "vascular": "no",
            "blood_pressure": "no",
            "ketamine_reaction": "no",
            "substance_use": "no",
            "medicines": "unsure",
            "liver_bladder": "no",
        },
    },
    {
        "name": "Riley Park",
        "email": "",
        "phone": "+1 720 555 0188",
        "preferred_contact": ContactMethod.PHONE,
        "preferred_times": "Mornings before 10",
        "hopes": "My psychiatrist suggested I ask about ketamine for treatment-resistant depression.",
        "heard_from": HeardFrom.CLINICIAN,
        "answers": None,
        "status": RequestStatus.CONTACTED,
        "contact": (ContactMethod.PHONE, ContactOutcome.LEFT_MESSAGE, "Left a voicemail with our number."),
    },
    {
        "name": "Sam Ortiz",
        "email": "sam.ortiz@example.org",
        "phone": "+1 303 555 0144",
        "preferred_contact": ContactMethod.TEXT,
        "preferred_times": "",
        "hopes": "Anxiety and PTSD after an accident.",
        "heard_from": HeardFrom.SEARCH,
        "answers": None,
        "status": RequestStatus.SCREENING_BOOKED,
        "contact": (ContactMethod.TEXT, ContactOutcome.REACHED, "Screening booked for next Tuesday 10:00."),
    },
    {
        "name": "Alexis Grant",
        "email": "alexis.g@example.org",
        "phone": "",
        "preferred_contact": ContactMethod.EMAIL,
        "preferred_times": "",
        "hopes": "Curious whether this could help.",
        "heard_from": HeardFrom.ARTICLE,
        "answers": None,
        "status": RequestStatus.DECLINED,
        "contact": (
            ContactMethod.EMAIL,
            ContactOutcome.EMAIL_SENT,
            "Explained KAP is considered after other treatments; referred to primary care first.",
        ),
    },
]


def load(clinic: Clinic, desk: Membership) -> None:
    """Create the demo requests once (they are recognised by name)."""
    for spec in REQUESTS:
        if AppointmentRequest.objects.filter(clinic=clinic, name=spec["name"]).exists():
            continue
        data = {
            k: spec[k]
            for k in ("name", "email", "phone", "preferred_contact", "preferred_times", "hopes", "heard_from")
        }
        request = services.request_submit(
            clinic=clinic,
            data={**data, "consent_to_contact": True},
            answers=spec["answers"],
            source=f"demo:{spec['name']}",
            link="http://127.0.0.1:8000/c/demo/intake/{id}/",
        )
        if "contact" in spec:
            method, outcome, text = spec["contact"]
            services.request_record_contact(
                member=desk, request=request, method=method, outcome=outcome, text=text
            )
        if spec.get("status") and spec["status"] != RequestStatus.CONTACTED:
            services.request_set_status(member=desk, request=request, status=spec["status"])
    first = AppointmentRequest.objects.filter(clinic=clinic, name="Casey Morgan").first()
    duplicate_name = "Casey Morgan (again)"
    if first and not AppointmentRequest.objects.filter(clinic=clinic, name=duplicate_name).exists():
        again = services.request_submit(
            clinic=clinic,
            data={
                "name": duplicate_name,
                "email": "casey.morgan@example.org",
                "phone": "",
                "preferred_contact": ContactMethod.EMAIL,
                "preferred_times": "",
                "hopes": "Sent twice by mistake.",
                "heard_from": HeardFrom.FRIEND,
                "consent_to_contact": True,
            },
            answers=None,
            source="demo:again",
            link="http://127.0.0.1:8000/c/demo/intake/{id}/",
        )
        services.request_mark_duplicate(member=desk, request=again, of=str(first.public_id))
