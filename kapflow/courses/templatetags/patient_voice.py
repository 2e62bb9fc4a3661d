"""``{% patient_voice course as voice %}``: the patient's intentions and shared journal for the
signed-in member (checked and logged by ``voice_selectors.patient_voice``)."""

from __future__ import annotations

from typing import Any

from django import template

from kapflow.courses.models import TreatmentCourse
from kapflow.courses.voice_selectors import patient_voice as select_voice

register = template.Library()


@register.simple_tag(takes_context=True)
def patient_voice(context: template.Context, course: TreatmentCourse) -> dict[str, Any]:
    given = context.get("voice")
    if isinstance(given, dict) and "intentions" in given:
        return given
    request = context.get("request")
    membership = getattr(request, "membership", None)
    if membership is None:
        return {"intentions": [], "shared_journal": []}
    return select_voice(member=membership, course=course)
