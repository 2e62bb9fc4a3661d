"""The rules of treatment courses, pure (no Django): note templates as data, checking a
note's content against its template, and the course's next step in plain words.

Labels are marked with ``gettext_noop`` (a local stand-in, so this module imports nothing
from Django) for ``makemessages``; templates translate them with ``{% translate field.label %}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

MAX_TEXT = 10_000


def gettext_noop(text: str) -> str:
    return text


class FieldKind(StrEnum):
    TEXT = "text"
    CHECKLIST = "checklist"
    BOOL = "bool"


@dataclass(frozen=True)
class Option:
    key: str
    label: str


@dataclass(frozen=True)
class NoteField:
    name: str
    label: str
    kind: FieldKind = FieldKind.TEXT
    help: str = ""
    options: tuple[Option, ...] = ()


@dataclass(frozen=True)
class NoteTemplate:
    key: str
    title: str
    fields: tuple[NoteField, ...]

    def field(self, name: str) -> NoteField | None:
        return next((f for f in self.fields if f.name == name), None)


EXPLAINED = (
    Option("effects_and_duration", gettext_noop("Effects and how long they last for the chosen route")),
    Option("medical_role", gettext_noop("The medical professional's role")),
    Option("therapist_role", gettext_noop("The therapist's role")),
    Option("consent_to_touch", gettext_noop("Consent to touch")),
    Option("if_difficult", gettext_noop("What happens if it gets difficult")),
    Option("no_driving", gettext_noop("No driving until the next day")),
)

PREPARATION = NoteTemplate(
    "preparation",
    gettext_noop("Preparation note"),
    (
        NoteField(
            "intentions_and_goals",
            gettext_noop("Intentions and goals"),
            help=gettext_noop("In the patient's own words."),
        ),
        NoteField("explained", gettext_noop("What was explained"), FieldKind.CHECKLIST, options=EXPLAINED),
        NoteField("safety_plan", gettext_noop("Safety plan")),
        NoteField(
            "fasting_and_escort_given", gettext_noop("Fasting and escort instructions given"), FieldKind.BOOL
        ),
        NoteField("readiness", gettext_noop("Readiness")),
    ),
)
INTEGRATION = NoteTemplate(
    "integration",
    gettext_noop("Integration note"),
    (
        NoteField(
            "follows_session",
            gettext_noop("The dosing session it follows"),
            help=gettext_noop("Date and number of the session."),
        ),
        NoteField("what_came_up", gettext_noop("What came up")),
        NoteField("insights_and_themes", gettext_noop("Insights and themes")),
        NoteField("relation_to_intentions", gettext_noop("How they relate to the intentions set")),
        NoteField("action_steps", gettext_noop("Action steps")),
        NoteField("measures_reviewed", gettext_noop("Measures reviewed")),
    ),
)
FOLLOW_UP = NoteTemplate(
    "follow_up", gettext_noop("Follow-up note"), (NoteField("notes", gettext_noop("Notes")),)
)

DOSING = NoteTemplate(
    "dosing",
    gettext_noop("Guide note of a dosing session"),
    (
        NoteField("intention_revisited", gettext_noop("Intention revisited before dosing")),
        NoteField("course_of_session", gettext_noop("Course of the session")),
        NoteField("support_given", gettext_noop("Support given")),
        NoteField("themes_for_integration", gettext_noop("Themes to take to integration")),
    ),
)

TEMPLATES: dict[str, NoteTemplate] = {t.key: t for t in (PREPARATION, INTEGRATION, FOLLOW_UP, DOSING)}


class ContentError(ValueError):
    """The content does not fit the template; ``message`` says how, in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def template_for(key: str) -> NoteTemplate:
    try:
        return TEMPLATES[key]
    except KeyError:
        raise ContentError(f"There is no note template '{key}'.") from None


def _clean_value(spec: NoteField, value: Any) -> Any:
    if spec.kind == FieldKind.TEXT:
        if not isinstance(value, str):
            raise ContentError(f"'{spec.name}' must be text.")
        if len(value) > MAX_TEXT:
            raise ContentError(
                f"'{spec.name}' is {len(value):,} characters long; the most a field holds is {MAX_TEXT:,}."
            )
        return value
    if spec.kind == FieldKind.BOOL:
        if not isinstance(value, bool):
            raise ContentError(f"'{spec.name}' must be yes or no.")
        return value
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ContentError(f"'{spec.name}' must be a list of checklist items.")
    keys = [o.key for o in spec.options]
    unknown = sorted(set(value) - set(keys))
    if unknown:
        raise ContentError(f"'{spec.name}' has no item {', '.join(unknown)}.")
    return [k for k in keys if k in value]  # the template's order, no repeats


def validate_content(template: str, content: dict[str, Any]) -> dict[str, Any]:
    """The content, checked against the template: unknown fields are refused, texts are at
    most ``MAX_TEXT`` characters, checklists name only the template's items."""
    spec = template_for(template)
    if not isinstance(content, dict):
        raise ContentError("A note's content is a set of named fields.")
    unknown = sorted(set(content) - {f.name for f in spec.fields})
    if unknown:
        raise ContentError(f"The {spec.key} note has no field {', '.join(unknown)}.")
    cleaned: dict[str, Any] = {}
    for f in spec.fields:
        if f.name in content:
            cleaned[f.name] = _clean_value(f, content[f.name])
    return cleaned


# --- the next step ------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseFacts:
    """Plain facts about one course and the patient's gate."""

    status: str  # a CourseStatus value
    preparation_done: int
    preparation_required: int
    planned_sessions: int
    blockers: tuple[str, ...] = field(default=())  # the gate's messages, besides preparation
    sessions_done: int = 0  # dosing sessions held (none until dosing exists)


def _visits(n: int) -> str:
    return "visit" if n == 1 else "visits"


def next_step(facts: CourseFacts) -> str:
    """What the course needs next, in plain words, for the course timeline."""
    if facts.status == "completed":
        return "The course is completed."
    if facts.status == "discontinued":
        return "The course was discontinued."
    if facts.status == "paused":
        return "The course is paused; resume it before the next dosing session."
    if facts.planned_sessions and facts.sessions_done >= facts.planned_sessions:
        return f"All {facts.planned_sessions} planned dosing sessions are done: complete the course."
    session = facts.sessions_done + 1
    not_ready = "Not ready: " + " ".join(facts.blockers) if facts.blockers else ""
    if session == 1 and facts.preparation_done < facts.preparation_required:
        missing = facts.preparation_required - facts.preparation_done
        step = (
            f"{facts.preparation_done} of {facts.preparation_required} preparation "
            f"{_visits(facts.preparation_required)} done: {missing} more before the first dosing session"
        )
        return f"{step}. {not_ready}" if not_ready else step
    if not_ready:
        return not_ready
    if session == 1 and facts.preparation_required:
        done = f"{facts.preparation_done} of {facts.preparation_required} preparation {_visits(facts.preparation_required)} done"
        return f"{done}, consent signed: ready for dosing session 1"
    return f"Consent signed: ready for dosing session {session}"
