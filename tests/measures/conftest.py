from datetime import timedelta

import pytest
from django.utils import timezone

from kapflow.measures import services

PHQ9_ALL_ONE = {f"q{n}": 1 for n in range(1, 10)}  # total 9, item 9 "several days"
PHQ9_CALM = {**{f"q{n}": 1 for n in range(1, 9)}, "q9": 0}  # total 8, no flag


def phq9(total_items: dict[str, int] | None = None) -> dict[str, int]:
    return dict(total_items or PHQ9_CALM)


@pytest.fixture
def due_phq9(world):
    """A PHQ-9 due now for Jordan, assigned by Theo (on the care team)."""
    assignment = services.assignment_create(
        member=world.therapist,
        patient=world.patient,
        instrument_key="phq9",
        schedule="once",
        starts_on=timezone.localdate() - timedelta(days=1),
    )
    return assignment.requests.get()
