"""What orders write for operators to read, by code (rendered by `oms.core.texts`): timeline event kinds,
the reasons of the transitions it makes itself, payment methods, and the errors of its services."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from oms.core.texts import label_define, text_define


def _one_based(value: object) -> str:
    """A group index as people count it: groups[0] is group 1."""
    try:
        return str(int(str(value)) + 1)
    except ValueError:
        return str(value)


label_define(
    "order_event",
    {
        "created": gettext_noop("Order created"),
        "status_changed": gettext_noop("Status changed"),
        "payment": gettext_noop("Payment received"),
        "payment_after_close": gettext_noop("Payment received after closing"),
        "payment_routed": gettext_noop("Payment routed to the orders that replace it"),
        "payment_carried": gettext_noop("Payment carried over"),
        "refund_recorded": gettext_noop("Refund recorded"),
        "refund_routed": gettext_noop("Refund routed to the orders that replace it"),
        "refund_carried": gettext_noop("Refund carried over"),
        "refund_due": gettext_noop("Refund due"),
        "refund_excess": gettext_noop("Refunded beyond received"),
        "remarks_changed": gettext_noop("Remarks or invoice changed"),
        "invoice_profile_changed": gettext_noop("Invoice details changed"),
        "lines_reapportioned": gettext_noop("Lines re-apportioned"),
        "reissued": gettext_noop("Reissue order created"),
        "exchanged": gettext_noop("Exchange order created"),
        "refund_carried_out": gettext_noop("Paid over to its exchange order"),
        "platform_revised": gettext_noop("Changed on the platform"),
    },
)

label_define(
    "payment_method",
    {
        "alipay": gettext_noop("Alipay"),
        "wechat_pay": gettext_noop("WeChat Pay"),
        "wechat": gettext_noop("WeChat Pay"),
        "unionpay": gettext_noop("UnionPay"),
        "cash": gettext_noop("Cash"),
        "bank_transfer": gettext_noop("Bank transfer"),
        "platform": gettext_noop("Platform settlement"),
        "cod": gettext_noop("Cash on delivery"),
        "carried": gettext_noop("Carried over from the replaced order"),
    },
)

# Reasons of transitions the system makes itself.
text_define("orders.intake", gettext_noop("intake"))
text_define("orders.paid_in_full", gettext_noop("paid in full"))
text_define("orders.unpaid_timeout", gettext_noop("unpaid for more than %(minutes)s minutes"))

# Errors of the orders' services and domain.
text_define("orders.cancel_reason_required", gettext_noop("Give a reason for cancelling."))
text_define("orders.not_found", gettext_noop("No order %(number)s."))
text_define("orders.bad_cursor", gettext_noop("The page cursor is not valid; start from the first page."))
text_define("orders.fields_invalid", gettext_noop("%(n)s field(s) are invalid."))
text_define("orders.final", gettext_noop("Order %(number)s is %(status)s; its remarks can no longer change."))
text_define(
    "orders.illegal_transition",
    gettext_noop(
        "An order in status %(from)s (%(from_label)s) cannot move to %(to)s (%(to_label)s). Allowed next: %(next)s."
    ),
)
text_define("split.invalid", gettext_noop("The split plan is invalid (%(n)s problem(s))."))
text_define("split.too_few_groups", gettext_noop("A split needs at least two groups."))
text_define("split.empty_group", gettext_noop("A group must take at least one unit."))
text_define("split.unknown_line", gettext_noop("Not a line of this order."))
text_define("split.min_value", gettext_noop("Quantity must be a positive whole number."))
text_define(
    "split.not_added_up",
    gettext_noop("The groups take %(placed)s of this line's %(quantity)s units; every unit must go somewhere."),
)
text_define(
    "split.part_quantities",
    gettext_noop("Part quantities %(parts)s must be positive and add up to the line's %(quantity)s."),
)
# Field paths of the split plan, as people count groups and lines.
text_define("field.groups", gettext_noop("groups"), stored="groups")
text_define("field.group", gettext_noop("group %(g)s"), stored="groups[%(g)s]", g=_one_based)
text_define(
    "field.group_line", gettext_noop("group %(g)s, line %(line)s"), stored="groups[%(g)s].%(line)s", g=_one_based
)
text_define("field.line", gettext_noop("line %(line)s"), stored="lines.%(line)s")
