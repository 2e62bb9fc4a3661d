"""Instrument definitions as JSON: a clinic's upload in, and any instrument out.

``parse_definition`` reads a JSON-decoded object and either returns the ``Instrument`` or
raises ``DefinitionError`` listing every problem it found, each a plain sentence naming the
exact place (``item "q3" appears twice``, ``bands 5-9 and 8-14 overlap``). Unknown keys are
refused at every level, so a misspelt field is never silently ignored.

The format is what ``to_definition`` writes::

    {"key": "cadss6", "version": "1", "name": "...", "short_name": "...",
     "rater": "patient" | "observer", "scoring": "sum" | "single",
     "intro": "", "source": "", "loinc_panel": "", "loinc_total": "",
     "items": [{"id": "q1", "text": "...", "code": "",
                "options": [{"value": 0, "label": "...", "code": ""}, ...],
                "show_if": {"item": "q0", "values": [1]}}, ...],
     "bands": [{"low": 0, "high": 4, "label": "..."}, ...],
     "flags": [{"id": "...", "item": "q1", "min_value": 2, "severity": "moderate" | "high",
                "message": "..."}, ...]}

Required: key, version, name, rater, scoring, items (and id, text, options of each item; value
and label of each option; every field of a band and of a flag rule). ``short_name`` defaults
to ``name``; ``show_if`` may be left out; other texts default to "". Bands are optional; when
given they must cover every possible total exactly once (see ``Instrument.min_total``).
Scoring "cssrs" is reserved for the built-in C-SSRS screener (``builtin=True``).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from kapflow.measures.instruments import _checks
from kapflow.measures.instruments._reader import ID_LIMIT, Reader, is_int, show, where
from kapflow.measures.instruments.model import (
    Band,
    DefinitionError,
    FlagRule,
    Instrument,
    Item,
    Option,
    Rater,
    Scoring,
    Severity,
    ShowIf,
    total_range,
)

MAX_ITEMS = 200
MAX_OPTIONS = 20
MAX_BANDS = 100
MAX_FLAGS = 400
KEY_LIMIT = 40  # ClinicInstrument.key
VERSION_LIMIT = 20  # ClinicInstrument.version
NAME_LIMIT = 200  # ClinicInstrument.name

_KEY = re.compile(r"[a-z0-9_-]+")
_KEY_RULE = 'lowercase letters, digits, "_" and "-"'
_ID = re.compile(r"[A-Za-z0-9_.-]+")
_ID_RULE = 'letters, digits, "_", "-" and "."'

_TOP = (
    "key",
    "version",
    "name",
    "short_name",
    "rater",
    "scoring",
    "intro",
    "source",
    "loinc_panel",
    "loinc_total",
)
_TOP_KEYS = (*_TOP, "items", "bands", "flags")
_ITEM_KEYS = ("id", "text", "code", "options", "show_if")
_OPTION_KEYS = ("value", "label", "code")
_SHOW_IF_KEYS = ("item", "values")
_BAND_KEYS = ("low", "high", "label")
_FLAG_KEYS = ("id", "item", "min_value", "severity", "message")


def parse_definition(data: object, *, builtin: bool = False) -> Instrument:
    """The instrument ``data`` defines; ``DefinitionError`` lists every problem found.

    ``builtin=True`` is for definitions shipped with kapflow: it allows scoring "cssrs"."""
    reader = Reader()
    if not isinstance(data, dict):
        raise DefinitionError([f"the definition must be an object, not {show(data)}"])
    obj = {str(key): value for key, value in data.items()}
    reader.unknown_keys(obj, "", _TOP_KEYS)
    head = _head(reader, obj, builtin)
    entries, positions, items_read = _items(reader, obj)
    bands = _bands(reader, obj)
    flags = _flags(reader, obj)
    items = tuple(item for _, item in entries)
    scoring = head["scoring"]
    if scoring is not None and items_read:
        reader.problems += _checks.scoring_problems(scoring, items, bands, flags)
    limits = total_range(scoring, items) if scoring is not None and items_read else None
    reader.problems += _checks.band_problems(bands, limits)
    if positions is not None:  # else the items could not be read at all: references are not checked
        reader.problems += _checks.show_if_problems(entries, positions)
        reader.problems += _checks.flag_problems(flags, entries, positions)
    if reader.problems:
        raise DefinitionError(reader.problems)
    return Instrument(items=items, bands=tuple(bands), flags=tuple(flags), **head)


def _head(reader: Reader, obj: dict[str, object], builtin: bool) -> dict[str, Any]:
    """The top-level fields, as ``Instrument`` keyword arguments (those that could be read)."""
    head: dict[str, Any] = {
        "key": reader.text(obj, "key", "", limit=KEY_LIMIT, pattern=_KEY, pattern_rule=_KEY_RULE),
        "version": reader.text(obj, "version", "", limit=VERSION_LIMIT),
        "name": reader.text(obj, "name", "", limit=NAME_LIMIT),
    }
    if "short_name" in obj:
        head["short_name"] = reader.text(obj, "short_name", "", limit=NAME_LIMIT)
    else:
        head["short_name"] = head["name"]
    rater = reader.choice(obj, "rater", "", [r.value for r in Rater])
    head["rater"] = None if rater is None else Rater(rater)
    head["scoring"] = _scoring(reader, obj, builtin)
    for field in ("intro", "source"):
        head[field] = reader.optional_text(obj, field, "")
    for field in ("loinc_panel", "loinc_total"):
        head[field] = reader.optional_text(obj, field, "", limit=ID_LIMIT)
    return head


def _scoring(reader: Reader, obj: dict[str, object], builtin: bool) -> Scoring | None:
    if obj.get("scoring") == Scoring.CSSRS.value and not builtin:
        reader.add("", 'scoring "cssrs" is reserved for the built-in C-SSRS screener')
        return None
    allowed = [s.value for s in Scoring if builtin or s is not Scoring.CSSRS]
    scoring = reader.choice(obj, "scoring", "", allowed)
    return None if scoring is None else Scoring(scoring)


def _items(
    reader: Reader, obj: dict[str, object]
) -> tuple[list[tuple[int, Item]], dict[str, int] | None, bool]:
    """The items read without problems with their positions, the position of every readable
    id (``None`` when there is no list of items to read), and whether every item was read."""
    raw_items = reader.array(obj, "items", "", limit=MAX_ITEMS)
    if raw_items is None:
        return [], None, False
    if not raw_items:
        reader.add("", '"items" is empty')
        return [], None, False
    ids = [raw["id"] for raw in raw_items if isinstance(raw, dict) and isinstance(raw.get("id"), str)]
    reader.problems += _checks.repeated(ids, "item")
    positions: dict[str, int] = {}
    entries: list[tuple[int, Item]] = []
    for position, raw in enumerate(raw_items):
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            positions.setdefault(raw["id"], position)
        item = _item(reader, raw, where("item", raw, position + 1, "id"))
        if item is not None:
            entries.append((position, item))
    return entries, positions, len(entries) == len(raw_items)


def _item(reader: Reader, raw: object, at: str) -> Item | None:
    obj = reader.mapping(raw, at, _ITEM_KEYS)
    if obj is None:
        return None
    before = len(reader.problems)
    item_id = reader.text(obj, "id", at, limit=ID_LIMIT, pattern=_ID, pattern_rule=_ID_RULE)
    text = reader.text(obj, "text", at)
    code = reader.optional_text(obj, "code", at, limit=ID_LIMIT)
    options = _options(reader, obj, at)
    show_if = _show_if(reader, obj, at)
    if len(reader.problems) > before or item_id is None or text is None or options is None:
        return None
    return Item(id=item_id, text=text, options=options, code=code, show_if=show_if)


def _options(reader: Reader, obj: dict[str, object], at: str) -> tuple[Option, ...] | None:
    raw_options = reader.array(obj, "options", at, limit=MAX_OPTIONS)
    if raw_options is None:
        return None
    before = len(reader.problems)
    if len(raw_options) < 2:
        reader.add(at, f"needs at least 2 options, has {len(raw_options)}")
    options = []
    for number, raw in enumerate(raw_options, start=1):
        option_at = f"{at}, option {number}"
        option = reader.mapping(raw, option_at, _OPTION_KEYS)
        if option is None:
            continue
        value = reader.integer(option, "value", option_at)
        label = reader.text(option, "label", option_at)
        code = reader.optional_text(option, "code", option_at, limit=ID_LIMIT)
        if value is not None and label is not None:
            options.append(Option(value=value, label=label, code=code))
    for value, count in Counter(option.value for option in options).items():
        if count > 1:
            reader.add(at, f"option value {value} appears {_checks.times(count)}")
    return tuple(options) if len(reader.problems) == before else None


def _show_if(reader: Reader, obj: dict[str, object], at: str) -> ShowIf | None:
    if "show_if" not in obj:
        return None
    rule_at = f"{at} show_if"
    rule = reader.mapping(obj["show_if"], rule_at, _SHOW_IF_KEYS)
    if rule is None:
        return None
    item_id = reader.text(rule, "item", rule_at, limit=ID_LIMIT)
    values = reader.array(rule, "values", rule_at, limit=MAX_OPTIONS)
    if values is not None and not values:
        reader.add(rule_at, '"values" is empty')
        return None
    if values is not None and not all(is_int(value) for value in values):
        reader.add(rule_at, f'"values" must be whole numbers, not {show(values)}')
        return None
    if item_id is None or values is None:
        return None
    return ShowIf(item=item_id, values=frozenset(value for value in values if isinstance(value, int)))


def _bands(reader: Reader, obj: dict[str, object]) -> list[Band]:
    raw_bands = reader.array(obj, "bands", "", limit=MAX_BANDS, required=False) or []
    bands = []
    for position, raw in enumerate(raw_bands, start=1):
        at = where("band", raw, position, "label")
        band = reader.mapping(raw, at, _BAND_KEYS)
        if band is None:
            continue
        low = reader.integer(band, "low", at)
        high = reader.integer(band, "high", at)
        label = reader.text(band, "label", at)
        if low is not None and high is not None and label is not None:
            bands.append(Band(low=low, high=high, label=label))
    return bands


def _flags(reader: Reader, obj: dict[str, object]) -> list[FlagRule]:
    raw_flags = reader.array(obj, "flags", "", limit=MAX_FLAGS, required=False) or []
    flags = []
    for position, raw in enumerate(raw_flags, start=1):
        at = where("flag", raw, position, "id")
        flag = reader.mapping(raw, at, _FLAG_KEYS)
        if flag is None:
            continue
        flag_id = reader.text(flag, "id", at, limit=ID_LIMIT, pattern=_ID, pattern_rule=_ID_RULE)
        item = reader.text(flag, "item", at, limit=ID_LIMIT)
        min_value = reader.integer(flag, "min_value", at)
        severity = reader.choice(flag, "severity", at, [s.value for s in Severity])
        message = reader.text(flag, "message", at)
        if flag_id and item and min_value is not None and severity and message:
            flags.append(FlagRule(flag_id, item, min_value, Severity(severity), message))
    return flags


def to_definition(instrument: Instrument) -> dict[str, Any]:
    """The JSON-ready definition of ``instrument``: ``parse_definition`` reads it back equal."""
    return {
        **{field: str(getattr(instrument, field)) for field in _TOP},
        "items": [_item_definition(item) for item in instrument.items],
        "bands": [{"low": band.low, "high": band.high, "label": band.label} for band in instrument.bands],
        "flags": [
            {
                "id": flag.id,
                "item": flag.item,
                "min_value": flag.min_value,
                "severity": flag.severity.value,
                "message": flag.message,
            }
            for flag in instrument.flags
        ],
    }


def _item_definition(item: Item) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "id": item.id,
        "text": item.text,
        "code": item.code,
        "options": [{"value": o.value, "label": o.label, "code": o.code} for o in item.options],
    }
    if item.show_if is not None:
        definition["show_if"] = {"item": item.show_if.item, "values": sorted(item.show_if.values)}
    return definition
