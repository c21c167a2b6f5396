"""What after-sales writes on orders' timelines, by code (rendered by `oms.core.texts`)."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from oms.core.texts import label_define

label_define("order_event", {"aftersales_opened": gettext_noop("After-sales case opened")})

# The hold a refund only of part of an unshipped order puts on it (services.unshipped.REFUNDED_UNITS_HOLD).
label_define("hold", {"aftersales_refund": gettext_noop("Units refunded by after-sales")})
