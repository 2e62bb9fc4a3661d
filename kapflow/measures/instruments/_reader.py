"""Reading JSON-decoded data field by field, collecting every problem instead of stopping.

Each problem is one plain sentence, prefixed by where it is (``item "q3": missing "text"``).
A getter that finds a problem records it and returns ``None``; callers build an object only
when its part added no problem (compare ``len(reader.problems)`` before and after).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

TEXT_LIMIT = 500
ID_LIMIT = 40  # ids of items and flag rules, and codes
SHOW_LIMIT = 40  # characters of a bad value quoted back in a problem


def show(value: object) -> str:
    """A bad value as it would appear in JSON, shortened."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= SHOW_LIMIT else text[: SHOW_LIMIT - 3] + "..."


def quoted(choices: Iterable[str]) -> str:
    names = [f'"{choice}"' for choice in choices]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Reader:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, where: str, problem: str) -> None:
        self.problems.append(f"{where}: {problem}" if where else problem)

    def mapping(self, value: object, where: str, allowed: Iterable[str]) -> dict[str, object] | None:
        """``value`` as an object (``where`` names it), with any unknown key reported."""
        if not isinstance(value, dict):
            self.problems.append(f"{where} must be an object, not {show(value)}")
            return None
        obj = {str(key): item for key, item in value.items()}
        self.unknown_keys(obj, where, allowed)
        return obj

    def unknown_keys(self, obj: dict[str, object], where: str, allowed: Iterable[str]) -> None:
        known = set(allowed)
        for key in obj:
            if key not in known:
                self.add(where, f"unknown key {show(key)}")

    def text(
        self,
        obj: dict[str, object],
        field: str,
        where: str,
        *,
        limit: int = TEXT_LIMIT,
        pattern: re.Pattern[str] | None = None,
        pattern_rule: str = "",
    ) -> str | None:
        """A required, non-empty string."""
        if field not in obj:
            self.add(where, f'missing "{field}"')
            return None
        value = obj[field]
        if not isinstance(value, str):
            self.add(where, f'"{field}" must be a string, not {show(value)}')
            return None
        if not value.strip():
            self.add(where, f'"{field}" is empty')
            return None
        if len(value) > limit:
            self.add(where, f'"{field}" is longer than {limit} characters')
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.add(where, f'"{field}" may contain only {pattern_rule}, not {show(value)}')
            return None
        return value

    def optional_text(
        self, obj: dict[str, object], field: str, where: str, *, limit: int = TEXT_LIMIT
    ) -> str:
        """A string that may be missing or empty ("" then)."""
        value = obj.get(field, "")
        if not isinstance(value, str):
            self.add(where, f'"{field}" must be a string, not {show(value)}')
            return ""
        if len(value) > limit:
            self.add(where, f'"{field}" is longer than {limit} characters')
            return ""
        return value

    def integer(self, obj: dict[str, object], field: str, where: str) -> int | None:
        if field not in obj:
            self.add(where, f'missing "{field}"')
            return None
        value = obj[field]
        if not isinstance(value, int) or isinstance(value, bool):
            self.add(where, f'"{field}" must be a whole number, not {show(value)}')
            return None
        return value

    def choice(self, obj: dict[str, object], field: str, where: str, choices: Iterable[str]) -> str | None:
        allowed = list(choices)
        if field not in obj:
            self.add(where, f'missing "{field}"')
            return None
        value = obj[field]
        if not isinstance(value, str) or value not in allowed:
            self.add(where, f'"{field}" must be {quoted(allowed)}, not {show(value)}')
            return None
        return value

    def array(
        self, obj: dict[str, object], field: str, where: str, *, limit: int, required: bool = True
    ) -> list[object] | None:
        """A list of at most ``limit`` elements (``[]`` when optional and missing)."""
        if field not in obj:
            if required:
                self.add(where, f'missing "{field}"')
                return None
            return []
        value = obj[field]
        if not isinstance(value, list):
            self.add(where, f'"{field}" must be a list, not {show(value)}')
            return None
        if len(value) > limit:
            self.add(where, f"too many {field}: {len(value)} (at most {limit})")
            return None
        return value


def where(kind: str, raw: object, position: int, name_field: str) -> str:
    """How a problem names an element of a list: by its id or label when it has a readable
    one (``item "q3"``), else by its position from 1 (``item 3``)."""
    name = raw.get(name_field) if isinstance(raw, dict) else None
    if (
        isinstance(name, str)
        and name.strip()
        and len(name) <= SHOW_LIMIT
        and name.isprintable()
        and '"' not in name
    ):
        return f'{kind} "{name}"'
    return f"{kind} {position}"
