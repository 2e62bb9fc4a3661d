"""Many rows of one model written at once: the synthetic network generator's inserter.

``Table.add`` takes a row as field names and Python values, fills what is left out from the
model's defaults, and keeps the row ready for the database. ``Table.flush`` writes the kept
rows with ``executemany`` (``COPY`` on PostgreSQL), far faster than building model instances for millions of rows.

Primary keys are handed out by the table (after the highest one already in the database), so
a child row can point at its parent before either is written; rows go out in the order the
caller flushes the tables, parents first. ``reset_sequences`` tells PostgreSQL afterwards.
No signals, history rows or ``save()`` checks run: this is for generated data only.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Max

Convert = Callable[[Any], Any]

# Field types whose Python value the database driver cannot take as it is.
_CONVERTED = (
    models.UUIDField,
    models.JSONField,
    models.DateTimeField,
    models.DateField,
    models.TimeField,
    models.DecimalField,
    models.BinaryField,
)
_NO_DEFAULT = object()
_CHUNK = 5000


class Table:
    """The pending rows of one model (or one many-to-many ``through`` model)."""

    def __init__(self, model: type[models.Model], rng: random.Random) -> None:
        self.model = model
        self.rng = rng
        meta = model._meta
        self.fields = list(meta.concrete_fields)
        self.positions = {f.attname: i for i, f in enumerate(self.fields)}
        self.pk_name = meta.pk.attname
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        # Table and column names come from the model, quoted; values are always parameters.
        self.sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608  # nosec B608
        self.copy = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
        self.convert: list[Convert | None] = [self._converter(f) for f in self.fields]
        self.template = [self._default(f) for f in self.fields]
        self.fill = [i for i, d in enumerate(self.template) if d is _NO_DEFAULT or callable(d)]
        self.rows: list[list[Any]] = []
        self.next_pk = (model._default_manager.aggregate(top=Max(self.pk_name))["top"] or 0) + 1
        self.written = 0

    @staticmethod
    def _converter(field: models.Field[Any, Any]) -> Convert | None:
        """What the driver is given for a value: Django's own adaptation, done the quick way
        for the types millions of rows carry (Django's goes through checks per value)."""
        if not isinstance(field, _CONVERTED):
            return None
        if connection.vendor == "sqlite":
            if isinstance(field, models.DateTimeField):
                return lambda value: value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
            if isinstance(field, models.DateField | models.TimeField | models.DecimalField):
                return str
            if isinstance(field, models.UUIDField):
                return lambda value: f"{value:032x}" if isinstance(value, int) else value.hex
            if isinstance(field, models.JSONField):
                return json.dumps
        elif isinstance(field, models.UUIDField):
            return lambda value: uuid.UUID(int=value) if isinstance(value, int) else value
        elif connection.vendor == "postgresql":
            # COPY takes datetimes, dates and decimals as they are, and JSON as its text.
            return json.dumps if isinstance(field, models.JSONField) else None
        return lambda value: field.get_db_prep_save(value, connection)

    def _default(self, field: models.Field[Any, Any]) -> Any:
        if isinstance(field, models.UUIDField) and not field.null:
            return _NO_DEFAULT  # made from the seeded generator, so the network is reproducible
        if field.has_default():
            return field.default if callable(field.default) else field.get_default()
        if field.null or field.primary_key:
            return None
        if field.empty_strings_allowed and not isinstance(field, _CONVERTED):
            return ""
        return _NO_DEFAULT

    def add(self, **values: Any) -> int:
        """Keep one row; returns its primary key."""
        pk = values.pop(self.pk_name, None)
        if pk is None:
            pk = self.next_pk
            self.next_pk += 1
        row = list(self.template)
        row[self.positions[self.pk_name]] = pk
        for name, value in values.items():
            row[self.positions[name]] = value
        for i in self.fill:
            value = row[i]
            if value is _NO_DEFAULT:
                field = self.fields[i]
                if not isinstance(field, models.UUIDField):
                    raise KeyError(f"{self.model.__name__}.{field.attname} needs a value")
                row[i] = _uuid4(self.rng.getrandbits(128))  # made into a UUID when written
            elif callable(value) and value is self.template[i]:
                row[i] = value()
        self.rows.append(row)
        return pk

    def flush(self) -> int:
        """Write the kept rows; returns how many were written."""
        count = len(self.rows)
        converters = [(i, c) for i, c in enumerate(self.convert) if c is not None]
        for row in self.rows:
            for i, convert in converters:
                if row[i] is not None:
                    row[i] = convert(row[i])
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(self.copy) as copy:  # COPY: an order of magnitude faster
                    for row in self.rows:
                        copy.write_row(row)
            else:
                for start in range(0, count, _CHUNK):
                    cursor.executemany(self.sql, self.rows[start : start + _CHUNK])
        self.rows = []
        self.written += count
        return count


def _uuid4(bits: int) -> int:
    """Random bits as a version 4 UUID's number (what ``uuid.UUID(int=..., version=4)`` does)."""
    bits &= ~(0xC000 << 48)
    bits |= 0x8000 << 48
    bits &= ~(0xF000 << 64)
    return bits | (4 << 76)


def reset_sequences(models_written: Iterable[type[models.Model]]) -> None:
    """After keys were handed out by hand, PostgreSQL's sequences must start past them."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(models_written))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
