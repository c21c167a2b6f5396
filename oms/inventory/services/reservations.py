"""Reservations (预占, C3/C4): the contract order intake, fulfilment and split/merge call.

Two scopes, one ledger (``Reservation``):

* channel scope — a sales reservation (销售预占) against the channel's quota, taken on order intake, so the
  channel's available-to-sell figure drops at once (C2/C3);
* warehouse scope — units on a warehouse shelf promised to a line once fulfilment picks the warehouse, so the
  physical invariant ``0 <= reserved <= on_hand`` holds.

Every function here must run inside the caller's transaction (it opens none of its own: ``atomic(savepoint=
False)``), takes its row locks in the global order of ``oms.inventory.lock_objects`` and issues a constant
number of SQL statements per call, however many lines it handles. ``quantity`` in a request is the total the
line needs reserved: units already reserved for the same line count toward it, so retrying a call (or
calling again for a line that was short) never reserves twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from oms.catalog.models import BundleComponent, Sku
from oms.channels.lock_objects import channel_stocks_for_update, channel_stocks_of_skus_for_update
from oms.channels.models import Channel, ChannelStock
from oms.channels.services.allocation import channel_stock_reallocate
from oms.channels.services.counters import ChannelDelta, channel_stock_apply
from oms.core.bulk import bulk_insert, bulk_set
from oms.core.errors import Conflict, FieldError, ValidationFailed
from oms.inventory.domain.reservation import LineDemand, ReserveRequest, bundle_units, plan_grants
from oms.inventory.lock_objects import active_reservations_for_update
from oms.inventory.models import (
    MoveKind,
    Reservation,
    ReservationKind,
    ReservationScope,
    ReservationState,
    Warehouse,
)
from oms.inventory.services.fast_reserve import fast_channel_reserve, reserve_on_its_own
from oms.inventory.services.hot_reserve import hot_channel_reserve, hot_skus
from oms.inventory.services.ledger import MoveSpec, ledger_post, lock_items

__all__ = [
    "ReservationAllocation",
    "ReserveOutcome",
    "ReserveRequest",
    "WarehouseReserveRequest",
    "available_to_sell",
    "channel_reserve",
    "reservations_consume",
    "reservations_release",
    "reservations_transfer",
    "warehouse_reserve",
]


@dataclass(frozen=True)
class WarehouseReserveRequest:
    """One line asking for units on a warehouse's shelf (``sku_id`` may be a bundle, as above)."""

    ref_type: str
    ref_id: int
    warehouse_id: int
    sku_id: int
    quantity: int


@dataclass(frozen=True)
class ReserveOutcome:
    """What a line holds after the call, in the line's own units (bundles count whole bundles)."""

    ref_type: str
    ref_id: int
    sku_id: int
    requested: int
    reserved: int
    short: int


@dataclass(frozen=True)
class ReservationAllocation:
    """Move ``quantity`` line units of ``sku_id`` (plain or bundle) from ``from_ref_id`` to ``to_ref_id``
    (of ``to_ref_type``, default the same type). With ``warehouse_id`` the warehouse-level reservation moves
    to that warehouse (转仓), subject to its free stock; otherwise it stays where it is."""

    from_ref_id: int
    to_ref_id: int
    sku_id: int
    quantity: int
    to_ref_type: str | None = None
    warehouse_id: int | None = None


Recipe = tuple[tuple[int, int], ...]
Line = TypeVar("Line", "ReserveRequest", "WarehouseReserveRequest")


# --------------------------------------------------------------------------------------------- validation


def _validate_lines(lines: Sequence[ReserveRequest | WarehouseReserveRequest], target: str) -> dict[int, Sku]:
    """Field-named errors for bad lines, before anything is locked or written; returns the SKUs by id."""
    errors: list[FieldError] = []
    seen: set[tuple[str, int, int]] = set()
    for i, line in enumerate(lines):
        if not line.ref_type:
            errors.append(FieldError(f"requests[{i}].ref_type", "A reference type is required.", "required"))
        if not isinstance(line.quantity, int) or isinstance(line.quantity, bool) or line.quantity <= 0:
            errors.append(
                FieldError(f"requests[{i}].quantity", "Quantity must be a positive whole number.", "min_value")
            )
        key = (line.ref_type, line.ref_id, line.sku_id)
        if key in seen:
            errors.append(FieldError(f"requests[{i}].ref_id", "The same line appears twice in one call.", "duplicate"))
        seen.add(key)
    skus = {s.pk: s for s in Sku.objects.filter(id__in={line.sku_id for line in lines}).only("id", "code", "is_bundle")}
    target_ids = {getattr(line, target) for line in lines}
    model = Channel if target == "channel_id" else Warehouse
    known = set(model.objects.filter(id__in=target_ids).values_list("id", flat=True))
    for i, line in enumerate(lines):
        if line.sku_id not in skus:
            errors.append(FieldError(f"requests[{i}].sku_id", f"Unknown SKU {line.sku_id}.", "unknown"))
        if getattr(line, target) not in known:
            errors.append(
                FieldError(f"requests[{i}].{target}", f"Unknown {target[:-3]} {getattr(line, target)}.", "unknown")
            )
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)
    return skus


def _recipes(skus: dict[int, Sku]) -> dict[int, Recipe]:
    """Stocked components per SKU id: itself for a plain SKU, the bundle recipe for a bundle."""
    recipes: dict[int, Recipe] = {s: ((s, 1),) for s, sku in skus.items() if not sku.is_bundle}
    bundle_ids = [s for s, sku in skus.items() if sku.is_bundle]
    if bundle_ids:
        parts: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for b, c, q in BundleComponent.objects.filter(bundle_id__in=bundle_ids).values_list(
            "bundle_id", "component_id", "quantity"
        ):
            parts[b].append((c, q))
        for b in bundle_ids:
            if not parts[b]:
                raise ValidationFailed(
                    f"Bundle {skus[b].code} has no components.",
                    details=[FieldError("sku_id", f"Bundle {skus[b].code} has no components.", "empty_bundle")],
                )
            recipes[b] = tuple(sorted(parts[b]))
    return recipes


def _held(rows: Sequence[Reservation]) -> dict[tuple[str, int], dict[int, Reservation]]:
    held: dict[tuple[str, int], dict[int, Reservation]] = defaultdict(dict)
    for row in rows:
        held[(row.ref_type, row.ref_id)][row.sku_id] = row
    return held


def _shortage_error(
    lines: Sequence[ReserveRequest | WarehouseReserveRequest],
    skus: dict[int, Sku],
    outcomes: list[ReserveOutcome],
) -> Conflict:
    short = [
        {"sku": skus[o.sku_id].code, "requested": o.requested, "available": o.reserved} for o in outcomes if o.short > 0
    ]
    return Conflict(
        "Not enough stock for: "
        + ", ".join(f"{s['sku']} (requested {s['requested']}, available {s['available']})" for s in short),
        code="insufficient_stock",
        extra={"skus": short},
    )


# ------------------------------------------------------------------------------------------ channel scope


def channel_reserve(*, requests: Sequence[ReserveRequest], refuse_when_short: bool = False) -> list[ReserveOutcome]:
    """Sales-reserve (销售预占) channel stock for many lines of many orders at once.

    Locks the ChannelStock rows involved in one global order, plans in `plan_grants` (first come first
    served, in request order), then writes ledger rows and counters in bulk. Platform orders are never
    refused: what cannot be reserved comes back as ``short``. With ``refuse_when_short`` nothing is reserved
    when any line is short and `Conflict` (``insufficient_stock``) names the SKUs.

    Runs inside the caller's transaction when there is one. Called on its own (no transaction open) on
    PostgreSQL, a call whose lines all draw on one channel-stock row goes a quicker way. If the row is free at
    that instant and every line can be granted in full, it is one statement in its own implicit transaction
    (`fast_reserve.reserve_on_its_own`): the row is locked only while that statement runs and commits, with no
    client turn inside the lock, like a bare conditional UPDATE in autocommit. If another caller holds the
    row, the call does not queue for its lock: it queues its request and is granted in a batch with every
    other request waiting on that row (`hot_reserve`). A SKU designated hot (`Sku.is_hot`) goes straight to
    the queue. Lines neither way grants go the transactional way.
    """
    if (
        not refuse_when_short
        and _fast_paths()
        and not connection.in_atomic_block
        and connection.get_autocommit()
        and _plain_valid(requests)
        and len({(r.channel_id, r.sku_id) for r in requests}) == 1
    ):
        granted = hot_channel_reserve(requests) if requests[0].sku_id in hot_skus() else reserve_on_its_own(requests)
        return _granted_then_rest(
            requests,
            granted or {},
            lambda rest: _channel_reserve_in_transaction(requests=rest, refuse_when_short=False),
        )
    return _channel_reserve_in_transaction(requests=requests, refuse_when_short=refuse_when_short)


def _granted_then_rest(
    requests: Sequence[ReserveRequest],
    granted: dict[int, int],
    reserve_rest: Callable[[list[ReserveRequest]], list[ReserveOutcome]],
) -> list[ReserveOutcome]:
    """Outcomes in request order: lines a quick path decided (index → units granted), the rest by
    ``reserve_rest``."""
    rest = [r for i, r in enumerate(requests) if i not in granted]
    slow = iter(reserve_rest(rest) if rest else [])
    return [
        ReserveOutcome(r.ref_type, r.ref_id, r.sku_id, r.quantity, granted[i], r.quantity - granted[i])
        if i in granted
        else next(slow)
        for i, r in enumerate(requests)
    ]


@transaction.atomic(savepoint=False)
def _channel_reserve_in_transaction(
    *, requests: Sequence[ReserveRequest], refuse_when_short: bool
) -> list[ReserveOutcome]:
    if refuse_when_short or not _fast_paths() or not _plain_valid(requests):
        return _channel_reserve(requests=requests, kind=ReservationKind.SALES, refuse_when_short=refuse_when_short)
    return _granted_then_rest(
        requests,
        fast_channel_reserve(requests),
        lambda rest: _channel_reserve(requests=rest, kind=ReservationKind.SALES, refuse_when_short=False),
    )


def _fast_paths() -> bool:
    """Whether the PostgreSQL fast paths may run (``OMS_STOCK_FAST_PATH``; off behind a transaction pooler)."""
    return connection.vendor == "postgresql" and bool(settings.OMS_STOCK_FAST_PATH)


def _plain_valid(requests: Sequence[ReserveRequest]) -> bool:
    """Whether every line passes the checks that need no database (the general path words the errors)."""
    keys = {(r.ref_type, r.ref_id, r.sku_id) for r in requests}
    return len(keys) == len(requests) and all(
        r.ref_type and isinstance(r.quantity, int) and not isinstance(r.quantity, bool) and r.quantity > 0
        for r in requests
    )


def _channel_reserve(*, requests: Sequence[ReserveRequest], kind: str, refuse_when_short: bool) -> list[ReserveOutcome]:
    """Channel-scope reservation of ``kind``: sales (销售预占) or return to warehouse (退仓预占)."""
    if not requests:
        return []
    skus = _validate_lines(requests, "channel_id")
    recipes = _recipes(skus)
    held = _held(_existing(requests, ReservationScope.CHANNEL, kind))
    keys = {(r.channel_id, c) for r in requests for c, _q in recipes[r.sku_id]}
    stocks = channel_stocks_for_update(keys)
    free = {k: s.available for k, s in stocks.items()}
    demands, already = [], []
    for r in requests:
        rows = held.get((r.ref_type, r.ref_id), {})
        have = bundle_units({s: row.quantity for s, row in rows.items()}, recipes[r.sku_id]) if rows else 0
        already.append(have)
        demands.append(LineDemand(r.channel_id, recipes[r.sku_id], max(r.quantity - have, 0)))
    grants = plan_grants(free, demands)
    outcomes = [
        ReserveOutcome(r.ref_type, r.ref_id, r.sku_id, r.quantity, have + g, max(r.quantity - have - g, 0))
        for r, have, g in zip(requests, already, grants, strict=True)
    ]
    if refuse_when_short and any(o.short for o in outcomes):
        raise _shortage_error(requests, skus, outcomes)
    new_rows, grown, units_at = _grant_rows(
        requests=requests,
        grants=grants,
        recipes=recipes,
        held=lambda r: held.get((r.ref_type, r.ref_id), {}),
        scope=ReservationScope.CHANNEL,
        kind=kind,
    )
    returned = kind == ReservationKind.RETURN
    deltas = {
        key: ChannelDelta(return_reserved=units) if returned else ChannelDelta(sales_reserved=units)
        for key, units in units_at.items()
    }
    if new_rows:
        Reservation.objects.bulk_create(new_rows)
    if grown:
        Reservation.objects.bulk_update(grown, ["quantity"])
    channel_stock_apply(deltas=deltas, locked=stocks)
    return outcomes


def _grant_rows(
    *,
    requests: Sequence[Line],
    grants: Sequence[int],
    recipes: dict[int, Recipe],
    held: Callable[[Line], dict[int, Reservation]],
    scope: str,
    kind: str,
) -> tuple[list[Reservation], list[Reservation], dict[tuple[int, int], int]]:
    """The reservation rows for ``grants`` (line units per request), not yet written: each component of a line
    grows the line's active row (``held``: SKU id → row) or gets a new one. Also returns the units granted per
    (channel or warehouse id, SKU id), for the counters."""
    target = "channel_id" if scope == ReservationScope.CHANNEL else "warehouse_id"
    new_rows: list[Reservation] = []
    grown: list[Reservation] = []
    units_at: dict[tuple[int, int], int] = defaultdict(int)
    for r, g in zip(requests, grants, strict=True):
        if g <= 0:
            continue
        rows = held(r)
        target_id = getattr(r, target)
        for sku_id, per_unit in recipes[r.sku_id]:
            units = g * per_unit
            units_at[(target_id, sku_id)] += units
            if sku_id in rows:
                rows[sku_id].quantity += units
                grown.append(rows[sku_id])
            else:
                new_rows.append(
                    Reservation(
                        ref_type=r.ref_type,
                        ref_id=r.ref_id,
                        scope=scope,
                        kind=kind,
                        sku_id=sku_id,
                        quantity=units,
                        **{target: target_id},
                    )
                )
    return new_rows, grown, units_at


def _part(row: Reservation, quantity: int, **changes: Any) -> Reservation:
    """A new (unsaved) ledger row for ``quantity`` of ``row``'s units: same reference, scope, kind, SKU,
    channel and warehouse unless ``changes`` says otherwise."""
    fields: dict[str, Any] = {
        "ref_type": row.ref_type,
        "ref_id": row.ref_id,
        "scope": row.scope,
        "kind": row.kind,
        "sku_id": row.sku_id,
        "channel_id": row.channel_id,
        "warehouse_id": row.warehouse_id,
    }
    return Reservation(**{**fields, **changes, "quantity": quantity})


def _existing(lines: Sequence[ReserveRequest | WarehouseReserveRequest], scope: str, kind: str) -> list[Reservation]:
    """Lock the lines' active reservations (first in the global lock order)."""
    by_type: dict[str, list[int]] = defaultdict(list)
    for line in lines:
        by_type[line.ref_type].append(line.ref_id)
    rows: list[Reservation] = []
    for ref_type, ids in sorted(by_type.items()):
        rows += active_reservations_for_update(ref_type=ref_type, ref_ids=ids, scope=scope, kind=kind)
    return rows


def available_to_sell(*, channel_id: int, sku_ids: Sequence[int]) -> dict[int, int]:
    """Available stock (可用库存 = quota − sales reserved − return reserved) per SKU for one channel; a bundle
    gets the minimum over its components of floor(component available / quantity). Unknown SKUs get 0.
    A read without locks: use it to show or push, never to decide a reservation."""
    skus = {s.pk: s for s in Sku.objects.filter(id__in=set(sku_ids)).only("id", "is_bundle")}
    try:
        recipes = _recipes(skus)
    except ValidationFailed:
        recipes = {s: ((s, 1),) for s in skus if not skus[s].is_bundle}
    stocked = {c for recipe in recipes.values() for c, _q in recipe}
    free = {
        s: quota - sales - ret
        for s, quota, sales, ret in ChannelStock.objects.filter(channel_id=channel_id, sku_id__in=stocked).values_list(
            "sku_id", "quota", "sales_reserved", "return_reserved"
        )
    }
    return {s: bundle_units(free, recipes[s]) if s in recipes else 0 for s in sku_ids}


# ---------------------------------------------------------------------------------------- warehouse scope


@transaction.atomic(savepoint=False)
def warehouse_reserve(
    *,
    requests: Sequence[WarehouseReserveRequest],
    kind: str = ReservationKind.SALES,
    refuse_when_short: bool = True,
) -> list[ReserveOutcome]:
    """Reserve units on warehouse shelves (warehouse allocation, transfers, returns to warehouse).

    Locks the StockItem rows in the global order and grants at most ``on_hand − reserved`` per item, so
    ``reserved <= on_hand`` always holds. By default a shortfall refuses the whole call (a warehouse is
    allocated for all its lines or none); with ``refuse_when_short=False`` shortfalls are reported.
    """
    if not requests:
        return []
    skus = _validate_lines(requests, "warehouse_id")
    recipes = _recipes(skus)
    existing = _existing(requests, ReservationScope.WAREHOUSE, kind)
    held: dict[tuple[str, int, int], dict[int, Reservation]] = defaultdict(dict)
    for row in existing:
        assert row.warehouse_id is not None
        held[(row.ref_type, row.ref_id, row.warehouse_id)][row.sku_id] = row
    keys = {(r.warehouse_id, c) for r in requests for c, _q in recipes[r.sku_id]}
    items = lock_items(keys)
    free = {k: i.on_hand - i.reserved for k, i in items.items()}
    demands, already = [], []
    for r in requests:
        rows = held.get((r.ref_type, r.ref_id, r.warehouse_id), {})
        have = bundle_units({s: row.quantity for s, row in rows.items()}, recipes[r.sku_id]) if rows else 0
        already.append(have)
        demands.append(LineDemand(r.warehouse_id, recipes[r.sku_id], max(r.quantity - have, 0)))
    grants = plan_grants(free, demands)
    outcomes = [
        ReserveOutcome(r.ref_type, r.ref_id, r.sku_id, r.quantity, have + g, max(r.quantity - have - g, 0))
        for r, have, g in zip(requests, already, grants, strict=True)
    ]
    if refuse_when_short and any(o.short for o in outcomes):
        raise _shortage_error(requests, skus, outcomes)
    new_rows, grown, reserved = _grant_rows(
        requests=requests,
        grants=grants,
        recipes=recipes,
        held=lambda r: held.get((r.ref_type, r.ref_id, r.warehouse_id), {}),
        scope=ReservationScope.WAREHOUSE,
        kind=kind,
    )
    bulk_insert(new_rows)
    bulk_set(grown, ["quantity"])
    transfer = dict(reserved) if kind == ReservationKind.TRANSFER else None
    ledger_post(moves=[], reserved=reserved, reserved_transfer=transfer, locked=items)
    return outcomes


# -------------------------------------------------------------------------------------- release / consume


def _counter_deltas(
    rows: Sequence[Reservation], sign: int
) -> tuple[dict[tuple[int, int], int], dict[tuple[int, int], int], dict[tuple[int, int], ChannelDelta]]:
    """(warehouse reserved, warehouse reserved-for-transfer, channel deltas) that ``rows`` add (sign=1) or
    remove (sign=-1)."""
    wh: dict[tuple[int, int], int] = defaultdict(int)
    wh_transfer: dict[tuple[int, int], int] = defaultdict(int)
    ch: dict[tuple[int, int], ChannelDelta] = {}
    for row in rows:
        q = sign * row.quantity
        if row.scope == ReservationScope.WAREHOUSE:
            assert row.warehouse_id is not None
            wh[(row.warehouse_id, row.sku_id)] += q
            if row.kind == ReservationKind.TRANSFER:
                wh_transfer[(row.warehouse_id, row.sku_id)] += q
        else:
            assert row.channel_id is not None
            key = (row.channel_id, row.sku_id)
            d = ch.get(key, ChannelDelta())
            if row.kind == ReservationKind.RETURN:
                ch[key] = ChannelDelta(d.sales_reserved, d.return_reserved + q, d.quota)
            else:
                ch[key] = ChannelDelta(d.sales_reserved + q, d.return_reserved, d.quota)
    return wh, wh_transfer, ch


def _close(rows: Sequence[Reservation], state: str, reason: str) -> None:
    if rows:
        Reservation.objects.filter(id__in=[r.pk for r in rows]).update(
            state=state, closed_at=timezone.now(), reason=reason[:200]
        )


@transaction.atomic(savepoint=False)
def reservations_release(*, ref_type: str, ref_ids: Sequence[int], reason: str) -> int:
    """Release every active reservation (all scopes and kinds) of the referenced lines, e.g. on cancel (S2):
    rows become released and the counters drop in the same transaction. Returns the rows released; releasing
    twice releases nothing the second time."""
    rows = active_reservations_for_update(ref_type=ref_type, ref_ids=ref_ids)
    if not rows:
        return 0
    wh, wh_transfer, ch = _counter_deltas(rows, -1)
    if wh:
        ledger_post(moves=[], reserved=wh, reserved_transfer=wh_transfer)
    channel_stock_apply(deltas=ch)
    _close(rows, ReservationState.RELEASED, reason)
    return len(rows)


@transaction.atomic(savepoint=False)
def reservations_consume(
    *,
    ref_type: str,
    ref_ids: Sequence[int],
    warehouse_id: int | None = None,
    kind: str = ReservationKind.SALES,
    move_kind: str = MoveKind.SHIPMENT,
    quantities: dict[tuple[int, int], int] | None = None,
) -> int:
    """Consume the referenced lines' active reservations of ``kind`` when the goods leave the warehouse:
    warehouse rows take units off the shelf (on_hand and reserved down, a shipment in the stock ledger, FEFO
    batches), channel rows lower sales_reserved and the quota together, so available is unchanged.

    A line's channel reservation must be covered by warehouse reservations; with ``warehouse_id`` what is
    missing is taken from that warehouse's free stock on the spot, otherwise `Conflict` (``not_allocated``).

    ``quantities`` ((ref id, SKU id) → units) consumes only part of the lines — one parcel of a partial
    shipment: exactly those units leave the shelf, taken from ``warehouse_id``'s rows first (what no row covers
    comes from its free stock), and the channel rows drop by as much; a row consumed in part stays active with
    the rest. Returns the rows consumed.
    """
    rows = active_reservations_for_update(ref_type=ref_type, ref_ids=ref_ids, kind=kind)
    if not rows and quantities is None:
        return 0
    parts: list[Reservation] = []
    remainders: list[Reservation] = []
    if quantities is not None:
        left_wh = {k: q for k, q in quantities.items() if q > 0}
        left_ch = dict(left_wh)
        taken: list[Reservation] = []
        for row in sorted(rows, key=lambda r: (r.warehouse_id != warehouse_id, r.pk)):
            left = left_wh if row.scope == ReservationScope.WAREHOUSE else left_ch
            q = min(left.get((row.ref_id, row.sku_id), 0), row.quantity)
            if q <= 0:
                continue
            left[(row.ref_id, row.sku_id)] -= q
            if q == row.quantity:
                taken.append(row)
                continue
            row.quantity -= q
            remainders.append(row)
            part = _part(
                row,
                q,
                state=ReservationState.CONSUMED,
                closed_at=timezone.now(),
                reason="shipped (part of the line)",
            )
            parts.append(part)
            taken.append(part)
        rows = taken
        gaps = {k: q for k, q in left_wh.items() if q > 0}
    else:
        at_wh: dict[tuple[int, int], int] = defaultdict(int)
        on_ch: dict[tuple[int, int], int] = defaultdict(int)
        for row in rows:
            if row.scope == ReservationScope.WAREHOUSE:
                at_wh[(row.ref_id, row.sku_id)] += row.quantity
            else:
                on_ch[(row.ref_id, row.sku_id)] += row.quantity
        gaps = {k: q - at_wh.get(k, 0) for k, q in on_ch.items() if q > at_wh.get(k, 0)}
    extra: list[Reservation] = []
    if gaps:
        if warehouse_id is None:
            raise Conflict(
                "Some lines have no warehouse reservation to ship from.",
                code="not_allocated",
                extra={"lines": [{"ref_id": r, "sku_id": s, "missing": q} for (r, s), q in sorted(gaps.items())]},
            )
        items = lock_items({(warehouse_id, s) for _r, s in gaps})
        need: dict[int, int] = defaultdict(int)
        for (_r, s), q in gaps.items():
            need[s] += q
        short = [s for s, q in need.items() if items[(warehouse_id, s)].on_hand - items[(warehouse_id, s)].reserved < q]
        if short:
            codes = dict(Sku.objects.filter(id__in=short).values_list("id", "code"))
            raise Conflict(
                "Not enough free stock in the warehouse to ship: " + ", ".join(codes[s] for s in short),
                code="insufficient_stock",
                extra={"skus": [{"sku": codes[s], "requested": need[s]} for s in short]},
            )
        extra = [
            Reservation(
                ref_type=ref_type,
                ref_id=r,
                scope=ReservationScope.WAREHOUSE,
                kind=kind,
                sku_id=s,
                warehouse_id=warehouse_id,
                quantity=q,
                state=ReservationState.CONSUMED,
                closed_at=timezone.now(),
                reason="reserved and consumed at shipment",
            )
            for (r, s), q in sorted(gaps.items())
        ]
    shipped = [r for r in rows if r.scope == ReservationScope.WAREHOUSE] + extra
    moves = [
        MoveSpec(
            warehouse_id=r.warehouse_id or 0,
            sku_id=r.sku_id,
            kind=move_kind,
            ref_type=ref_type,
            ref_id=r.ref_id,
            on_hand=-r.quantity,
        )
        for r in shipped
    ]
    wh, wh_transfer, _ = _counter_deltas([r for r in rows if r.scope == ReservationScope.WAREHOUSE], -1)
    if moves:
        ledger_post(moves=moves, reserved=wh, reserved_transfer=wh_transfer)
    channel_stock_of_skus = sorted({r.sku_id for r in rows} | {r.sku_id for r in shipped})
    channel_stocks_of_skus_for_update(channel_stock_of_skus)
    channel_stock_apply(deltas=_consumed_channel_deltas(rows))
    if extra or parts:
        Reservation.objects.bulk_create(extra + parts)
    if remainders:
        Reservation.objects.bulk_update(remainders, ["quantity"])
    _close([r for r in rows if r.pk and r.state == ReservationState.ACTIVE], ReservationState.CONSUMED, "shipped")
    # The shelf the units left may feed other channels too: their quotas must shrink with it.
    channel_stock_reallocate(sku_ids=channel_stock_of_skus)
    return len(rows) + len(extra)


def _consumed_channel_deltas(rows: Sequence[Reservation]) -> dict[tuple[int, int], ChannelDelta]:
    """Shipping lowers the reservation and the quota together: the units left the channel's stock."""
    out: dict[tuple[int, int], ChannelDelta] = {}
    for r in rows:
        if r.scope != ReservationScope.CHANNEL or r.channel_id is None:
            continue
        d = out.get((r.channel_id, r.sku_id), ChannelDelta())
        if r.kind == ReservationKind.RETURN:
            out[(r.channel_id, r.sku_id)] = ChannelDelta(
                d.sales_reserved, d.return_reserved - r.quantity, d.quota - r.quantity
            )
        else:
            out[(r.channel_id, r.sku_id)] = ChannelDelta(
                d.sales_reserved - r.quantity, d.return_reserved, d.quota - r.quantity
            )
    return out


# ---------------------------------------------------------------------------------------------- transfer


@transaction.atomic(savepoint=False)
def reservations_transfer(
    *,
    ref_type: str,
    from_ref_ids: Sequence[int],
    to_allocations: Sequence[ReservationAllocation],
    release_remainder: bool = True,
    reason: str = "",
) -> int:
    """Move active reservations from lines to other lines (split/merge: 拆单/合单) and/or to another warehouse
    (转仓), in one transaction, so no other order can take the units in between.

    Each allocation moves its units in every scope where the source line holds them (channel, warehouse),
    merging into the target line's active row when it has one. Moving more than a line holds in a scope is a
    `Conflict`; a warehouse move needs free stock at the new warehouse. Whatever the source lines still hold
    afterwards is released (``release_remainder``, the default, as the originals are retired) or kept.
    Returns the number of line units moved.
    """
    errors: list[FieldError] = []
    from_set = set(from_ref_ids)
    for i, a in enumerate(to_allocations):
        if a.from_ref_id not in from_set:
            errors.append(FieldError(f"to_allocations[{i}].from_ref_id", "Not one of the source lines.", "invalid"))
        if not isinstance(a.quantity, int) or a.quantity <= 0:
            errors.append(
                FieldError(f"to_allocations[{i}].quantity", "Quantity must be a positive whole number.", "min_value")
            )
    skus = {
        s.pk: s for s in Sku.objects.filter(id__in={a.sku_id for a in to_allocations}).only("id", "code", "is_bundle")
    }
    for i, a in enumerate(to_allocations):
        if a.sku_id not in skus:
            errors.append(FieldError(f"to_allocations[{i}].sku_id", f"Unknown SKU {a.sku_id}.", "unknown"))
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)
    recipes = _recipes(skus)
    to_refs: dict[str, set[int]] = defaultdict(set)
    for a in to_allocations:
        to_refs[a.to_ref_type or ref_type].add(a.to_ref_id)
    cond = Q(ref_type=ref_type, ref_id__in=list(from_set))
    for t, ids in to_refs.items():
        cond |= Q(ref_type=t, ref_id__in=sorted(ids))
    locked = list(Reservation.objects.select_for_update().filter(cond, state=ReservationState.ACTIVE).order_by("id"))
    sources = [r for r in locked if r.ref_type == ref_type and r.ref_id in from_set]
    source_ids = {r.pk for r in sources}
    targets = {_row_key(r): r for r in locked if r.pk not in source_ids}
    left = {r.pk: r.quantity for r in sources}
    by_ref: dict[tuple[int, int], list[Reservation]] = defaultdict(list)
    for r in sources:
        by_ref[(r.ref_id, r.sku_id)].append(r)

    wh_delta: dict[tuple[int, int], int] = defaultdict(int)
    wh_transfer: dict[tuple[int, int], int] = defaultdict(int)
    new_rows: dict[tuple[object, ...], Reservation] = {}
    grown: dict[int, Reservation] = {}
    moved_units = 0
    for i, a in enumerate(to_allocations):
        for sku_id, per_unit in recipes[a.sku_id]:
            units = a.quantity * per_unit
            for scope in (ReservationScope.CHANNEL, ReservationScope.WAREHOUSE):
                rows = [r for r in by_ref[(a.from_ref_id, sku_id)] if r.scope == scope and left[r.pk] > 0]
                held = sum(left[r.pk] for r in rows)
                if not rows and not any(r.scope == scope for r in by_ref[(a.from_ref_id, sku_id)]):
                    continue
                if held < units:
                    raise Conflict(
                        f"Line {a.from_ref_id} holds {held} unit(s) of SKU id {sku_id} in {scope} scope; "
                        f"cannot move {units}.",
                        code="reservation_too_small",
                        details=[FieldError(f"to_allocations[{i}].quantity", "More than the line holds.", "too_large")],
                    )
                need = units
                for r in rows:
                    take = min(left[r.pk], need)
                    if take <= 0:
                        continue
                    left[r.pk] -= take
                    need -= take
                    wh_id = r.warehouse_id
                    if scope == ReservationScope.WAREHOUSE and a.warehouse_id and a.warehouse_id != r.warehouse_id:
                        assert r.warehouse_id is not None
                        wh_delta[(r.warehouse_id, sku_id)] -= take
                        wh_delta[(a.warehouse_id, sku_id)] += take
                        if r.kind == ReservationKind.TRANSFER:
                            wh_transfer[(r.warehouse_id, sku_id)] -= take
                            wh_transfer[(a.warehouse_id, sku_id)] += take
                        wh_id = a.warehouse_id
                    target = _part(r, take, ref_type=a.to_ref_type or ref_type, ref_id=a.to_ref_id, warehouse_id=wh_id)
                    key = _row_key(target)
                    if key in targets:
                        targets[key].quantity += take
                        grown[targets[key].pk] = targets[key]
                    elif key in new_rows:
                        new_rows[key].quantity += take
                    else:
                        new_rows[key] = target
        moved_units += a.quantity

    remainder = [r for r in sources if left[r.pk] > 0]
    kept: list[Reservation] = []
    released: list[Reservation] = []
    for r in remainder:
        copy = _part(r, left[r.pk])
        (released if release_remainder else kept).append(copy)
    rel_wh, rel_transfer, rel_ch = _counter_deltas(released, -1)
    for k, q in rel_wh.items():
        wh_delta[k] += q
    for k, q in rel_transfer.items():
        wh_transfer[k] += q
    _close(sources, ReservationState.RELEASED, reason or "moved to other lines")
    if released:
        for row in released:
            row.state = ReservationState.RELEASED
            row.closed_at = timezone.now()
            row.reason = (reason or "remainder released on transfer")[:200]
    # A line moved onto itself (part of it to another warehouse, 转仓) gets back what it keeps: one active row
    # per key, as the unique constraints demand.
    for row in kept:
        key = _row_key(row)
        if key in new_rows:
            new_rows[key].quantity += row.quantity
        else:
            new_rows[key] = row
    creates = list(new_rows.values()) + released
    if any(wh_delta.values()) or any(wh_transfer.values()):
        ledger_post(moves=[], reserved=wh_delta, reserved_transfer=wh_transfer)
    channel_stock_apply(deltas=rel_ch)
    if creates:
        Reservation.objects.bulk_create(creates)
    if grown:
        Reservation.objects.bulk_update(list(grown.values()), ["quantity"])
    return moved_units


def _row_key(r: Reservation) -> tuple[object, ...]:
    return (r.ref_type, r.ref_id, r.scope, r.kind, r.sku_id, r.channel_id, r.warehouse_id)
