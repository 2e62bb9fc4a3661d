"""Reading rendered forms the way a user sees them: the error under a field, the value in it."""

from __future__ import annotations

import html as html_lib
import re


def field_error(page: str, name: str) -> str:
    """The error text rendered next to field ``name`` ('' when there is none)."""
    found = re.search(rf'<ul class="errors" id="id_{name}_error">(.*?)</ul>', page, re.S)
    if found is None:
        return ""
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def field_value(page: str, name: str) -> str | None:
    """What the input, textarea or select named ``name`` shows (None when absent)."""
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page)
    if tag is not None:
        value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
        return html_lib.unescape(value.group(1)) if value else ""
    area = re.search(rf'<textarea[^>]*\bname="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    if area is not None:
        return html_lib.unescape(area.group(1)).strip()
    select = re.search(rf'<select[^>]*\bname="{name}"[^>]*>(.*?)</select>', page, re.S)
    if select is not None:
        chosen = re.search(r'<option value="([^"]*)"[^>]*\bselected\b', select.group(1))
        return html_lib.unescape(chosen.group(1)) if chosen else ""
    return None
