"""``/api/v1/notes/``: clinical notes of visits, for the clinicians on the patient's care team.

The author edits a draft (the fields of the note's template, checked by the same rules and form
as the note editor) and signs it; a signed note never changes and is corrected by addenda.
Psychotherapy notes are kept apart and never appear here.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from kapflow.api.serializers import ListFilter, Strict
from kapflow.api.versions import honour_if_match, tagged, versioned_change
from kapflow.api.views.base import ApiViewSet
from kapflow.api.views.common import (
    ETAG,
    IF_MATCH,
    NoBody,
    StaffOut,
    form_errors,
    in_clinic,
)
from kapflow.core.permissions import Action
from kapflow.courses import rules, selectors, services
from kapflow.courses.forms import AddendumForm, content_of, note_form_class
from kapflow.courses.models import Addendum, ClinicalNote, NoteStatus, Visit

CONTENT_HELP = (
    "The note's fields, by the template's field names: text fields are strings (at most 10,000 "
    "characters), yes/no fields booleans, checklists lists of item keys. Templates: "
    + "; ".join(f"{t.key}: {', '.join(f.name for f in t.fields)}" for t in rules.TEMPLATES.values())
    + "."
)


class AddendumOut(serializers.ModelSerializer):
    author = StaffOut(read_only=True)

    class Meta:
        model = Addendum
        fields = ["text", "author", "created_at"]
        read_only_fields = fields


class NoteOut(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    visit = serializers.UUIDField(source="visit.public_id", read_only=True)
    course = serializers.UUIDField(source="visit.course.public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    happened_on = serializers.DateField(source="visit.happened_on", read_only=True)
    author = StaffOut(read_only=True)

    class Meta:
        model = ClinicalNote
        fields = [
            "id", "visit", "course", "patient", "happened_on", "template", "status", "author", "signed_at",
            "version", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class NoteDetailOut(NoteOut):
    content = serializers.DictField(read_only=True, help_text=CONTENT_HELP)
    addenda = AddendumOut(many=True, read_only=True)

    class Meta(NoteOut.Meta):
        fields = [*NoteOut.Meta.fields, "content", "addenda"]
        read_only_fields = fields


class NoteQuery(ListFilter):
    """``since``/``until`` bound the day of the note's visit."""

    visit = serializers.UUIDField(required=False, help_text="Only this visit's note (public id).")
    status = serializers.ChoiceField(choices=NoteStatus.choices, required=False)


class NoteIn(Strict):
    content = serializers.DictField(
        help_text="The fields to change; the others keep their saved value. " + CONTENT_HELP
    )


class AddendumIn(Strict):
    text = serializers.CharField(max_length=rules.MAX_TEXT)


def _notes() -> Any:
    return ClinicalNote.objects.select_related("visit__course", "patient", "author").filter(
        voided_at__isnull=True
    )


def _content(note: ClinicalNote, changes: dict[str, Any]) -> dict[str, Any]:
    """The note's content with the caller's changes, checked as the note editor checks it:
    the template's rules (unknown fields, types, lengths, checklist items), then its form."""
    template = rules.template_for(note.template)
    names = {spec.name for spec in template.fields}
    problems_found: dict[str, list[str]] = {}
    for key, value in changes.items():
        if key not in names:
            problems_found[str(key)] = [
                _("The %(template)s note has no such field.") % {"template": template.key}
            ]
            continue
        try:
            rules.validate_content(template.key, {key: value})
        except rules.ContentError as exc:
            problems_found[key] = [exc.message]
    if problems_found:
        raise ValidationError({"content": problems_found})
    merged = {**note.content, **changes}
    form = note_form_class(template)(data={**merged, "version": note.version})
    if not form.is_valid():
        raise ValidationError({"content": form_errors(form)})
    return content_of(form, template)


class NoteViewSet(ApiViewSet):
    serializer_class = NoteOut

    def _note(self, action: Action = Action.CLINICAL_VIEW) -> ClinicalNote:
        found = selectors.access_note(member=self.member, note_id=self.lookup(), action=action)
        return _notes().prefetch_related("addenda__author").get(pk=found.pk)

    @extend_schema(parameters=[NoteQuery], responses=NoteOut(many=True))
    def list(self, request: Request) -> Response:
        """Notes of the visits of the patients on your care teams (or of ``patient``, or of ``visit``)."""
        filters = self.filters(NoteQuery)
        rows = _notes().filter(
            clinic=self.member.clinic, patient__in=self.patients_in_scope(filters).values("pk")
        )
        if filters.get("visit"):
            visit = in_clinic(
                Visit.objects.filter(voided_at__isnull=True),
                self.member,
                filters["visit"],
                Action.CLINICAL_VIEW,
                "visit",
            )
            rows = rows.filter(visit=visit)
        if filters.get("since"):
            rows = rows.filter(visit__happened_on__gte=filters["since"])
        if filters.get("until"):
            rows = rows.filter(visit__happened_on__lte=filters["until"])
        if filters.get("status"):
            rows = rows.filter(status=filters["status"])
        return self.page(rows.order_by("-visit__happened_on", "-id"), NoteOut, what="clinical notes")

    @extend_schema(parameters=[ETAG], responses=NoteDetailOut)
    def retrieve(self, request: Request, public_id: str) -> Response:
        note = self._note()
        selectors.note_view(member=self.member, note=note)
        return tagged(Response(NoteDetailOut(note).data), note)

    @extend_schema(
        request=NoteIn,
        parameters=[IF_MATCH, ETAG],
        responses=NoteDetailOut,
    )
    def partial_update(self, request: Request, public_id: str) -> Response:
        """Save the draft (its author only): the fields sent replace the saved ones."""
        note = self._note(Action.CLINICAL_EDIT)
        incoming = NoteIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        content = _content(note, dict(incoming.validated_data["content"]))
        saved = versioned_change(
            request,
            note,
            lambda version: services.note_save_draft(
                member=self.member, note=note, content=content, base_version=version
            ),
        )
        return tagged(Response(NoteDetailOut(self._reread(saved)).data), saved)

    @extend_schema(
        request=None,
        parameters=[IF_MATCH, ETAG],
        responses=NoteDetailOut,
    )
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, public_id: str) -> Response:
        """Sign the draft as last saved (its author only): from then on it never changes."""
        note = self._note(Action.CLINICAL_EDIT)
        NoBody(data=request.data).is_valid(raise_exception=True)
        signed = versioned_change(
            request,
            note,
            lambda version: services.note_sign(member=self.member, note=note, base_version=version),
        )
        return tagged(Response(NoteDetailOut(self._reread(signed)).data), signed)

    @extend_schema(request=AddendumIn, responses={201: AddendumOut})
    @action(detail=True, methods=["post"])
    def addenda(self, request: Request, public_id: str) -> Response:
        """Add a correction or addition to a signed note (any clinician on the care team)."""
        note = self._note(Action.CLINICAL_EDIT)
        incoming = AddendumIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        form = AddendumForm(data={"text": incoming.validated_data["text"]})
        if not form.is_valid():
            raise ValidationError(form_errors(form))
        honour_if_match(request, note)
        addendum = services.addendum_add(member=self.member, note=note, text=form.cleaned_data["text"])
        return Response(AddendumOut(addendum).data, status=status.HTTP_201_CREATED)

    def _reread(self, note: ClinicalNote) -> ClinicalNote:
        return _notes().prefetch_related("addenda__author").get(pk=note.pk)
