from __future__ import annotations

from typing import Any

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def accessible(field: BoundField) -> SafeString:
    """Render a field's widget tied to its help text and errors for screen readers."""
    attrs: dict[str, str | bool] = {}
    described_by = []
    if field.help_text:
        described_by.append(f"{field.auto_id}_help")
    if field.errors:
        described_by.append(f"{field.auto_id}_error")
        attrs["aria-invalid"] = "true"
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    return field.as_widget(attrs=attrs)


@register.simple_tag(takes_context=True)
def public_url(context: Any, name: str) -> str:
    """Address of a public page (home, how, prescreen, contact…) of the page's clinic."""
    from kapflow.intake.public import public_url as address

    return address(name, context["public_clinic"])


def _with_breaks(text: str) -> str:
    from django.utils.html import escape

    return str(escape(text)).replace("\n", "<br>")


@register.filter
def paragraphs(text: str) -> SafeString:
    """Clinic-written plain text as HTML: blank lines part paragraphs, '## ' starts a heading."""
    from django.utils.html import escape
    from django.utils.safestring import mark_safe

    blocks = [b.strip() for b in str(text).replace("\r\n", "\n").split("\n\n") if b.strip()]
    html = []
    for block in blocks:
        if block.startswith("## "):
            first, _, rest = block.partition("\n")
            html.append(f"<h2>{escape(first[3:].strip())}</h2>")
            if rest.strip():
                html.append(f"<p>{_with_breaks(rest.strip())}</p>")
        else:
            html.append(f"<p>{_with_breaks(block)}</p>")
    joined = "".join(html)
    return mark_safe(joined)  # noqa: S308 - every piece above is escaped  # nosec B308 B703
