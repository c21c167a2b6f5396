"""Taking in one page of native orders, exactly once, through today's intake and the owners' services.

Per native order: map it (a bad one becomes a failed pull item; the rest of the page goes on), keep only
its newest version in the page, and compare with the version pulled last (`PulledOrder`): older is ignored
(platforms deliver out of order), the same is a no-op, a new platform order goes through bulk intake
(idempotent on channel + platform order id), a changed one is applied through the services that own each
part: payments, the order's revisable parts, cancellation, refund requests and interceptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from oms.connectors.adapters.base import PlatformAdapter
from oms.connectors.domain.mapped import MappedOrder, MappingError, Phase, native_version, share_mismatches
from oms.connectors.models import PulledOrder, PullItem, PullItemState, Shop
from oms.connectors.services.changes import intake_payload, pulled_order_change
from oms.core.errors import ApplicationError
from oms.orders.models import Order, OrderLine
from oms.orders.services.intake import order_intake_bulk


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    stale: int = 0

    def add(self, other: Tally) -> None:
        for name in ("created", "updated", "unchanged", "failed", "stale"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Item:
    native: dict[str, Any]
    mapped: MappedOrder
    order_id: int | None = None
    outcome: str = ""


def _native_id(native: Any) -> str:
    for key in ("tid", "order_id", "id", "orderId", "order_sn"):
        value = native.get(key) if isinstance(native, dict) else None
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)[:64]
    return f"?{native_version(native if isinstance(native, dict) else {'raw': repr(native)})[:16]}"


def pull_item_fail(*, shop: Shop, native: Any, code: str, field: str = "", params: dict[str, Any] | None = None,
                   modified_at: Any = None) -> None:  # fmt: skip
    """Keep (or refresh) a native order that could not be taken in, with its reason; retryable later."""
    now = timezone.now()
    platform_order_id = _native_id(native)
    item, created = PullItem.objects.get_or_create(
        shop=shop,
        platform_order_id=platform_order_id,
        defaults={"native": native, "reason_code": code, "reason_field": field[:200], "reason_params": params or {},
                  "modified_at": modified_at, "created_at": now, "updated_at": now},
    )  # fmt: skip
    if not created:
        item.native, item.state, item.reason_code, item.reason_field = native, PullItemState.FAILED, code, field[:200]
        item.reason_params, item.modified_at, item.updated_at = params or {}, modified_at, now
        item.attempts += 1
        item.save()


def _map_page(shop: Shop, adapter: PlatformAdapter, natives: Sequence[Any], tally: Tally) -> list[_Item]:
    newest: dict[str, _Item] = {}
    for native in natives:
        try:
            if not isinstance(native, dict):
                raise MappingError("not_an_object", "body", "Expected a JSON object.")
            mapped = adapter.map_order(native)
        except MappingError as exc:
            pull_item_fail(shop=shop, native=native, code=exc.code, field=exc.field,
                           params={"message": exc.message, **exc.params})  # fmt: skip
            tally.failed += 1
            continue
        seen = newest.get(mapped.platform_order_id)
        if seen is None or mapped.modified_at >= seen.mapped.modified_at:
            newest[mapped.platform_order_id] = _Item(native, mapped)
    return list(newest.values())


def _intake_fresh(shop: Shop, items: list[_Item], actor: Any, tally: Tally) -> list[_Item]:
    """Bulk intake of orders never taken in; the ones intake already knows come back as changes."""
    if not items:
        return []
    payloads = [intake_payload(shop.channel.code, i.mapped) for i in items]
    outcomes = order_intake_bulk(payloads=payloads, actor=actor)
    taken, known_elsewhere = [], []
    for item, outcome in zip(items, outcomes, strict=True):
        if outcome.order is not None:
            item.order_id, item.outcome = outcome.order.pk, "created" if outcome.created else "replayed"
            tally.created += outcome.created
            tally.unchanged += not outcome.created
            taken.append(item)
        elif outcome.error is not None and outcome.error.code == "platform_order_conflict":
            number = str(outcome.error.extra.get("order_number", ""))
            item.order_id = Order.objects.filter(number=number).values_list("pk", flat=True).first()
            known_elsewhere.append(item)
        else:
            _fail_from_error(shop, item, outcome.error)
            tally.failed += 1
    return taken + _apply_changes(shop, known_elsewhere, actor, tally)


def _fail_from_error(shop: Shop, item: _Item, error: ApplicationError | None) -> None:
    details = [d.as_dict() for d in error.details] if error is not None else []
    pull_item_fail(
        shop=shop,
        native=item.native,
        code=error.code if error is not None else "intake_failed",
        field=details[0]["field"] if details else "",
        params={"message": str(error) if error else "", "details": details[:20]},
        modified_at=item.mapped.modified_at,
    )


def _apply_changes(shop: Shop, items: list[_Item], actor: Any, tally: Tally) -> list[_Item]:
    done = []
    for item in items:
        assert item.order_id is not None
        try:
            item.outcome = pulled_order_change(order_id=item.order_id, mapped=item.mapped, actor=actor)
        except ApplicationError as exc:
            _fail_from_error(shop, item, exc)
            tally.failed += 1
            continue
        tally.updated += 1
        done.append(item)
    return done


def _our_shares(order_ids: list[int]) -> dict[int, dict[str, int]]:
    """What each line pays for its goods by our apportionment (paid less its shipping share), as platforms
    divide it (TOP's divide_order_fee excludes the post fee)."""
    ours: dict[int, dict[str, int]] = {}
    rows = OrderLine.objects.filter(order_id__in=order_ids).values_list(
        "order_id", "platform_line_id", "paid_minor", "shipping_minor"
    )
    for order_id, line_id, paid, shipping in rows:
        if line_id:
            ours.setdefault(order_id, {})[line_id] = ours.get(order_id, {}).get(line_id, 0) + paid - shipping
    return ours


@transaction.atomic
def _record(shop: Shop, items: list[_Item]) -> None:
    """Remember the version taken of each order (one statement), and close their failed items."""
    if not items:
        return
    now = timezone.now()
    ours = _our_shares([i.order_id for i in items if i.order_id is not None])
    rows = []
    for item in items:
        m = item.mapped
        mismatches = share_mismatches(ours.get(item.order_id or 0, {}), m.line_shares)
        rows.append(
            PulledOrder(
                shop=shop,
                platform_order_id=m.platform_order_id,
                order_id=item.order_id,
                version=m.version,
                modified_at=m.modified_at,
                phase=m.phase.value,
                native_status=m.native_status,
                buyer_token=m.buyer_token[:128],
                receiver_token=m.receiver_token[:128],
                receiver_masked=m.receiver_masked,
                platform_shares={s.platform_line_id: s.paid_minor for s in m.line_shares},
                share_mismatches=mismatches,
                has_share_mismatch=bool(mismatches),
                first_pulled_at=now,
                last_pulled_at=now,
                last_outcome=item.outcome,
            )
        )
    PulledOrder.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["shop", "platform_order_id"],
        update_fields=["order", "version", "modified_at", "phase", "native_status", "buyer_token", "receiver_token",
                       "receiver_masked", "platform_shares", "share_mismatches", "has_share_mismatch",
                       "last_pulled_at", "last_outcome"],
    )  # fmt: skip
    PullItem.objects.filter(
        shop=shop, platform_order_id__in=[i.mapped.platform_order_id for i in items], state=PullItemState.FAILED
    ).update(state=PullItemState.RESOLVED, updated_at=now)


def pulled_orders_take(*, shop: Shop, adapter: PlatformAdapter, natives: Sequence[Any], actor: Any) -> Tally:
    """Take in one page. Never raises for a bad order: it is kept as a failed pull item instead."""
    tally = Tally()
    items = _map_page(shop, adapter, natives, tally)
    known = {
        p.platform_order_id: p
        for p in PulledOrder.objects.filter(
            shop=shop, platform_order_id__in=[i.mapped.platform_order_id for i in items]
        )
    }
    fresh, changed, skipped = [], [], []
    for item in items:
        seen = known.get(item.mapped.platform_order_id)
        if seen is not None and seen.modified_at > item.mapped.modified_at:
            tally.stale += 1  # an older version delivered late: what we have is newer
        elif seen is not None and seen.version == item.mapped.version:
            tally.unchanged += 1
        elif seen is not None and seen.order_id is not None:
            item.order_id = seen.order_id
            changed.append(item)
        elif item.mapped.phase is Phase.CLOSED:
            item.outcome = "closed_before_intake"  # closed before we ever took it: nothing to fulfil
            skipped.append(item)
        else:
            fresh.append(item)
    done = _intake_fresh(shop, fresh, actor, tally) + _apply_changes(shop, changed, actor, tally)
    tally.unchanged += len(skipped)
    _record(shop, done + skipped)
    return tally
