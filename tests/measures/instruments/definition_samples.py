"""Definitions to break in the refusal tests: the PHQ-9's, and a small custom scale."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kapflow.measures.instruments.builtin import BUILT_IN
from kapflow.measures.instruments.definitions import parse_definition, to_definition
from kapflow.measures.instruments.model import DefinitionError

PHQ9 = to_definition(BUILT_IN["phq9"])


def phq9() -> dict[str, Any]:
    return copy.deepcopy(PHQ9)


def custom(items: int = 3) -> dict[str, Any]:
    """A small valid custom instrument: ``items`` items scored 0-2, no bands, no flags."""
    options = [{"value": v, "label": label} for v, label in enumerate(("Never", "Sometimes", "Often"))]
    return {
        "key": "custom",
        "version": "1",
        "name": "Custom scale",
        "rater": "observer",
        "scoring": "sum",
        "items": [
            {"id": f"q{n}", "text": f"Question {n}", "options": copy.deepcopy(options)}
            for n in range(1, items + 1)
        ],
    }


def problems(definition: object, **kwargs: Any) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(definition, **kwargs)
    assert caught.value.problems, "a DefinitionError must name at least one problem"
    return caught.value.problems


def bands(*ranges: tuple[int, int]) -> list[dict[str, Any]]:
    return [{"low": low, "high": high, "label": f"{low} to {high}"} for low, high in ranges]


def flag(**fields: Any) -> dict[str, Any]:
    return {"id": "f1", "item": "q1", "min_value": 1, "severity": "moderate", "message": "Look.", **fields}
