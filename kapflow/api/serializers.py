"""The base of every API serializer: unknown or read-only fields in a request are errors.

A silently ignored field is a bug report waiting to happen (a program believes it set the
author or the signed time); naming it in a 400 tells the caller at once. So is a value of the
wrong JSON type: DRF would store the number 123 as the name "123" and read the string "true"
as a boolean; a request body must send each field as the type the schema declares (query
strings, which are all text, are read by DRF's rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django.utils.translation import gettext as _
from rest_framework import serializers

FROM_QUERY_STRING = "from_query_string"  # in a serializer's context: its data are query parameters


class DateTimeField(serializers.DateTimeField):
    """DRF's, but a time that leaves Python's range in the clinic's zone is a 400, not a 500
    (``9999-12-31T23:59:59`` without a zone: DRF's own check of the zone overflows)."""

    def to_internal_value(self, value: Any) -> Any:
        try:
            return super().to_internal_value(value)
        except OverflowError:
            self.fail("overflow")


def _json_type(field: serializers.Field) -> tuple[tuple[type, ...], str] | None:
    """The JSON types a request may send for ``field`` (``None``: any)."""
    if isinstance(field, serializers.BooleanField):
        return (bool,), _("a boolean (true or false)")
    if isinstance(field, serializers.IntegerField):
        return (int, float), _("a whole number")
    if isinstance(field, serializers.FloatField | serializers.DecimalField):
        return (int, float, str), _("a number")
    if isinstance(
        field, serializers.ListField | serializers.MultipleChoiceField | serializers.ListSerializer
    ):
        return (list,), _("an array")
    if isinstance(field, serializers.DictField | serializers.Serializer):
        return (Mapping,), _("an object")
    if isinstance(field, serializers.JSONField):
        return None
    if isinstance(
        field,
        serializers.CharField
        | serializers.ChoiceField
        | serializers.UUIDField
        | serializers.DateField
        | serializers.DateTimeField
        | serializers.TimeField
        | serializers.DurationField,
    ):
        return (str,), _("a string")
    return None


def json_type_error(field: serializers.Field, value: Any) -> str | None:
    """Why ``value`` is not of the JSON type ``field`` takes (``None``: it is, or it is null,
    which the field's own ``allow_null`` decides). Within the type, DRF's rules apply (a
    whole number sent as 5.0 is 5; 5.5 is refused by the field)."""
    expected = _json_type(field)
    if value is None or expected is None:
        return None
    types, name = expected
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        return _("Send %(type)s.") % {"type": name}
    if isinstance(field, serializers.ListField) and field.child is not None:
        child = _json_type(field.child)
        if child is not None and any(json_type_error(field.child, item) for item in cast(list[Any], value)):
            return _("Send an array whose items are each %(type)s.") % {"type": child[1]}
    return None


class Strict(serializers.Serializer):
    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError({"non_field_errors": [_("Send a JSON object.")]})
        writable = {name for name, field in self.fields.items() if not field.read_only}
        problems: dict[str, list[str]] = {}
        for name in data:
            if name in writable:
                continue
            if name in self.fields:
                problems[str(name)] = [_("This field is set by kapflow and cannot be changed.")]
            else:
                problems[str(name)] = [_("Unknown field.")]
        if problems:
            raise serializers.ValidationError(problems)
        if self.context.get(FROM_QUERY_STRING):
            return super().to_internal_value(data)
        for name in data:
            wrong_type = json_type_error(self.fields[name], data[name])
            if wrong_type:
                problems[name] = [wrong_type]
        if not problems:
            return super().to_internal_value(data)
        try:  # the other fields' problems too, so the caller sees every one at once
            super().to_internal_value({k: v for k, v in data.items() if k not in problems})
        except serializers.ValidationError as exc:
            found = exc.detail if isinstance(exc.detail, Mapping) else {"non_field_errors": exc.detail}
            problems.update({str(k): v for k, v in found.items() if k not in problems})
        raise serializers.ValidationError(problems)


class ListFilter(Strict):
    """Query parameters shared by the list endpoints."""

    patient = serializers.UUIDField(required=False, help_text="Only this patient's records (public id).")
    since = serializers.DateField(required=False, help_text="On or after this date (the clinic's time zone).")
    until = serializers.DateField(
        required=False, help_text="On or before this date (the clinic's time zone)."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since > until:
            raise serializers.ValidationError({"until": [_("Must not be before 'since'.")]})
        return attrs


def query(serializer_class: type[serializers.Serializer], params: Mapping[str, Any]) -> dict[str, Any]:
    """Validated query parameters (400 with field errors otherwise); paging keys pass through."""
    data = {key: params[key] for key in params if key not in {"page", "page_size", "format"}}
    found = serializer_class(data=data, context={FROM_QUERY_STRING: True})
    found.is_valid(raise_exception=True)
    return dict(found.validated_data)
