"""Stock documents: receipt (入库), stock count (盘点), defective marking (次品), transfer (调拨) and return to
warehouse (退仓). Each is a use case in its own transaction: validate every line (field-named errors, nothing
changes), lock, post to the ledger, write the audit row, then re-allocate the channel quotas of the SKUs
whose sellable stock moved.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from oms.audit.services import audit_record
from oms.catalog.models import Sku
from oms.channels.models import Channel, ChannelWarehouse
from oms.channels.services.allocation import channel_stock_reallocate
from oms.core.actors import Actor, actor_user
from oms.core.db_retry import retry_on_deadlock
from oms.core.domain.limits import MAX_DOCUMENT_LINE_QUANTITY, MAX_STOCK_UNITS
from oms.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from oms.inventory import actions
from oms.inventory.models import (
    DocumentStatus,
    DocumentType,
    MoveKind,
    ReservationKind,
    StockDocument,
    StockDocumentLine,
    StockItem,
    Warehouse,
)
from oms.inventory.services.ledger import MoveSpec, ledger_post, lock_items
from oms.inventory.services.reservations import (
    ReserveRequest,
    WarehouseReserveRequest,
    _channel_reserve,
    reservations_consume,
    reservations_release,
    warehouse_reserve,
)

PREFIX = {
    DocumentType.RECEIPT: "RK",
    DocumentType.ADJUSTMENT: "PD",
    DocumentType.DEFECTIVE: "CP",
    DocumentType.TRANSFER: "DB",
    DocumentType.RETURN: "TC",
}
LINE_REF = "stock_document_line"


@dataclass(frozen=True)
class DocLine:
    """One line as entered. For a stock count ``quantity`` is the counted figure (may be 0)."""

    sku_id: int
    quantity: int
    batch_no: str = ""
    production_date: dt.date | None = None
    expiry_date: dt.date | None = None
    is_defective: bool = False


# --------------------------------------------------------------------------------------------- helpers


def _validate(
    lines: Sequence[DocLine], *, allow_zero: bool = False, warehouses: Mapping[str, int | None] | None = None
) -> dict[int, Sku]:
    errors: list[FieldError] = []
    if not lines:
        errors.append(FieldError("lines", "At least one line is required.", "required"))
    for name, wid in (warehouses or {}).items():
        if wid is None or not Warehouse.objects.filter(pk=wid, is_active=True).exists():
            errors.append(FieldError(name, f"Unknown or inactive warehouse {wid}.", "unknown"))
    skus = {s.pk: s for s in Sku.objects.filter(id__in={line.sku_id for line in lines})}
    seen: set[tuple[int, str, bool]] = set()
    for i, line in enumerate(lines):
        low = 0 if allow_zero else 1
        if not isinstance(line.quantity, int) or isinstance(line.quantity, bool) or line.quantity < low:
            message = (
                "Quantity must be a whole number ≥ 0." if allow_zero else "Quantity must be a positive whole number."
            )
            errors.append(FieldError(f"lines[{i}].quantity", message, "min_value"))
        elif line.quantity > MAX_DOCUMENT_LINE_QUANTITY:
            errors.append(
                FieldError(f"lines[{i}].quantity", f"At most {MAX_DOCUMENT_LINE_QUANTITY} units per line.", "too_large")
            )
        sku = skus.get(line.sku_id)
        if sku is None:
            errors.append(FieldError(f"lines[{i}].sku_id", f"Unknown SKU {line.sku_id}.", "unknown"))
        elif sku.is_bundle:
            errors.append(FieldError(f"lines[{i}].sku_id", f"{sku.code} is a bundle; stock its components.", "bundle"))
        if line.expiry_date and line.production_date and line.expiry_date < line.production_date:
            errors.append(FieldError(f"lines[{i}].expiry_date", "Expiry is before production.", "invalid"))
        key = (line.sku_id, line.batch_no, line.is_defective)
        if key in seen:
            errors.append(FieldError(f"lines[{i}].sku_id", "The same SKU appears twice; merge the lines.", "duplicate"))
        seen.add(key)
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)
    return skus


def _within_stock_limit(warehouse_id: int, lines: Sequence[DocLine]) -> None:
    """A receipt may not take one SKU in one warehouse past `MAX_STOCK_UNITS` (on hand + defective)."""
    incoming: dict[int, int] = {}
    for line in lines:
        incoming[line.sku_id] = incoming.get(line.sku_id, 0) + line.quantity
    held = dict(
        StockItem.objects.filter(warehouse_id=warehouse_id, sku_id__in=list(incoming))
        .annotate(units=F("on_hand") + F("defective"))
        .values_list("sku_id", "units")
    )
    errors = [
        FieldError(f"lines[{i}].quantity", f"The warehouse would hold more than {MAX_STOCK_UNITS} units.", "too_large")
        for i, line in enumerate(lines)
        if held.get(line.sku_id, 0) + incoming[line.sku_id] > MAX_STOCK_UNITS
    ]
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)


def _create(
    doc_type: str, status: str, *, warehouse_id: int, lines: Sequence[DocLine], actor: Actor, **fields: Any
) -> StockDocument:
    number = f"{PREFIX[DocumentType(doc_type)]}{timezone.now():%Y%m%d}{secrets.token_hex(4).upper()}"
    doc = StockDocument.objects.create(
        number=number,
        doc_type=doc_type,
        status=status,
        warehouse_id=warehouse_id,
        created_by=actor_user(actor),
        **fields,
    )
    StockDocumentLine.objects.bulk_create(
        [
            StockDocumentLine(
                document=doc,
                sku_id=line.sku_id,
                quantity=line.quantity,
                batch_no=line.batch_no,
                production_date=line.production_date,
                expiry_date=line.expiry_date,
                is_defective=line.is_defective,
            )
            for line in lines
        ]
    )
    return doc


def _lines(doc: StockDocument) -> list[StockDocumentLine]:
    return list(StockDocumentLine.objects.filter(document=doc).order_by("id"))


def _audit(actor: Actor, action: str, doc: StockDocument, lines: Sequence[StockDocumentLine], reason: str = "") -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=doc,
        after={
            "status": doc.status,
            "lines": [
                {"sku": ln.sku_id, "quantity": ln.quantity, "delta": ln.delta, "received": ln.received_quantity}
                for ln in lines
            ],
        },
        reason=reason or doc.note,
    )


def _lock_document(document_id: int, doc_type: str) -> StockDocument:
    doc = StockDocument.objects.select_for_update().filter(pk=document_id, doc_type=doc_type).first()
    if doc is None:
        raise NotFound(f"No {doc_type} document {document_id}.")
    return doc


def _expect(doc: StockDocument, *statuses: str) -> None:
    if doc.status not in statuses:
        raise Conflict(
            f"{doc.number} is {doc.status}; this needs it to be {' or '.join(statuses)}.",
            code="invalid_document_status",
        )


# ------------------------------------------------------------------------------- receipt / count / defective


@retry_on_deadlock
@transaction.atomic(durable=True)
def stock_receipt_create(*, warehouse_id: int, lines: Sequence[DocLine], actor: Actor, note: str = "") -> StockDocument:
    """Receive goods (入库): on_hand (or defective, for lines marked so) grows, into the named batch."""
    _validate(lines, warehouses={"warehouse_id": warehouse_id})
    _within_stock_limit(warehouse_id, lines)
    doc = _create(
        DocumentType.RECEIPT, DocumentStatus.DONE, warehouse_id=warehouse_id, lines=lines, actor=actor, note=note
    )
    rows = _lines(doc)
    ledger_post(
        moves=[
            MoveSpec(
                warehouse_id=warehouse_id,
                sku_id=ln.sku_id,
                kind=MoveKind.RECEIPT,
                ref_type=LINE_REF,
                ref_id=ln.pk,
                on_hand=0 if ln.is_defective else ln.quantity,
                defective=ln.quantity if ln.is_defective else 0,
                batch_no=ln.batch_no,
                production_date=ln.production_date,
                expiry_date=ln.expiry_date,
            )
            for ln in rows
        ]
    )
    _audit(actor, actions.STOCK_RECEIPT, doc, rows)
    channel_stock_reallocate(sku_ids=[ln.sku_id for ln in rows])
    return doc


@retry_on_deadlock
@transaction.atomic(durable=True)
def stock_count_create(*, warehouse_id: int, lines: Sequence[DocLine], actor: Actor, note: str = "") -> StockDocument:
    """Record a stock count (盘点): each line's ``quantity`` is the counted on-hand figure and the difference is
    posted. A count below what is reserved is refused: those units are promised, find them first."""
    _validate(lines, allow_zero=True, warehouses={"warehouse_id": warehouse_id})
    items = lock_items({(warehouse_id, ln.sku_id) for ln in lines})
    errors = [
        FieldError(
            f"lines[{i}].quantity",
            f"Counted {ln.quantity} is below the {items[(warehouse_id, ln.sku_id)].reserved} unit(s) reserved.",
            "below_reserved",
        )
        for i, ln in enumerate(lines)
        if ln.quantity < items[(warehouse_id, ln.sku_id)].reserved
    ]
    if errors:
        raise ValidationFailed("A count cannot go below the reserved stock.", details=errors)
    doc = _create(
        DocumentType.ADJUSTMENT, DocumentStatus.DONE, warehouse_id=warehouse_id, lines=lines, actor=actor, note=note
    )
    rows = _lines(doc)
    moves = []
    for ln in rows:
        ln.delta = ln.quantity - items[(warehouse_id, ln.sku_id)].on_hand
        if ln.delta:
            moves.append(
                MoveSpec(
                    warehouse_id=warehouse_id,
                    sku_id=ln.sku_id,
                    kind=MoveKind.ADJUSTMENT,
                    ref_type=LINE_REF,
                    ref_id=ln.pk,
                    on_hand=ln.delta,
                    batch_no=ln.batch_no if ln.delta > 0 else "",
                    note=note,
                )
            )
    StockDocumentLine.objects.bulk_update(rows, ["delta"])
    ledger_post(moves=moves, locked=items)
    _audit(actor, actions.STOCK_COUNT, doc, rows)
    channel_stock_reallocate(sku_ids=[ln.sku_id for ln in rows])
    return doc


@retry_on_deadlock
@transaction.atomic(durable=True)
def stock_defective_mark(*, warehouse_id: int, lines: Sequence[DocLine], actor: Actor, note: str = "") -> StockDocument:
    """Mark sellable units defective (次品): they leave on_hand (FEFO batches) for the defective count. Only
    free units can be marked; reserved ones are promised to orders."""
    _validate(lines, warehouses={"warehouse_id": warehouse_id})
    doc = _create(
        DocumentType.DEFECTIVE, DocumentStatus.DONE, warehouse_id=warehouse_id, lines=lines, actor=actor, note=note
    )
    rows = _lines(doc)
    ledger_post(
        moves=[
            MoveSpec(
                warehouse_id=warehouse_id,
                sku_id=ln.sku_id,
                kind=MoveKind.DEFECTIVE,
                ref_type=LINE_REF,
                ref_id=ln.pk,
                on_hand=-ln.quantity,
                defective=ln.quantity,
                batch_no=ln.batch_no,
            )
            for ln in rows
        ]
    )
    _audit(actor, actions.STOCK_DEFECTIVE, doc, rows)
    channel_stock_reallocate(sku_ids=[ln.sku_id for ln in rows])
    return doc


# -------------------------------------------------------------------------------------------- transfers


@retry_on_deadlock
@transaction.atomic(durable=True)
def stock_transfer_create(
    *, source_id: int, dest_id: int, lines: Sequence[DocLine], actor: Actor, note: str = ""
) -> StockDocument:
    """Open a transfer (调拨): the units are reserved at the source at once (refused if not free there), so
    no order can take them before they ship; they leave the source's channel pools now."""
    _validate(lines, warehouses={"source_id": source_id, "dest_id": dest_id})
    if source_id == dest_id:
        raise ValidationFailed(
            "A transfer goes between two warehouses.",
            details=[FieldError("dest_id", "The destination is the source.", "same_warehouse")],
        )
    if any(ln.is_defective for ln in lines):
        raise ValidationFailed(
            "Transfers move sellable stock; send defective goods with a return to warehouse.",
            details=[FieldError("lines", "Defective lines are not allowed on a transfer.", "invalid")],
        )
    doc = _create(
        DocumentType.TRANSFER,
        DocumentStatus.RESERVED,
        warehouse_id=source_id,
        dest_warehouse_id=dest_id,
        lines=lines,
        actor=actor,
        note=note,
    )
    rows = _lines(doc)
    lock_items({(source_id, ln.sku_id) for ln in rows})  # shelf rows before channel rows (the global order)
    before = set(channel_stock_reallocate(sku_ids=[ln.sku_id for ln in rows]).over_committed)
    warehouse_reserve(
        requests=[WarehouseReserveRequest(LINE_REF, ln.pk, source_id, ln.sku_id, ln.quantity) for ln in rows],
        kind=ReservationKind.TRANSFER,
    )
    _refuse_if_promised([ln.sku_id for ln in rows], before)
    _audit(actor, actions.STOCK_TRANSFER_CREATE, doc, rows)
    return doc


def _ship(doc: StockDocument, rows: list[StockDocumentLine], kind: str, move_kind: str) -> None:
    """Goods leave the source (consuming the document's reservations) and appear in transit at the
    destination."""
    assert doc.dest_warehouse_id is not None
    lock_items({(w, ln.sku_id) for ln in rows for w in (doc.warehouse_id, doc.dest_warehouse_id)})
    good = [ln.pk for ln in rows if not ln.is_defective]
    if good:
        reservations_consume(ref_type=LINE_REF, ref_ids=good, kind=kind, move_kind=move_kind)
    assert doc.dest_warehouse_id is not None
    moves = [
        MoveSpec(
            warehouse_id=doc.warehouse_id,
            sku_id=ln.sku_id,
            kind=move_kind,
            ref_type=LINE_REF,
            ref_id=ln.pk,
            defective=-ln.quantity,
        )
        for ln in rows
        if ln.is_defective
    ] + [
        MoveSpec(
            warehouse_id=doc.dest_warehouse_id,
            sku_id=ln.sku_id,
            kind=move_kind,
            ref_type=LINE_REF,
            ref_id=ln.pk,
            in_transit=ln.quantity,
        )
        for ln in rows
    ]
    ledger_post(moves=moves)
    doc.status = DocumentStatus.SHIPPED
    doc.shipped_at = timezone.now()
    doc.save(update_fields=["status", "shipped_at"])


def _receive(
    doc: StockDocument, rows: list[StockDocumentLine], received: Mapping[int, int] | None, move_kind: str
) -> None:
    """Units arrive at the destination: in transit down, on hand (or defective) up. Partial receipts are
    allowed; receiving more than was shipped is refused."""
    wanted = received if received is not None else {ln.pk: ln.quantity - ln.received_quantity for ln in rows}
    by_id = {ln.pk: ln for ln in rows}
    errors = []
    for line_id, qty in wanted.items():
        ln = by_id.get(line_id)
        if ln is None:
            errors.append(FieldError(f"received.{line_id}", "Not a line of this document.", "unknown"))
        elif not isinstance(qty, int) or qty < 0:
            errors.append(FieldError(f"received.{line_id}", "Quantity must be a whole number ≥ 0.", "min_value"))
        elif ln.received_quantity + qty > ln.quantity:
            errors.append(
                FieldError(
                    f"received.{line_id}",
                    f"Receiving {qty} would exceed the {ln.quantity - ln.received_quantity} unit(s) still in transit.",
                    "more_than_shipped",
                )
            )
    if errors:
        raise ValidationFailed("The receipt does not match the shipment.", details=errors)
    assert doc.dest_warehouse_id is not None
    moves = []
    for line_id, qty in wanted.items():
        if qty == 0:
            continue
        ln = by_id[line_id]
        ln.received_quantity += qty
        moves.append(
            MoveSpec(
                warehouse_id=doc.dest_warehouse_id,
                sku_id=ln.sku_id,
                kind=move_kind,
                ref_type=LINE_REF,
                ref_id=ln.pk,
                in_transit=-qty,
                on_hand=0 if ln.is_defective else qty,
                defective=qty if ln.is_defective else 0,
                batch_no=ln.batch_no,
                production_date=ln.production_date,
                expiry_date=ln.expiry_date,
            )
        )
    ledger_post(moves=moves)
    StockDocumentLine.objects.bulk_update(rows, ["received_quantity"])
    done = all(ln.received_quantity == ln.quantity for ln in rows)
    doc.status = DocumentStatus.RECEIVED if done else DocumentStatus.PARTIAL
    doc.received_at = timezone.now()
    doc.save(update_fields=["status", "received_at"])


def _ship_document(
    *, document_id: int, doc_type: str, kind: str, move: str, action: str, actor: Actor
) -> StockDocument:
    """Ship out a reserved transfer or return: its reservations are consumed at the source."""
    doc = _lock_document(document_id, doc_type)
    _expect(doc, DocumentStatus.RESERVED)
    rows = _lines(doc)
    _ship(doc, rows, kind, move)
    _audit(actor, action, doc, rows)
    channel_stock_reallocate(sku_ids=[ln.sku_id for ln in rows])
    return doc


def _receive_document(
    *, document_id: int, doc_type: str, move: str, action: str, actor: Actor, received: Mapping[int, int] | None
) -> StockDocument:
    """Receive a shipped transfer or return at the destination; ``received`` maps line id → units."""
    doc = _lock_document(document_id, doc_type)
    _expect(doc, DocumentStatus.SHIPPED, DocumentStatus.PARTIAL)
    rows = _lines(doc)
    _receive(doc, rows, received, move)
    _audit(actor, action, doc, rows)
    channel_stock_reallocate(sku_ids=[ln.sku_id for ln in rows])
    return doc


@retry_on_deadlock
@transaction.atomic(durable=True)
def stock_transfer_ship(*, document_id: int, actor: Actor) -> StockDocument:
    return _ship_document(
        document_id=document_id,
        doc_type=DocumentType.TRANSFER,
        kind=ReservationKind.TRANSFER,
        move=MoveKind.TRANSFER_OUT,
        action=actions.STOCK_TRANSFER_SHIP,
        actor=actor,
    )


@retry_on_deadlock
@transaction.atomic(durable=True)
def stock_transfer_receive(
    *, document_id: int, actor: Actor, received: Mapping[int, int] | None = None
) -> StockDocument:
    """Receive a shipped transfer at the destination; ``received`` maps line id → units (default: all)."""
    return _receive_document(
        document_id=document_id,
        doc_type=DocumentType.TRANSFER,
        move=MoveKind.TRANSFER_IN,
        action=actions.STOCK_TRANSFER_RECEIVE,
        actor=actor,
        received=received,
    )


@retry_on_deadlock
@transaction.atomic(durable=True)
def stock_document_cancel(*, document_id: int, actor: Actor, reason: str) -> StockDocument:
    """Cancel a transfer or return that has not shipped: its reservations are released."""
    doc = StockDocument.objects.select_for_update().filter(pk=document_id).first()
    if doc is None:
        raise NotFound(f"No stock document {document_id}.")
    _expect(doc, DocumentStatus.RESERVED)
    if not reason.strip():
        raise ValidationFailed("Say why.", details=[FieldError("reason", "A reason is required.", "required")])
    rows = _lines(doc)
    reservations_release(ref_type=LINE_REF, ref_ids=[ln.pk for ln in rows], reason=reason)
    doc.status = DocumentStatus.CANCELLED
    doc.save(update_fields=["status"])
    _audit(actor, actions.STOCK_CANCEL_BY_TYPE[doc.doc_type], doc, rows, reason)
    channel_stock_reallocate(sku_ids=[ln.sku_id for ln in rows])
    return doc


def _refuse_if_promised(sku_ids: Sequence[int], before: set[tuple[int, int]]) -> None:
    """A transfer may take only units no channel has sold: refuse when, without them, some channel's warehouses
    no longer back what it has reserved (its orders would be left without stock). Re-allocates the SKUs."""
    after = set(channel_stock_reallocate(sku_ids=sku_ids).over_committed)
    newly = sorted(after - before)
    if newly:
        codes = dict(Sku.objects.filter(id__in={s for _c, s in newly}).values_list("id", "code"))
        channels = dict(Channel.objects.filter(id__in={c for c, _s in newly}).values_list("id", "code"))
        raise Conflict(
            "These units are promised to channel orders: "
            + ", ".join(f"{codes[s]} for {channels[c]}" for c, s in newly),
            code="stock_promised",
            extra={"skus": [{"sku": codes[s], "channel": channels[c]} for c, s in newly]},
        )


# ------------------------------------------------------------------------------------ return to warehouse


@retry_on_deadlock
@transaction.atomic(durable=True)
def stock_return_create(
    *, channel_id: int, source_id: int, dest_id: int, lines: Sequence[DocLine], actor: Actor, note: str = ""
) -> StockDocument:
    """Open a return to warehouse (退仓) from a channel's stock location (a store, a platform warehouse) to a
    warehouse. Sellable lines hold a return reservation (退仓预占) on the channel and on the source shelf until
    they ship, so the channel stops selling them now (C4); defective lines reserve nothing."""
    _validate(lines, warehouses={"source_id": source_id, "dest_id": dest_id})
    errors = []
    if not Channel.objects.filter(pk=channel_id).exists():
        errors.append(FieldError("channel_id", f"Unknown channel {channel_id}.", "unknown"))
    elif not ChannelWarehouse.objects.filter(channel_id=channel_id, warehouse_id=source_id).exists():
        errors.append(FieldError("source_id", "The source is not one of the channel's warehouses.", "not_assigned"))
    if source_id == dest_id:
        errors.append(FieldError("dest_id", "The destination is the source.", "same_warehouse"))
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)
    doc = _create(
        DocumentType.RETURN,
        DocumentStatus.RESERVED,
        warehouse_id=source_id,
        dest_warehouse_id=dest_id,
        channel_id=channel_id,
        lines=lines,
        actor=actor,
        note=note,
    )
    rows = _lines(doc)
    # Lock order: shelf rows before channel rows.
    items = lock_items({(source_id, ln.sku_id) for ln in rows})
    short = [
        FieldError(f"lines[{i}].quantity", "More than the defective stock at the source.", "insufficient")
        for i, ln in enumerate(rows)
        if ln.is_defective and items[(source_id, ln.sku_id)].defective < ln.quantity
    ]
    if short:
        raise ValidationFailed("Not enough defective stock at the source.", details=short)
    good = [ln for ln in rows if not ln.is_defective]
    if good:
        warehouse_reserve(
            requests=[WarehouseReserveRequest(LINE_REF, ln.pk, source_id, ln.sku_id, ln.quantity) for ln in good],
            kind=ReservationKind.RETURN,
        )
        _channel_reserve(
            requests=[ReserveRequest(LINE_REF, ln.pk, channel_id, ln.sku_id, ln.quantity) for ln in good],
            kind=ReservationKind.RETURN,
            refuse_when_short=True,
        )
    _audit(actor, actions.STOCK_RETURN_CREATE, doc, rows)
    return doc


@retry_on_deadlock
@transaction.atomic(durable=True)
def stock_return_ship(*, document_id: int, actor: Actor) -> StockDocument:
    return _ship_document(
        document_id=document_id,
        doc_type=DocumentType.RETURN,
        kind=ReservationKind.RETURN,
        move=MoveKind.RETURN_OUT,
        action=actions.STOCK_RETURN_SHIP,
        actor=actor,
    )


@retry_on_deadlock
@transaction.atomic(durable=True)
def stock_return_receive(*, document_id: int, actor: Actor, received: Mapping[int, int] | None = None) -> StockDocument:
    return _receive_document(
        document_id=document_id,
        doc_type=DocumentType.RETURN,
        move=MoveKind.RETURN_IN,
        action=actions.STOCK_RETURN_RECEIVE,
        actor=actor,
        received=received,
    )
