"""Service refusals the console's entry forms show, by code (rendered by `oms.core.texts`): the stored English
of errors raised below the console, matched and rendered in the operator's language."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from oms.core.texts import text_define

text_define("entry.unknown_sku", gettext_noop("Unknown SKU %(code)s."))
text_define("entry.bad_amount", gettext_noop('%(field)s: %(text)s is not a decimal amount such as "12.34".'))
text_define("customer.too_long", gettext_noop("At most %(limit)s characters."))
text_define("customer.bad_phone", gettext_noop("A phone number has digits, spaces, + and - only."))
text_define("blacklist.nothing", gettext_noop("Nothing to blacklist."))
text_define("blacklist.enter_value", gettext_noop("Enter a value."))
