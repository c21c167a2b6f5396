from __future__ import annotations

import datetime as dt

import pytest

from oms.channels.models import AllocationRule, ChannelStock
from oms.core.errors import Conflict, NotFound, ValidationFailed
from oms.inventory.models import Batch, DocumentStatus, Reservation, StockDocument, StockItem, StockMove
from oms.inventory.services.documents import (
    DocLine,
    stock_count_create,
    stock_defective_mark,
    stock_document_cancel,
    stock_receipt_create,
    stock_return_create,
    stock_return_receive,
    stock_return_ship,
    stock_transfer_create,
    stock_transfer_receive,
    stock_transfer_ship,
)
from oms.inventory.services.reservations import (
    ReserveRequest,
    WarehouseReserveRequest,
    channel_reserve,
    warehouse_reserve,
)
from oms.inventory.tests.factories import make_channel, make_sku, make_warehouse

pytestmark = pytest.mark.django_db


def item(wh, sku) -> StockItem:
    return StockItem.objects.get(warehouse=wh, sku=sku)


def cstock(ch, sku) -> ChannelStock:
    return ChannelStock.objects.get(channel=ch, sku=sku)


def test_receipt_fills_batches_and_feeds_channel_quota(admin_operator, assert_no_drift):
    wh = make_warehouse()
    ch = make_channel(warehouses=[wh])
    AllocationRule.objects.create(channel=ch, ratio_bp=10_000)
    sku = make_sku()
    stock_receipt_create(
        warehouse_id=wh.pk,
        lines=[
            DocLine(sku.pk, 10, batch_no="B1", expiry_date=dt.date(2027, 1, 1)),
            DocLine(sku.pk, 5, batch_no="B0", expiry_date=dt.date(2026, 12, 31)),
            DocLine(sku.pk, 2, is_defective=True),
        ],
        actor=admin_operator,
    )
    assert (item(wh, sku).on_hand, item(wh, sku).defective) == (15, 2)
    assert cstock(ch, sku).quota == 15
    assert cstock(ch, sku).pushed == 15
    # FEFO: the earliest expiry leaves first.
    stock_defective_mark(warehouse_id=wh.pk, lines=[DocLine(sku.pk, 6)], actor=admin_operator)
    batches = {b.batch_no: (b.on_hand, b.defective) for b in Batch.objects.filter(sku=sku)}
    assert batches == {"B0": (0, 5), "B1": (9, 1)}
    assert cstock(ch, sku).quota == 9
    assert_no_drift()


def test_bad_receipt_names_fields_and_changes_nothing(admin_operator):
    wh = make_warehouse()
    sku = make_sku()
    with pytest.raises(ValidationFailed) as err:
        stock_receipt_create(
            warehouse_id=wh.pk,
            lines=[DocLine(sku.pk, 0), DocLine(999_999, 3), DocLine(sku.pk, -2)],
            actor=admin_operator,
        )
    fields = [d.field for d in err.value.details]
    assert fields[:2] == ["lines[0].quantity", "lines[1].sku_id"]
    assert "lines[2].quantity" in fields
    with pytest.raises(ValidationFailed) as err:
        stock_receipt_create(warehouse_id=987_654, lines=[DocLine(sku.pk, 1)], actor=admin_operator)
    assert err.value.details[0].field == "warehouse_id"
    assert not StockDocument.objects.exists()
    assert not StockMove.objects.exists()
    assert not StockItem.objects.exists()


def test_count_cannot_go_below_reserved(admin_operator, assert_no_drift):
    wh = make_warehouse()
    ch = make_channel(warehouses=[wh])
    AllocationRule.objects.create(channel=ch)
    sku = make_sku()
    stock_receipt_create(warehouse_id=wh.pk, lines=[DocLine(sku.pk, 10)], actor=admin_operator)
    channel_reserve(requests=[ReserveRequest("order_line", 1, ch.pk, sku.pk, 4)])
    warehouse_reserve(requests=[WarehouseReserveRequest("order_line", 1, wh.pk, sku.pk, 4)])
    with pytest.raises(ValidationFailed) as err:
        stock_count_create(warehouse_id=wh.pk, lines=[DocLine(sku.pk, 3)], actor=admin_operator)
    assert err.value.details[0].field == "lines[0].quantity"
    assert item(wh, sku).on_hand == 10
    doc = stock_count_create(warehouse_id=wh.pk, lines=[DocLine(sku.pk, 7)], actor=admin_operator)
    assert doc.lines.get().delta == -3
    assert item(wh, sku).on_hand == 7
    # The quota shrinks with the pool but never below what is reserved.
    assert cstock(ch, sku).quota == 7
    assert cstock(ch, sku).available == 3
    assert_no_drift()


def test_defective_marking_only_free_units(admin_operator):
    wh = make_warehouse()
    sku = make_sku()
    stock_receipt_create(warehouse_id=wh.pk, lines=[DocLine(sku.pk, 5)], actor=admin_operator)
    warehouse_reserve(requests=[WarehouseReserveRequest("order_line", 1, wh.pk, sku.pk, 4)])
    with pytest.raises(Conflict) as err:
        stock_defective_mark(warehouse_id=wh.pk, lines=[DocLine(sku.pk, 2)], actor=admin_operator)
    assert err.value.code == "insufficient_stock"
    assert (item(wh, sku).on_hand, item(wh, sku).defective) == (5, 0)


def test_transfer_lifecycle(admin_operator, assert_no_drift):
    src, dst = make_warehouse(), make_warehouse()
    ch = make_channel(warehouses=[src])
    ch2 = make_channel(warehouses=[dst])
    AllocationRule.objects.create(channel=ch)
    AllocationRule.objects.create(channel=ch2)
    sku = make_sku()
    stock_receipt_create(warehouse_id=src.pk, lines=[DocLine(sku.pk, 10)], actor=admin_operator)
    with pytest.raises(Conflict):
        stock_transfer_create(source_id=src.pk, dest_id=dst.pk, lines=[DocLine(sku.pk, 11)], actor=admin_operator)
    assert not StockDocument.objects.filter(doc_type="transfer").exists()
    doc = stock_transfer_create(source_id=src.pk, dest_id=dst.pk, lines=[DocLine(sku.pk, 6)], actor=admin_operator)
    assert (item(src, sku).reserved, item(src, sku).reserved_transfer) == (6, 6)
    assert cstock(ch, sku).quota == 4  # the units promised to the transfer no longer feed the source's channel
    stock_transfer_ship(document_id=doc.pk, actor=admin_operator)
    assert (item(src, sku).on_hand, item(src, sku).reserved, item(dst, sku).in_transit) == (4, 0, 6)
    line = doc.lines.get()
    with pytest.raises(ValidationFailed) as err:
        stock_transfer_receive(document_id=doc.pk, actor=admin_operator, received={line.pk: 7})
    assert err.value.details[0].code == "more_than_shipped"
    stock_transfer_receive(document_id=doc.pk, actor=admin_operator, received={line.pk: 2})
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.PARTIAL
    stock_transfer_receive(document_id=doc.pk, actor=admin_operator)
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.RECEIVED
    assert (item(dst, sku).on_hand, item(dst, sku).in_transit) == (6, 0)
    assert cstock(ch2, sku).quota == 6
    with pytest.raises(Conflict):
        stock_transfer_ship(document_id=doc.pk, actor=admin_operator)
    assert_no_drift()


def test_transfer_cancel_releases(admin_operator, assert_no_drift):
    src, dst = make_warehouse(), make_warehouse()
    sku = make_sku()
    stock_receipt_create(warehouse_id=src.pk, lines=[DocLine(sku.pk, 10)], actor=admin_operator)
    doc = stock_transfer_create(source_id=src.pk, dest_id=dst.pk, lines=[DocLine(sku.pk, 6)], actor=admin_operator)
    with pytest.raises(ValidationFailed):
        stock_document_cancel(document_id=doc.pk, actor=admin_operator, reason=" ")
    stock_document_cancel(document_id=doc.pk, actor=admin_operator, reason="wrong warehouse")
    assert item(src, sku).reserved == 0
    with pytest.raises(NotFound):
        stock_transfer_ship(document_id=doc.pk + 1000, actor=admin_operator)
    assert_no_drift()


def test_return_to_warehouse_holds_return_reservation(admin_operator, assert_no_drift):
    store_wh, main = make_warehouse(), make_warehouse()
    store = make_channel(warehouses=[store_wh])
    AllocationRule.objects.create(channel=store)
    good, bad = make_sku(), make_sku()
    stock_receipt_create(
        warehouse_id=store_wh.pk,
        lines=[DocLine(good.pk, 8), DocLine(bad.pk, 3, is_defective=True)],
        actor=admin_operator,
    )
    doc = stock_return_create(
        channel_id=store.pk,
        source_id=store_wh.pk,
        dest_id=main.pk,
        lines=[DocLine(good.pk, 5), DocLine(bad.pk, 3, is_defective=True)],
        actor=admin_operator,
    )
    cs = cstock(store, good)
    assert (cs.quota, cs.return_reserved, cs.available) == (8, 5, 3)
    assert not Reservation.objects.filter(sku=bad).exists()  # defective goods reserve nothing (C4)
    stock_return_ship(document_id=doc.pk, actor=admin_operator)
    cs = cstock(store, good)
    assert (cs.quota, cs.return_reserved, cs.available) == (3, 0, 3)
    assert (item(main, good).in_transit, item(main, bad).in_transit, item(store_wh, bad).defective) == (5, 3, 0)
    stock_return_receive(document_id=doc.pk, actor=admin_operator)
    assert (item(main, good).on_hand, item(main, bad).defective, item(main, bad).on_hand) == (5, 3, 0)
    assert_no_drift()


def test_return_refused_beyond_channel_available(admin_operator):
    store_wh, main = make_warehouse(), make_warehouse()
    store = make_channel(warehouses=[store_wh])
    AllocationRule.objects.create(channel=store)
    sku = make_sku()
    stock_receipt_create(warehouse_id=store_wh.pk, lines=[DocLine(sku.pk, 4)], actor=admin_operator)
    channel_reserve(requests=[ReserveRequest("order_line", 1, store.pk, sku.pk, 3)])
    with pytest.raises(Conflict) as err:
        stock_return_create(
            channel_id=store.pk,
            source_id=store_wh.pk,
            dest_id=main.pk,
            lines=[DocLine(sku.pk, 2)],
            actor=admin_operator,
        )
    assert err.value.extra["skus"][0]["sku"] == sku.code
    assert not StockDocument.objects.filter(doc_type="return").exists()
    other = make_channel()
    with pytest.raises(ValidationFailed) as verr:
        stock_return_create(
            channel_id=other.pk,
            source_id=store_wh.pk,
            dest_id=main.pk,
            lines=[DocLine(sku.pk, 1)],
            actor=admin_operator,
        )
    assert verr.value.details[0].field == "source_id"


def test_demo_stock_loads_and_verifies(assert_no_drift):
    from oms.demo.master_data import load_master_data
    from oms.demo.stock import load_stock_demo

    load_master_data(seed=7)
    summary = load_stock_demo(seed=7)
    assert summary.receipts == 4 and summary.channel_rows > 0
    assert StockDocument.objects.filter(doc_type="transfer", status="shipped").exists()
    assert StockDocument.objects.filter(doc_type="return", status="reserved").exists()
    assert_no_drift()
