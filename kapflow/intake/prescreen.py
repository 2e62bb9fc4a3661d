"""The anonymous "Is KAP for me?" self-check: questions and what the answers mean.

Pure: no Django. It never says a person is eligible; that is a clinician's decision after
screening. It says either that KAP is worth discussing with the clinic, or that some answers
need a clinician's review first, and why, in plain words. Sources: DOMAIN.md (Spravato and
Ketalar labels; clinic exclusion lists; Sanacora et al., JAMA Psychiatry 2017).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    UNSURE = "unsure"


class Outcome(StrEnum):
    DISCUSS = "discuss"  # worth discussing with the clinic
    REVIEW = "review"  # some answers need a clinician's review first


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    # Why a "yes" (or "not sure") needs a clinician's review, in plain language.
    review_reason: str


TREATMENT_CHOICES: tuple[tuple[str, str], ...] = (
    ("none", "None yet"),
    ("one", "One antidepressant or other psychiatric medicine"),
    ("two_or_more", "Two or more such medicines"),
)

HEALTH_QUESTIONS: tuple[Question, ...] = (
    Question(
        "psychosis",
        "Have you ever been diagnosed with a psychotic disorder such as schizophrenia, or had "
        "hallucinations or beliefs others found very unusual?",
        "A history of psychosis can make ketamine unsafe; a clinician needs to talk this through with you.",
    ),
    Question(
        "bipolar",
        "Have you been diagnosed with bipolar disorder, or had periods of mania?",
        "Bipolar disorder needs a clinician's review, for example of whether a mood stabiliser is taken.",
    ),
    Question(
        "pregnancy",
        "Are you pregnant, breastfeeding, or planning a pregnancy soon?",
        "Ketamine is not used during pregnancy or breastfeeding without a clinician's careful review.",
    ),
    Question(
        "vascular",
        "Have you had an aneurysm, an arteriovenous malformation, or bleeding in the brain?",
        "These conditions are listed as reasons not to use ketamine on the medicine's label.",
    ),
    Question(
        "blood_pressure",
        "Do you have high blood pressure that is not under control?",
        "Ketamine raises blood pressure for a while; uncontrolled high blood pressure must be treated first.",
    ),
    Question(
        "ketamine_reaction",
        "Have you ever had an allergy or a bad reaction to ketamine?",
        "A past reaction to ketamine needs a clinician's review before any dose.",
    ),
    Question(
        "substance_use",
        "Do you currently have a problem with alcohol or drug use?",
        "Active substance use changes whether and how KAP can be offered safely.",
    ),
    Question(
        "medicines",
        "Do you take MAO inhibitors, stimulants (for example for ADHD), benzodiazepines or "
        "other sedatives, or theophylline?",
        "Some medicines interact with ketamine; a prescriber will review what you take.",
    ),
    Question(
        "liver_bladder",
        "Do you have liver disease, or have you had bladder inflammation (cystitis)?",
        "Liver and bladder problems call for caution with ketamine.",
    ),
)
QUESTION_KEYS = frozenset(q.key for q in HEALTH_QUESTIONS)

FEW_TREATMENTS_NOTE = (
    "KAP is usually considered when other treatments have not helped enough. The clinic can "
    "talk with you about the options that fit where you are now."
)


@dataclass(frozen=True)
class PrescreenResult:
    outcome: Outcome
    reasons: tuple[str, ...]  # why a clinician's review is needed (outcome REVIEW)
    notes: tuple[str, ...]  # further plain-language points


class InvalidAnswers(ValueError):
    """The answers are incomplete or not among the choices offered."""


def evaluate(answers: Mapping[str, str]) -> PrescreenResult:
    """What the answers mean. ``answers`` maps each question key (and "treatments",
    "therapy") to one of the offered values; anything else raises ``InvalidAnswers``."""
    treatments = answers.get("treatments")
    if treatments not in {value for value, _label in TREATMENT_CHOICES}:
        raise InvalidAnswers("treatments")
    therapy = answers.get("therapy")
    if therapy not in {"yes", "no"}:
        raise InvalidAnswers("therapy")
    reasons: list[str] = []
    for question in HEALTH_QUESTIONS:
        value = answers.get(question.key)
        if value not in set(Answer):
            raise InvalidAnswers(question.key)
        if value in {Answer.YES, Answer.UNSURE}:
            reasons.append(question.review_reason)
    notes: list[str] = []
    if treatments != "two_or_more" or therapy != "yes":
        notes.append(FEW_TREATMENTS_NOTE)
    outcome = Outcome.REVIEW if reasons else Outcome.DISCUSS
    return PrescreenResult(outcome=outcome, reasons=tuple(reasons), notes=tuple(notes))
