"""The reason demo data gives the transitions it makes (rendered by `oms.core.texts`)."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from oms.core.texts import text_define

text_define("demo.reason", gettext_noop("demo"))
