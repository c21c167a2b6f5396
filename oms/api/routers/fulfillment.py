"""Fulfilment API: run the pipeline, allocate (分仓), transfer warehouse (转仓), couriers, dispatch, stockouts
(缺货), shipments, and the signed WMS callbacks (no operator token: HMAC of the warehouse's secret)."""

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.security import APIKeyHeader
from pydantic import WithJsonSchema

from oms.api.auth import require_perm
from oms.api.types import LongPageSize
from oms.core.errors import NotFound, ValidationFailed
from oms.fulfillment.models import AllocationDecision, Parcel, Shipment, Stockout, StockoutState, WarehouseTransfer
from oms.fulfillment.selectors import order_fulfilment, shipment_list, stockout_list, stockouts_by_sku
from oms.fulfillment.services.allocation import order_allocate
from oms.fulfillment.services.by_hand import ParcelIn, order_ship_by_hand
from oms.fulfillment.services.courier import order_courier_set, orders_courier_assign
from oms.fulfillment.services.dispatch import order_dispatch
from oms.fulfillment.services.parcels import order_remainder_cancel
from oms.fulfillment.services.pipeline import orders_advance
from oms.fulfillment.services.stockouts import stockouts_resolve
from oms.fulfillment.services.transfer import order_warehouse_transfer
from oms.fulfillment.services.wms import wms_callback_receive
from oms.orders.models import Order

router = Router(tags=["fulfilment"])


class WmsSignatureAuth(APIKeyHeader):
    """A WMS, not an operator: the request must carry a signature; the service verifies it (and its
    timestamp) against the warehouse's callback secret and refuses with 401 when it does not match."""

    param_name = "X-OMS-Signature"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return "wms" if key else None


def _order(number: str) -> Order:
    order = Order.objects.filter(number=number).first()
    if order is None:
        raise NotFound(f"No order {number}.", code="order_not_found")
    return order


class DecisionOut(Schema):
    kind: str
    outcome: str
    warehouse: str | None
    courier: str | None
    rule: str
    reason: str
    plan: dict[str, Any] | None
    cost_minor: int | None
    actor: str
    at: datetime


class TransferOut(Schema):
    from_warehouse: str
    to_warehouse: str
    from_subsidiary: str
    to_subsidiary: str
    reason: str
    units_moved: int
    actor: str
    at: datetime


class ShipmentOut(Schema):
    number: str
    order: str
    warehouse: str
    subsidiary: str
    courier: str
    state: str
    tracking_number: str
    weight_g: int | None
    sent_at: datetime
    shipped_at: datetime | None


class ParcelLineOut(Schema):
    line: int
    sku: str
    quantity: int


class ParcelOut(Schema):
    shipment: str
    tracking_number: str
    weight_g: int | None
    packages: int
    units: int
    shipped_at: datetime
    signed_at: datetime | None
    rejected_at: datetime | None
    rejected_reason: str
    lines: list[ParcelLineOut]


class StockoutOut(Schema):
    id: int
    order: str
    line_no: int
    sku: str
    warehouse: str
    quantity: int
    state: str
    created_at: datetime


class StockoutSkuOut(Schema):
    sku: str
    name: str
    warehouse: str
    units: int
    orders: int
    since: datetime


class FulfilmentOut(Schema):
    order: str
    status: str
    warehouse: str | None
    final_warehouse: str | None
    courier: str | None
    tracking_number: str
    decisions: list[DecisionOut]
    transfers: list[TransferOut]
    shipments: list[ShipmentOut]
    parcels: list[ParcelOut]
    stockouts: list[StockoutOut]


class NumbersIn(Schema):
    orders: list[str] = Field(min_length=1, max_length=1000)
    dispatch: bool = False


class AdvanceOut(Schema):
    reviewed: int
    held: int
    allocated: int
    split_proposed: int
    short: int
    couriers: int
    no_courier: int
    dispatched: int


class WarehouseTransferIn(Schema):
    warehouse: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=1, max_length=300)
    allow_short: bool = False


class CourierIn(Schema):
    courier: str | None = Field(None, max_length=32, description="A courier code to set by hand; omit to choose")
    reason: str = Field("", max_length=300)


class ResolveOut(Schema):
    resolved: int
    reduced: int
    cancelled: int


class CancelRestIn(Schema):
    reason: str = Field(min_length=1, max_length=300)


class RemainderOut(Schema):
    order: str
    status: str
    units: int
    lines: list[ParcelLineOut]


class ParcelLineIn(Schema):
    line: int | None = Field(None, description="the order line number")
    sku: str | None = Field(None, description="or the SKU code (several lines of one SKU fill in line order)")
    quantity: int


class ParcelShipIn(Schema):
    tracking_number: str
    lines: list[ParcelLineIn] | None = Field(None, description="what the parcel carries; omitted: all still to ship")
    weight_g: int | None = None


class ShipByHandIn(Schema):
    courier: str = Field(..., description="courier code or name")
    parcels: list[ParcelShipIn]


class ShipByHandOut(Schema):
    order: str
    status: str
    shipment: str
    applied: list[str] = Field(..., description="tracking numbers recorded now")
    repeated: list[str] = Field(..., description="tracking numbers recorded before (nothing changed)")


class CallbackOut(Schema):
    result: str
    shipment: str
    order: str
    order_status: str


def _decision_out(d: AllocationDecision) -> DecisionOut:
    return DecisionOut(
        kind=d.kind,
        outcome=d.outcome,
        warehouse=d.warehouse.code if d.warehouse else None,
        courier=d.courier.code if d.courier else None,
        rule=d.rule_code,
        reason=d.reason,
        plan=d.plan,
        cost_minor=d.cost_minor,
        actor=d.actor_name,
        at=d.created_at,
    )


def _transfer_out(t: WarehouseTransfer) -> TransferOut:
    return TransferOut(
        from_warehouse=t.from_warehouse.code,
        to_warehouse=t.to_warehouse.code,
        from_subsidiary=t.from_subsidiary.code,
        to_subsidiary=t.to_subsidiary.code,
        reason=t.reason,
        units_moved=t.units_moved,
        actor=t.actor_name,
        at=t.created_at,
    )


def _shipment_out(s: Shipment) -> ShipmentOut:
    return ShipmentOut(
        number=s.number,
        order=s.order.number,
        warehouse=s.warehouse.code,
        subsidiary=s.subsidiary.code,
        courier=s.courier.code,
        state=s.state,
        tracking_number=s.tracking_number,
        weight_g=s.weight_g,
        sent_at=s.created_at,
        shipped_at=s.shipped_at,
    )


def _parcel_out(p: Parcel) -> ParcelOut:
    return ParcelOut(
        shipment=p.shipment.number,
        tracking_number=p.tracking_number,
        weight_g=p.weight_g,
        packages=p.package_count,
        units=p.units,
        shipped_at=p.shipped_at,
        signed_at=p.signed_at,
        rejected_at=p.rejected_at,
        rejected_reason=p.rejected_reason,
        lines=[
            ParcelLineOut(line=pl.line.line_no, sku=pl.line.sku.code if pl.line.sku else "", quantity=pl.quantity)
            for pl in p.lines.all()
        ],
    )


def _stockout_out(s: Stockout) -> StockoutOut:
    return StockoutOut(
        id=s.pk,
        order=s.order.number,
        line_no=s.line.line_no,
        sku=s.sku.code,
        warehouse=s.warehouse.code,
        quantity=s.quantity,
        state=s.state,
        created_at=s.created_at,
    )


def _fulfilment_out(number: str) -> FulfilmentOut:
    order = Order.objects.select_related("warehouse", "final_warehouse", "courier").get(number=number)
    data = order_fulfilment(order=order)
    return FulfilmentOut(
        order=order.number,
        status=order.status,
        warehouse=order.warehouse.code if order.warehouse else None,
        final_warehouse=order.final_warehouse.code if order.final_warehouse else None,
        courier=order.courier.code if order.courier else None,
        tracking_number=order.tracking_number,
        decisions=[_decision_out(d) for d in data["decisions"]],
        transfers=[_transfer_out(t) for t in data["transfers"]],
        shipments=[_shipment_out(s) for s in data["shipments"]],
        parcels=[_parcel_out(p) for p in data["parcels"]],
        stockouts=[_stockout_out(s) for s in data["stockouts"]],
    )


@router.get("/fulfillment/orders/{number}", response=FulfilmentOut, summary="Warehouse, courier, shipments, stockouts")
@require_perm("orders.view_order")
def fulfilment_detail(request: HttpRequest, number: str) -> FulfilmentOut:
    return _fulfilment_out(_order(number).number)


@router.post("/fulfillment/advance", response=AdvanceOut, summary="Run the pipeline on orders now")
@require_perm("fulfillment.allocate")
def fulfilment_advance(request: HttpRequest, body: NumbersIn) -> AdvanceOut:
    orders = list(Order.objects.filter(number__in=body.orders))
    missing = sorted(set(body.orders) - {o.number for o in orders})
    if missing:
        raise NotFound(f"No orders {', '.join(missing[:20])}.", code="order_not_found", extra={"missing": missing})
    summary = orders_advance(orders=orders, actor=request.user, buffer_minutes=0, dispatch=body.dispatch)
    return AdvanceOut(**{k: getattr(summary, k) for k in AdvanceOut.model_fields})


@router.post("/fulfillment/orders/{number}/allocate", response=FulfilmentOut, summary="Allocate a warehouse (分仓)")
@require_perm("fulfillment.allocate")
def fulfilment_allocate(request: HttpRequest, number: str) -> FulfilmentOut:
    order_allocate(order=_order(number), actor=request.user)
    return _fulfilment_out(number)


@router.post("/fulfillment/orders/{number}/transfer", response=FulfilmentOut, summary="Transfer warehouse (转仓)")
@require_perm("fulfillment.transfer_warehouse")
def fulfilment_transfer(request: HttpRequest, number: str, body: WarehouseTransferIn) -> FulfilmentOut:
    order_warehouse_transfer(
        order=_order(number),
        to_warehouse=body.warehouse,
        actor=request.user,
        reason=body.reason,
        allow_short=body.allow_short,
    )
    return _fulfilment_out(number)


@router.post("/fulfillment/orders/{number}/courier", response=FulfilmentOut, summary="Choose or set the courier")
@require_perm("fulfillment.assign_courier")
def fulfilment_courier(request: HttpRequest, number: str, body: CourierIn) -> FulfilmentOut:
    order = _order(number)
    if body.courier:
        order_courier_set(order=order, courier_code=body.courier, actor=request.user, reason=body.reason)
    else:
        orders_courier_assign(orders=[order], actor=request.user)
    return _fulfilment_out(number)


@router.post("/fulfillment/orders/{number}/dispatch", response=ShipmentOut, summary="Send to the warehouse system")
@require_perm("fulfillment.dispatch_order")
def fulfilment_dispatch(request: HttpRequest, number: str) -> ShipmentOut:
    shipment = order_dispatch(order=_order(number), actor=request.user)
    return _shipment_out(
        Shipment.objects.select_related("order", "warehouse", "subsidiary", "courier").get(pk=shipment.pk)
    )


@router.post(
    "/fulfillment/orders/{number}/ship",
    response=ShipByHandOut,
    summary="Mark shipped by hand with tracking numbers (手工发货, without a WMS)",
)
@require_perm("fulfillment.ship_by_hand")
def fulfilment_ship_by_hand(request: HttpRequest, number: str, body: ShipByHandIn) -> ShipByHandOut:
    outcome = order_ship_by_hand(
        order=_order(number),
        courier=body.courier,
        parcels=[
            ParcelIn(
                p.tracking_number,
                [ln.model_dump(exclude_none=True) for ln in p.lines] if p.lines is not None else None,
                p.weight_g,
            )
            for p in body.parcels
        ],
        actor=request.user,
    )
    return ShipByHandOut(
        order=outcome.order.number,
        status=outcome.order.status,
        shipment=outcome.shipment.number,
        applied=outcome.applied,
        repeated=outcome.repeated,
    )


@router.post(
    "/fulfillment/orders/{number}/cancel-rest",
    response=RemainderOut,
    summary="Cancel what a partially shipped order (部分发货) has left to ship",
)
@require_perm("orders.cancel_order")
def order_cancel_rest(request: HttpRequest, number: str, body: CancelRestIn) -> RemainderOut:
    outcome = order_remainder_cancel(order=_order(number), actor=request.user, reason=body.reason)
    order = Order.objects.only("number", "status").get(number=number)
    return RemainderOut(
        order=order.number,
        status=order.status,
        units=outcome["units"],
        lines=[ParcelLineOut(**ln) for ln in outcome["lines"]],
    )


@router.get("/fulfillment/stockouts", response=list[StockoutOut], summary="Stockouts (缺货)")
@require_perm("fulfillment.view_stockout")
def stockout_index(
    request: HttpRequest,
    state: Annotated[str, WithJsonSchema({"type": "string", "enum": ["", *StockoutState.values]})] = StockoutState.OPEN,
    sku: str = "",
    warehouse: str = "",
    limit: LongPageSize = 200,
) -> list[StockoutOut]:
    if state and state not in StockoutState.values:
        raise ValidationFailed(f"state is one of {', '.join(StockoutState.values)}.", code="validation_error")
    rows = stockout_list(state=state, sku_code=sku, warehouse_code=warehouse)[: max(1, min(limit, 1000))]
    return [_stockout_out(s) for s in rows]


@router.get("/fulfillment/stockouts/by-sku", response=list[StockoutSkuOut], summary="Stockouts summed by SKU")
@require_perm("fulfillment.view_stockout")
def stockout_summary(request: HttpRequest) -> list[StockoutSkuOut]:
    return [
        StockoutSkuOut(
            sku=r["sku__code"],
            name=r["sku__name"],
            warehouse=r["warehouse__code"],
            units=r["units"],
            orders=r["orders"],
            since=r["since"],
        )
        for r in stockouts_by_sku()
    ]


@router.post("/fulfillment/stockouts/resolve", response=ResolveOut, summary="Re-reserve stockouts against new stock")
@require_perm("fulfillment.allocate")
def stockout_resolve(request: HttpRequest) -> ResolveOut:
    summary = stockouts_resolve(actor=request.user)
    return ResolveOut(resolved=summary.resolved, reduced=summary.reduced, cancelled=summary.cancelled)


@router.get("/fulfillment/shipments", response=list[ShipmentOut], summary="Shipments sent to warehouses")
@require_perm("fulfillment.view_shipment")
def shipment_index(
    request: HttpRequest, state: str = "", warehouse: str = "", limit: LongPageSize = 200
) -> list[ShipmentOut]:
    rows = shipment_list(state=state, warehouse_code=warehouse).select_related("subsidiary")[: max(1, min(limit, 1000))]
    return [_shipment_out(s) for s in rows]


def _wms_callback(func: Any) -> Any:
    func.required_perms = ()
    func.auth_kind = "wms_signature"
    return func


@router.post(
    "/fulfillment/wms/{warehouse}/callbacks",
    auth=WmsSignatureAuth(),
    response=CallbackOut,
    summary="WMS callback: accepted, shipped, signed, rejected (HMAC-signed, not for operators)",
)
@_wms_callback
def wms_callback(request: HttpRequest, warehouse: str) -> CallbackOut:
    result = wms_callback_receive(warehouse_code=warehouse, headers=dict(request.headers), body=request.body)
    return CallbackOut(
        result=result.outcome, shipment=result.shipment, order=result.order, order_status=result.order_status
    )
