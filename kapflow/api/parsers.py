"""The API's JSON parser: DRF's, but JSON nested deeper than Python's recursion limit (a
1 MB body of brackets) is a 400 like any other malformed JSON, not a server error, and so is
text that is no Unicode: a lone surrogate (``"\\ud800"``) is valid JSON, but it cannot be
stored, nor even written back in an error message."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


def has_lone_surrogate(document: Any) -> bool:
    """Whether any string of the parsed document (key or value) is not encodable as UTF-8."""
    pending = [document]
    while pending:  # a loop, not recursion: the document may be nested 900 deep
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class JSONParser(parsers.JSONParser):
    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: dict[str, Any] | None = None
    ) -> Any:
        try:
            document = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("JSON parse error - the document is nested too deeply.")) from None
        if has_lone_surrogate(document):
            raise ParseError(_("JSON parse error - a string holds a lone surrogate (\\ud800-\\udfff)."))
        return document
