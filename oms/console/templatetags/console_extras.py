"""Small template helpers for the console."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language

register = template.Library()


@register.simple_tag
def zh(term: str) -> SafeString | str:
    """The Chinese term operators know (审单, 拆单 …) beside an English label; nothing when the console is
    already in Chinese, where the label itself is that term."""
    if (get_language() or "").startswith("zh"):
        return ""
    return format_html(' <span class="zh-term">{}</span>', term)
