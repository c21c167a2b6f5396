"""Operator-readable text for the codes a pull stores (failed items, shop errors), rendered at display time in
the reader's language; unknown codes fall back to the platform's or intake's own message."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

REASONS = {
    "required": _("A field the platform must send is missing."),
    "type": _("A field has the wrong type."),
    "unknown_status": _("The platform sent a status this connector does not know."),
    "bad_amount": _("An amount is not a valid amount of money."),
    "float_amount": _("An amount was sent as a floating-point number."),
    "too_many_decimals": _("An amount has more decimals than the currency allows."),
    "negative_discount": _("A price was raised above the list price."),
    "money_mismatch": _("The amounts do not add up."),
    "bad_datetime": _("A time is not a valid time."),
    "not_positive": _("A quantity is not greater than 0."),
    "unsupported_country": _("The address is outside China; intake takes addresses in China only."),
    "bad_province": _("The province is not a province of China."),
    "validation_error": _("Intake refused the order (see the field)."),
    "platform_order_conflict": _("The order was taken in before with other content."),
    "payment_conflict": _("The payment was recorded for another order or amount."),
    "not_an_object": _("The platform sent something that is not an order."),
    "timeout": _("The platform did not answer in time."),
    "unreachable": _("The platform could not be reached."),
    "error_page": _("The platform answered with an error page."),
    "credentials_unreadable": _("The credentials cannot be decrypted with the configured keys."),
}


def reason_text(code: str, params: dict[str, Any] | None = None) -> str:
    known = REASONS.get(code)
    if known is not None:
        return str(known)
    message = (params or {}).get("message")
    return str(message) if message else code
