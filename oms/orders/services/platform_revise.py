"""A platform order that changed after intake (the buyer edited the address, the seller the memo).

The platform is the record of what the buyer asked for, so what may still change is taken over while the
order has not gone to the warehouse: receiver, remarks, invoice request. Lines and money never change here
(that is a cancellation, a refund or after-sales); such changes, and any change once the order is with the
warehouse, are reported back unapplied so the caller can hold the order for a person to decide.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from oms.audit.services import audit_record
from oms.orders import actions
from oms.orders.domain.intake import IntakeCommand, snapshot_fingerprint
from oms.orders.domain.status import Status
from oms.orders.lock_objects import order_lock
from oms.orders.models import Order
from oms.orders.services.intake_prepare import Refused, intake_prepare
from oms.orders.services.invoice_profile import invoice_columns_set
from oms.orders.services.timeline import order_event_build

# Parts of the intake snapshot an order takes over from a newer platform version while it is still open.
REVISABLE_PARTS = ("receiver", "buyer_remark", "seller_remark", "invoice")
# Recorded in the snapshot only: the money itself moves through payment_record, never here.
RECORD_ONLY_PARTS = ("payment",)
OPEN_STATUSES = frozenset(
    {Status.PENDING_PAYMENT, Status.PENDING_REVIEW, Status.PENDING_SPLIT, Status.PENDING_DISPATCH}
)


@dataclass(frozen=True)
class Revision:
    order: Order
    applied: tuple[str, ...]  # snapshot parts taken over
    unapplied: tuple[str, ...]  # parts that changed but may not (or no longer) change here


def _changed_parts(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def _apply(order: Order, command: IntakeCommand, parts: list[str]) -> list[str]:
    """Copy the revisable parts onto the order row; the model fields that changed."""
    fields: list[str] = []
    if "receiver" in parts:
        r = command.receiver
        order.receiver_name, order.receiver_phone, order.receiver_province = r.name, r.phone, r.province
        order.receiver_city, order.receiver_district = r.city, r.district
        order.receiver_address, order.receiver_postcode = r.address, r.postcode
        fields += ["receiver_name", "receiver_phone", "receiver_province", "receiver_city", "receiver_district",
                   "receiver_address", "receiver_postcode"]  # fmt: skip
    if "buyer_remark" in parts:
        order.buyer_remark = command.buyer_remark
        fields.append("buyer_remark")
    if "seller_remark" in parts:
        order.seller_remark = command.seller_remark
        fields.append("seller_remark")
    if "invoice" in parts:
        fields += invoice_columns_set(order, command.invoice)
    return fields


@transaction.atomic(durable=True)
def order_platform_revise(*, order: Order, payload: Mapping[str, Any], actor: Any) -> Revision:
    """Take over what may still change from a newer version of the order's platform payload.

    The payload is checked like any intake (422 when it is invalid). The stored snapshot takes the parts
    applied (and the payment as the platform now states it), so the same version sent again changes
    nothing. Locks the order.
    """
    (prepared,) = intake_prepare(payloads=[payload])
    if isinstance(prepared, Refused):
        raise prepared.as_error()
    locked = order_lock(pk=order.pk)
    old: dict[str, Any] = dict(locked.intake_snapshot or {})
    changed = _changed_parts(old, prepared.snapshot)
    is_open = Status(locked.status) in OPEN_STATUSES
    applied = [p for p in changed if (p in REVISABLE_PARTS and is_open) or p in RECORD_ONLY_PARTS]
    unapplied = [p for p in changed if p not in applied]
    if not applied:
        return Revision(locked, (), tuple(unapplied))
    before = {p: old.get(p) for p in applied}
    fields = _apply(locked, prepared.command, applied)
    snapshot = {**old, **{p: prepared.snapshot[p] for p in applied}}
    locked.intake_snapshot, locked.intake_fingerprint = snapshot, snapshot_fingerprint(snapshot)
    locked.updated_at = timezone.now()
    locked.save(update_fields=[*fields, "intake_snapshot", "intake_fingerprint", "updated_at"])
    order_event_build(order=locked, kind="platform_revised", actor=actor, data={"parts": applied}).save()
    audit_record(
        actor=actor, action=actions.ORDER_PLATFORM_REVISE, obj=locked, before=before,
        after={p: snapshot[p] for p in applied},
    )  # fmt: skip
    return Revision(locked, tuple(applied), tuple(unapplied))
