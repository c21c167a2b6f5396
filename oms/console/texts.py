"""Service refusals the console's entry forms show, by code (rendered by `oms.core.texts`): the stored English
of errors raised below the console, matched and rendered in the operator's language."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from oms.core.texts import text_define

text_define("entry.unknown_sku", gettext_noop("Unknown SKU %(code)s."))
text_define("entry.bad_amount", gettext_noop('%(field)s: %(text)s is not a decimal amount such as "12.34".'))
