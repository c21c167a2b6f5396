"""What review writes for operators to read, by code (rendered by `oms.core.texts`): the hold reasons of the
seeded rules and of the holds it raises itself, its timeline events, and its errors."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from oms.core.texts import label_define, text_define

# A hold's short name by its reason code (the queue's badge and filter); a rule of an operator's own
# shows its name instead.
label_define(
    "hold",
    {
        "remark": gettext_noop("Remark present"),
        "unmapped_sku": gettext_noop("Unmapped SKU"),
        "address": gettext_noop("Abnormal address"),
        "finance_review": gettext_noop("Finance review"),
        "blacklist": gettext_noop("Blacklisted"),
        "price_floor": gettext_noop("Price below floor"),
        "suspected_merge": gettext_noop("Same buyer, other address"),
        "not_merged": gettext_noop("Same buyer, not merged"),
        "refund": gettext_noop("Refund requested"),
        "refunded": gettext_noop("Refunded"),
        "no_warehouse": gettext_noop("No warehouse"),
        "no_courier": gettext_noop("No courier"),
    },
)

label_define(
    "order_event",
    {
        "reviewed": gettext_noop("Passed review"),
        "intercepted": gettext_noop("Held for review"),
        "interception_released": gettext_noop("Hold released"),
        "review_forced": gettext_noop("Review forced"),
    },
)

# The reasons the seeded review rules give (an operator's own wording shows as written).
text_define("hold.remark", gettext_noop("Buyer or seller left a remark: read it before shipping."))
text_define("hold.unmapped_sku", gettext_noop("A line maps to no SKU of ours."))
text_define("hold.address", gettext_noop("The address is incomplete, or goes to a forwarding or pickup point."))
text_define("hold.finance_review", gettext_noop("Large order: finance must review it (待财审)."))
text_define("hold.blacklist", gettext_noop("The buyer, phone or address is blacklisted."))
text_define("hold.price_floor", gettext_noop("A line sold below 30% of its list price."))
text_define("hold.suspected_merge", gettext_noop("The same buyer has another open order to a different address."))
text_define("hold.refund", gettext_noop("The buyer asked the platform for a refund."))
text_define(
    "hold.not_merged",
    gettext_noop("The same buyer has another open order to the same address that was not merged with this one."),
)
text_define("hold.refunded", gettext_noop("refunded %(refunded)s / received %(received)s"))
text_define("hold.refund_request", gettext_noop("退款申请 %(refund)s: %(reason)s"))
text_define("hold.released_on_parent", gettext_noop("released on %(order)s: %(note)s"))
text_define("hold.forced", gettext_noop("forced: %(reason)s"))

# Errors.
text_define(
    "review.refunded_in_full",
    gettext_noop("Order %(number)s is refunded in full: cancel it instead of letting it through."),
)
text_define("review.not_pending", gettext_noop("Order %(number)s is not waiting for review (status %(status)s)."))
text_define("review.past_review", gettext_noop("Order %(number)s is past review (status %(status)s)."))
text_define("review.say_why", gettext_noop("Say why (%(field)s is required)."))
text_define("review.unknown_holds", gettext_noop("Unknown interceptions: %(ids)s."))
text_define("review.holds_not_open", gettext_noop("Interceptions %(ids)s are not open."))
