"""Staff roles, as plain values so pure rule modules can use them without Django."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CLINIC_ADMIN = "clinic_admin"
    FRONT_DESK = "front_desk"
    THERAPIST = "therapist"
    PRESCRIBER = "prescriber"
    NURSE = "nurse"


MEDICAL_ROLES = frozenset({Role.PRESCRIBER, Role.NURSE})
CLINICAL_ROLES = frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.NURSE})
