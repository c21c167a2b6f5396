"""Stock API: SKU stock, documents (receipt 入库, count 盘点, defective 次品, transfer 调拨, return 退仓) and the
channel available-to-sell feed. Inputs name things by code; the services take ids."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from oms.api.auth import require_perm
from oms.api.types import Day, Id, PageSize, StockUnits, StockUnitsByLine, When
from oms.catalog.models import Sku
from oms.channels.models import Channel
from oms.channels.services.allocation import channel_stock_reallocate
from oms.core.errors import FieldError, NotFound, ValidationFailed
from oms.inventory import selectors
from oms.inventory.models import StockDocument, Warehouse
from oms.inventory.services import documents as docs

router = Router(tags=["stock"])


class StockLineIn(Schema):
    sku: str = Field(description="SKU code (商家编码)")
    quantity: StockUnits = Field(description="Units; for a stock count, the counted figure")
    batch_no: str = ""
    production_date: Day | None = None
    expiry_date: Day | None = None
    defective: bool = False


class StockDocumentIn(Schema):
    warehouse: str
    lines: list[StockLineIn]
    note: str = ""


class StockTransferIn(Schema):
    source: str
    destination: str
    lines: list[StockLineIn]
    note: str = ""


class StockReturnIn(StockTransferIn):
    channel: str


class ReceiveIn(Schema):
    received: StockUnitsByLine | None = Field(None, description="line id → units received; default: everything")


class StockCancelIn(Schema):
    reason: str = Field(min_length=1, max_length=200, pattern=r"\S", description="Why; not only spaces.")


class DocLineOut(Schema):
    id: int
    sku: str
    quantity: int
    delta: int
    received_quantity: int
    defective: bool
    batch_no: str


class DocumentOut(Schema):
    id: int
    number: str
    doc_type: str
    status: str
    warehouse: str
    dest_warehouse: str | None
    channel: str | None
    note: str
    created_at: dt.datetime
    shipped_at: dt.datetime | None
    received_at: dt.datetime | None
    lines: list[DocLineOut]


class WarehouseStockOut(Schema):
    warehouse: str
    on_hand: int
    reserved: int
    reserved_transfer: int
    sellable: int
    defective: int
    in_transit: int


class BatchOut(Schema):
    warehouse: str
    batch_no: str
    production_date: dt.date | None
    expiry_date: dt.date | None
    on_hand: int
    defective: int


class ChannelStockOut(Schema):
    channel: str
    quota: int
    sales_reserved: int
    return_reserved: int
    available: int
    pushed: int


class MoveOut(Schema):
    id: int
    warehouse: str
    kind: str
    delta_on_hand: int
    delta_defective: int
    delta_in_transit: int
    batch_no: str | None
    ref_type: str
    ref_id: int
    created_at: dt.datetime


class SkuStockOut(Schema):
    sku: str
    is_hot: bool = Field(description="Hot SKU (爆款): one-at-a-time channel reservations are granted in batches")
    warehouses: list[WarehouseStockOut]
    batches: list[BatchOut]
    channels: list[ChannelStockOut]
    moves: list[MoveOut]


class FeedItemOut(Schema):
    sku: str
    available: int
    quantity: int = Field(description="The figure to push to the platform")
    changed_at: dt.datetime | None


class FeedOut(Schema):
    channel: str
    as_of: dt.datetime
    items: list[FeedItemOut]


class ReallocateOut(Schema):
    skus: int
    rows_changed: int
    over_committed: int


# ------------------------------------------------------------------------------------------------ helpers


def _warehouse_id(code: str, field: str, errors: list[FieldError]) -> int:
    wid = Warehouse.objects.filter(code=code).values_list("id", flat=True).first()
    if wid is None:
        errors.append(FieldError(field, f"Unknown warehouse {code}.", "unknown"))
        return 0
    return wid


def _lines(lines: list[StockLineIn], errors: list[FieldError]) -> list[docs.DocLine]:
    ids = dict(Sku.objects.filter(code__in={ln.sku for ln in lines}).values_list("code", "id"))
    out = []
    for i, ln in enumerate(lines):
        if ln.sku not in ids:
            errors.append(FieldError(f"lines[{i}].sku", f"Unknown SKU {ln.sku}.", "unknown"))
        out.append(
            docs.DocLine(
                sku_id=ids.get(ln.sku, 0),
                quantity=ln.quantity,
                batch_no=ln.batch_no,
                production_date=ln.production_date,
                expiry_date=ln.expiry_date,
                is_defective=ln.defective,
            )
        )
    return out


def _raise(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)


def _doc_out(doc: StockDocument, *, reload: bool = True) -> dict[str, Any]:
    """The document as the API shows it; ``reload`` fetches it with its lines (after a service call)."""
    if reload:
        doc = selectors.stock_document_get(document_id=doc.pk)
    return {
        "id": doc.pk,
        "number": doc.number,
        "doc_type": doc.doc_type,
        "status": doc.status,
        "warehouse": doc.warehouse.code,
        "dest_warehouse": doc.dest_warehouse.code if doc.dest_warehouse else None,
        "channel": doc.channel.code if doc.channel else None,
        "note": doc.note,
        "created_at": doc.created_at,
        "shipped_at": doc.shipped_at,
        "received_at": doc.received_at,
        "lines": [
            {
                "id": ln.pk,
                "sku": ln.sku.code,
                "quantity": ln.quantity,
                "delta": ln.delta,
                "received_quantity": ln.received_quantity,
                "defective": ln.is_defective,
                "batch_no": ln.batch_no,
            }
            for ln in doc.lines.all()
        ],
    }


def _received(payload: ReceiveIn) -> dict[int, int] | None:
    if payload.received is None:
        return None
    out: dict[int, int] = {}
    errors = []
    for key, qty in payload.received.items():
        if not key.isdigit():
            errors.append(FieldError(f"received.{key}", "Line ids are numbers.", "invalid"))
        else:
            out[int(key)] = qty
    _raise(errors)
    return out


# ---------------------------------------------------------------------------------------------- endpoints


@router.get("/skus/{code}/stock", response=SkuStockOut)
@require_perm("inventory.view_stock")
def sku_stock(request: HttpRequest, code: str) -> dict[str, Any]:
    s = selectors.sku_stock_get(sku_code=code)
    return {
        "sku": s.sku.code,
        "is_hot": s.sku.is_hot,
        "warehouses": [
            {
                "warehouse": i.warehouse.code,
                "on_hand": i.on_hand,
                "reserved": i.reserved,
                "reserved_transfer": i.reserved_transfer,
                "sellable": i.sellable,
                "defective": i.defective,
                "in_transit": i.in_transit,
            }
            for i in s.items
        ],
        "batches": [
            {
                "warehouse": b.warehouse.code,
                "batch_no": b.batch_no,
                "production_date": b.production_date,
                "expiry_date": b.expiry_date,
                "on_hand": b.on_hand,
                "defective": b.defective,
            }
            for b in s.batches
        ],
        "channels": [
            {
                "channel": c.channel.code,
                "quota": c.quota,
                "sales_reserved": c.sales_reserved,
                "return_reserved": c.return_reserved,
                "available": c.available,
                "pushed": c.pushed,
            }
            for c in s.channels
        ],
        "moves": [
            {
                "id": m.pk,
                "warehouse": m.warehouse.code,
                "kind": m.kind,
                "delta_on_hand": m.delta_on_hand,
                "delta_defective": m.delta_defective,
                "delta_in_transit": m.delta_in_transit,
                "batch_no": m.batch.batch_no if m.batch else None,
                "ref_type": m.ref_type,
                "ref_id": m.ref_id,
                "created_at": m.created_at,
            }
            for m in s.moves
        ],
    }


@router.get("/channels/{code}/stock", response=FeedOut)
@require_perm("channels.view_channel_stock")
def channel_feed(request: HttpRequest, code: str, changed_since: When | None = None) -> dict[str, Any]:
    """Available-to-sell (可用库存) per SKU for one channel: everything, or only SKUs whose figure changed
    after ``changed_since`` (pass the previous answer's ``as_of``). ``quantity`` is what to push: available
    less safety stock, capped at the maximum, 0 below the minimum."""
    as_of = dt.datetime.now(tz=dt.UTC)
    rows = selectors.channel_feed_list(channel_code=code, changed_since=changed_since)
    return {
        "channel": code,
        "as_of": as_of,
        "items": [
            {"sku": r.sku_code, "available": r.available, "quantity": r.pushed, "changed_at": r.changed_at}
            for r in rows
        ],
    }


@router.get("/stock/documents", response=list[DocumentOut])
@require_perm("inventory.view_stock")
def document_list(
    request: HttpRequest, doc_type: str | None = None, status: str | None = None, limit: PageSize = 50
) -> list[dict[str, Any]]:
    docs_qs = selectors.stock_document_list(doc_type=doc_type, status=status).prefetch_related("lines__sku")
    return [_doc_out(d, reload=False) for d in docs_qs[: max(1, min(limit, 200))]]


@router.get("/stock/documents/{document_id}", response=DocumentOut)
@require_perm("inventory.view_stock")
def document_get(request: HttpRequest, document_id: Id) -> dict[str, Any]:
    return _doc_out(selectors.stock_document_get(document_id=document_id), reload=False)


def _warehouse_and_lines(payload: StockDocumentIn) -> tuple[int, list[docs.DocLine]]:
    """The warehouse and lines of a one-warehouse document (receipt, count, defective), every problem named."""
    errors: list[FieldError] = []
    wid = _warehouse_id(payload.warehouse, "warehouse", errors)
    lines = _lines(payload.lines, errors)
    _raise(errors)
    return wid, lines


@router.post("/stock/receipts", response={201: DocumentOut})
@require_perm("inventory.receive_stock")
def receipt_create(request: HttpRequest, payload: StockDocumentIn) -> Status[dict[str, Any]]:
    wid, lines = _warehouse_and_lines(payload)
    doc = docs.stock_receipt_create(warehouse_id=wid, lines=lines, actor=request.user, note=payload.note)
    return Status(201, _doc_out(doc))


@router.post("/stock/counts", response={201: DocumentOut})
@require_perm("inventory.adjust_stock")
def count_create(request: HttpRequest, payload: StockDocumentIn) -> Status[dict[str, Any]]:
    wid, lines = _warehouse_and_lines(payload)
    doc = docs.stock_count_create(warehouse_id=wid, lines=lines, actor=request.user, note=payload.note)
    return Status(201, _doc_out(doc))


@router.post("/stock/defective", response={201: DocumentOut})
@require_perm("inventory.adjust_stock")
def defective_mark(request: HttpRequest, payload: StockDocumentIn) -> Status[dict[str, Any]]:
    wid, lines = _warehouse_and_lines(payload)
    doc = docs.stock_defective_mark(warehouse_id=wid, lines=lines, actor=request.user, note=payload.note)
    return Status(201, _doc_out(doc))


@router.post("/stock/transfers", response={201: DocumentOut})
@require_perm("inventory.transfer_stock")
def transfer_create(request: HttpRequest, payload: StockTransferIn) -> Status[dict[str, Any]]:
    errors: list[FieldError] = []
    src = _warehouse_id(payload.source, "source", errors)
    dst = _warehouse_id(payload.destination, "destination", errors)
    lines = _lines(payload.lines, errors)
    _raise(errors)
    doc = docs.stock_transfer_create(source_id=src, dest_id=dst, lines=lines, actor=request.user, note=payload.note)
    return Status(201, _doc_out(doc))


@router.post("/stock/transfers/{document_id}/ship", response=DocumentOut)
@require_perm("inventory.transfer_stock")
def transfer_ship(request: HttpRequest, document_id: Id) -> dict[str, Any]:
    return _doc_out(docs.stock_transfer_ship(document_id=document_id, actor=request.user))


@router.post("/stock/transfers/{document_id}/receive", response=DocumentOut)
@require_perm("inventory.transfer_stock")
def transfer_receive(request: HttpRequest, document_id: Id, payload: ReceiveIn) -> dict[str, Any]:
    doc = docs.stock_transfer_receive(document_id=document_id, actor=request.user, received=_received(payload))
    return _doc_out(doc)


@router.post("/stock/transfers/{document_id}/cancel", response=DocumentOut)
@require_perm("inventory.transfer_stock")
def transfer_cancel(request: HttpRequest, document_id: Id, payload: StockCancelIn) -> dict[str, Any]:
    doc = selectors.stock_document_get(document_id=document_id)
    if doc.doc_type != "transfer":
        raise NotFound(f"No transfer {document_id}.", details=[FieldError("document_id", "Not a transfer.", "unknown")])
    return _doc_out(docs.stock_document_cancel(document_id=document_id, actor=request.user, reason=payload.reason))


@router.post("/stock/returns", response={201: DocumentOut})
@require_perm("inventory.return_stock")
def return_create(request: HttpRequest, payload: StockReturnIn) -> Status[dict[str, Any]]:
    errors: list[FieldError] = []
    src = _warehouse_id(payload.source, "source", errors)
    dst = _warehouse_id(payload.destination, "destination", errors)
    channel_id = Channel.objects.filter(code=payload.channel).values_list("id", flat=True).first()
    if channel_id is None:
        errors.append(FieldError("channel", f"Unknown channel {payload.channel}.", "unknown"))
    lines = _lines(payload.lines, errors)
    _raise(errors)
    assert channel_id is not None
    doc = docs.stock_return_create(
        channel_id=channel_id, source_id=src, dest_id=dst, lines=lines, actor=request.user, note=payload.note
    )
    return Status(201, _doc_out(doc))


@router.post("/stock/returns/{document_id}/ship", response=DocumentOut)
@require_perm("inventory.return_stock")
def return_ship(request: HttpRequest, document_id: Id) -> dict[str, Any]:
    return _doc_out(docs.stock_return_ship(document_id=document_id, actor=request.user))


@router.post("/stock/returns/{document_id}/receive", response=DocumentOut)
@require_perm("inventory.return_stock")
def return_receive(request: HttpRequest, document_id: Id, payload: ReceiveIn) -> dict[str, Any]:
    doc = docs.stock_return_receive(document_id=document_id, actor=request.user, received=_received(payload))
    return _doc_out(doc)


@router.post("/stock/returns/{document_id}/cancel", response=DocumentOut)
@require_perm("inventory.return_stock")
def return_cancel(request: HttpRequest, document_id: Id, payload: StockCancelIn) -> dict[str, Any]:
    doc = selectors.stock_document_get(document_id=document_id)
    if doc.doc_type != "return":
        raise NotFound(f"No return {document_id}.", details=[FieldError("document_id", "Not a return.", "unknown")])
    return _doc_out(docs.stock_document_cancel(document_id=document_id, actor=request.user, reason=payload.reason))


@router.post("/stock/reallocate", response=ReallocateOut)
@require_perm("channels.allocate_stock")
def reallocate(request: HttpRequest) -> dict[str, int]:
    """Recompute every channel's quotas now (C1); normally they follow each stock change on their own."""
    summary = channel_stock_reallocate()
    return {"skus": summary.skus, "rows_changed": summary.rows_changed, "over_committed": len(summary.over_committed)}
