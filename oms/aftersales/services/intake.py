"""An order of type return (退货订单) taken in through intake (API, bulk, file import) becomes an after-sales return
on its original order, never an outbound order.

The original is the order taken in under the channel and ``original_platform_order_id`` (default: the return's own
``platform_order_id``, as platforms that number a return after its order send it); its lines are matched by
``platform_line_id``, else ``sku_code``, with the units coming back. The case is a return and refund (退货退款;
``kind`` may say ``refund_only``) keyed by the return's platform id, so a replay returns the same case. No original
found, or units it does not have: refused naming the field, nothing written. Orders' intake hands these payloads
here (``orders.services.intake.RETURN_INTAKE``, registered in ``oms.wiring``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oms.aftersales.domain import states
from oms.aftersales.services.cases import CaseRequest, case_create
from oms.channels.models import Channel
from oms.core.actors import Actor
from oms.core.errors import ApplicationError, FieldError, ValidationFailed
from oms.orders.models import Order
from oms.orders.selectors import order_lines_current
from oms.orders.services.intake import IntakeOutcome

_KINDS = (states.RETURN_REFUND, states.REFUND_ONLY)


def _fail(field: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, details=[FieldError(field, message, code)])


def _original(payload: Mapping[str, Any]) -> Order:
    channel = Channel.objects.filter(code=str(payload.get("channel") or "")).first()
    if channel is None:
        raise _fail("channel", f"No channel {payload.get('channel')!r}.", "unknown_channel")
    field = "original_platform_order_id" if payload.get("original_platform_order_id") else "platform_order_id"
    platform_id = str(payload.get(field) or "").strip()
    order = Order.objects.filter(channel=channel, platform_order_id=platform_id).first() if platform_id else None
    if order is None:
        raise _fail(
            field,
            f"No order {platform_id!r} of channel {channel.code} to return goods to: a return is taken in as an "
            "after-sales case on its original order, never as an outbound order.",
            "original_not_found",
        )
    return order


def _units(order: Order, payload: Mapping[str, Any]) -> dict[int, int]:
    lines = [(ln, q) for ln, q, _paid, _ship in order_lines_current(order=order)]
    raw = payload.get("lines")
    if not isinstance(raw, list) or not raw:
        raise _fail("lines", "Name the lines and units coming back.", "required")
    units: dict[int, int] = {}
    errors: list[FieldError] = []
    for i, item in enumerate(raw):
        item = item if isinstance(item, Mapping) else {}
        pid, sku = str(item.get("platform_line_id") or ""), str(item.get("sku_code") or "")
        try:
            quantity = int(item.get("quantity", 0))
        except (TypeError, ValueError):
            quantity = 0
        match = [ln for ln, _q in lines if pid and ln.platform_line_id == pid] or [
            ln for ln, q in lines if sku and ln.sku is not None and ln.sku.code == sku and q > 0
        ]
        if not match:
            errors.append(FieldError(f"lines[{i}]", "The original order has no such line.", "unknown_line"))
        elif quantity <= 0:
            errors.append(FieldError(f"lines[{i}].quantity", "Units must be at least 1.", "not_positive"))
        else:
            units[match[0].line_no] = units.get(match[0].line_no, 0) + quantity
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)
    return units


def return_order_intake(*, index: int, payload: Mapping[str, Any], actor: Actor) -> IntakeOutcome:
    """The outcome of one order of type return: its original and the case it became, or the error."""
    try:
        order = _original(payload)
        kind = str(payload.get("kind") or states.RETURN_REFUND)
        if kind not in _KINDS:
            raise _fail("kind", f"One of {', '.join(_KINDS)}.", "choice")
        req = CaseRequest(
            kind=kind,
            reason_code=str(payload.get("reason_code") or "other"),
            units=_units(order, payload),
            note=str(payload.get("reason") or payload.get("buyer_remark") or "")[:500],
            request_key=f"return:{payload['platform_order_id']}"[:64] if payload.get("platform_order_id") else "",
        )
        case, created = case_create(order=order, req=req, actor=actor)
    except ApplicationError as exc:
        return IntakeOutcome(index, error=exc)
    return IntakeOutcome(index, order=order, created=created, return_case=case.number)
