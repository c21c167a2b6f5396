"""The names invoicing's system actors go by in timelines and lists (rendered by `oms.core.texts`)."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from oms.core.texts import text_define

text_define("actor.invoicing", gettext_noop("Invoicing"), stored="invoicing")
text_define(
    "actor.invoice_provider", gettext_noop("Invoice provider %(provider)s"), stored="invoice-provider:%(provider)s"
)
