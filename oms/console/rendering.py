"""What the console shows of stored system texts: timeline events, holds and payments in the reader's
language (`oms.core.texts` holds the words; this module picks what of each row to show)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from oms.core.domain.money import format_minor
from oms.core.texts import has_label, label, stored_text_render, text_define, text_render
from oms.orders.domain.status import STATUS_LABELS, Status
from oms.orders.models import OrderEvent, Payment

Details = Callable[[Mapping[str, Any], str], dict[str, Any] | None]


def hold_label(code: str, rule_name: str = "") -> str:
    """A hold's short name: the seeded reasons in the reader's words, an operator's own rule by its name."""
    if has_label("hold", code):
        return label("hold", code)
    return rule_name or code


def _money(key: str) -> Details:
    return lambda data, currency: {"amount": format_minor(int(data.get(key) or 0), currency)}


def _codes(data: Mapping[str, Any], currency: str) -> dict[str, Any]:
    codes = data.get("codes") or ([data["code"]] if data.get("code") else [])
    # The list separator is the reader's: "、" in Chinese.
    return {"text": _(", ").join(hold_label(str(c)) for c in codes)}


def _payment(data: Mapping[str, Any], currency: str) -> dict[str, Any]:
    return {
        "amount": format_minor(int(data.get("amount_minor") or 0), currency),
        "method": label("payment_method", str(data.get("method", ""))),
    }


def _joined(key: str, out: str) -> Details:
    def details(data: Mapping[str, Any], currency: str) -> dict[str, Any] | None:
        value = data.get(key)
        if not value:
            return None
        return {out: ", ".join(value) if isinstance(value, list) else str(value)}

    return details


# Per event kind: the line shown after the kind, from the event's data.
_DETAILS: dict[str, tuple[str | None, Details]] = {
    "payment": ("event.payment", _payment),
    "payment_after_close": ("event.payment", _payment),
    "refund_recorded": ("event.refund", _payment),
    "refund_due": ("event.refund_due", _money("amount_minor")),
    "refund_excess": ("event.refund_excess", _money("held_minor")),
    "intercepted": (None, _codes),
    "interception_released": (None, _codes),
    "split_created": ("event.from", _joined("from", "orders")),
    "merge_created": ("event.from", _joined("from", "orders")),
    "unmerge_created": ("event.from", _joined("from", "orders")),
    "reissued": ("event.reissue", _joined("order", "orders")),
    "dispatched": ("event.shipment", _joined("shipment", "shipment")),
    "dispatch_withdrawn": ("event.shipment", _joined("shipment", "shipment")),
    "parcel_signed": ("event.tracking", _joined("tracking_number", "tracking")),
    "aftersales_opened": ("event.case", _joined("case", "case")),
    "warehouse_transferred": ("event.transfer", lambda d, c: {"source": d.get("from", ""), "target": d.get("to", "")}),
}
text_define("event.payment", gettext_noop("%(amount)s by %(method)s"), parse=False)
text_define("event.refund", gettext_noop("%(amount)s to %(method)s"), parse=False)
text_define("event.refund_due", gettext_noop("%(amount)s to refund"), parse=False)
text_define("event.refund_excess", gettext_noop("%(amount)s held"), parse=False)
text_define("event.from", gettext_noop("from %(orders)s"), parse=False)
text_define("event.reissue", gettext_noop("reissue %(orders)s"), parse=False)
text_define("event.shipment", gettext_noop("shipment %(shipment)s"), parse=False)
text_define("event.tracking", gettext_noop("tracking no. %(tracking)s"), parse=False)
text_define("event.case", gettext_noop("case %(case)s"), parse=False)
text_define("event.transfer", gettext_noop("%(source)s → %(target)s"), parse=False)


def status_label(status: str) -> str:
    """Statuses read in Chinese in every language (the words operators use)."""
    try:
        return STATUS_LABELS[Status(status)][0]
    except ValueError:
        return status


def event_row(event: OrderEvent, currency: str) -> dict[str, Any]:
    """One timeline entry: when, who, what (in the reader's words), the status move, why, and details."""
    kind = event.kind
    details = ""
    spec = _DETAILS.get(kind)
    if spec is not None and isinstance(event.data, dict):
        params = spec[1](event.data, currency)
        if params:
            details = text_render(spec[0], params) if spec[0] else str(params["text"])
    return {
        "event": event,
        # A person's name as it is; a named system actor (system, wms:HZ01) in the reader's words.
        "actor": event.actor_name if event.actor_id else stored_text_render(event.actor_name),
        "kind": kind,
        "kind_label": label("order_event", kind),
        "from_label": status_label(event.from_status) if event.from_status else "",
        "to_label": status_label(event.to_status) if event.to_status else "",
        "reason": stored_text_render(event.reason),
        "details": details,
    }


def payment_row(payment: Payment, currency: str) -> dict[str, Any]:
    return {
        "payment": payment,
        "method": label("payment_method", payment.method),
        "amount": format_minor(payment.amount_minor, currency),
        "due": format_minor(payment.refund_due_minor, currency),
        "excess": format_minor(payment.excess_minor, currency),
    }
