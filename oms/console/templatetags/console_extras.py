"""Small template helpers for the console."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from oms.console.rendering import hold_label
from oms.core.texts import label, stored_text_render

register = template.Library()


@register.simple_tag
def zh(term: str) -> SafeString | str:
    """The Chinese term operators know (审单, 拆单 …) beside an English label; nothing when the console is
    already in Chinese, where the label itself is that term."""
    if (get_language() or "").startswith("zh"):
        return ""
    return format_html(' <span class="zh-term">{}</span>', term)


@register.filter
def systext(text: str) -> str:
    """A stored system text (a reason, a decision) in the reader's language; an operator's words as typed."""
    return stored_text_render(text or "")


@register.simple_tag
def hold_name(code: str, rule_name: str = "") -> str:
    """A hold's short name in the reader's language (an operator's own rule by its name)."""
    return hold_label(code, rule_name)


@register.filter
def payment_method(code: str) -> str:
    return label("payment_method", code or "")
