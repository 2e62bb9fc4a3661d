import pytest

from kapflow.intake.prescreen import HEALTH_QUESTIONS

CONTACT = {
    "name": "Casey Morgan",
    "email": "casey@example.org",
    "phone": "",
    "preferred_contact": "email",
    "preferred_times": "evenings",
    "hopes": "Some hope after years of depression.",
    "heard_from": "friend",
    "consent_to_contact": "on",
    "website": "",
    "prescreen_token": "",
}
PRESCREEN = {"treatments": "two_or_more", "therapy": "yes", **{q.key: "no" for q in HEALTH_QUESTIONS}}


@pytest.fixture(autouse=True)
def demo_is_the_public_clinic(settings):
    settings.KAPFLOW_PUBLIC_CLINIC = "demo"
