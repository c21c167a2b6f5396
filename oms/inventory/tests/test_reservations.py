from __future__ import annotations

import pytest
from django.db import transaction

from oms.channels.models import AllocationRule, ChannelStock
from oms.channels.services.allocation import channel_stock_reallocate
from oms.core.errors import Conflict, ValidationFailed
from oms.inventory.models import Reservation, StockItem
from oms.inventory.services.reservations import (
    ReservationAllocation,
    ReserveRequest,
    WarehouseReserveRequest,
    available_to_sell,
    channel_reserve,
    reservations_consume,
    reservations_release,
    reservations_transfer,
    warehouse_reserve,
)
from oms.inventory.tests.factories import make_bundle, make_channel, make_sku, make_warehouse, put_stock

pytestmark = pytest.mark.django_db


def _quota(channel, sku, quota):
    AllocationRule.objects.create(channel=channel, scope="sku", sku=sku, method="fixed", fixed_quantity=quota)
    channel_stock_reallocate(sku_ids=[sku.pk])


def test_reserve_release_consume_roundtrip():
    wh = make_warehouse()
    ch = make_channel(warehouses=[wh])
    sku = make_sku()
    put_stock(wh, sku, 10)
    _quota(ch, sku, 10)
    with transaction.atomic():
        out = channel_reserve(
            requests=[
                ReserveRequest("order_line", 1, ch.pk, sku.pk, 4),
                ReserveRequest("order_line", 2, ch.pk, sku.pk, 8),
            ]
        )
    assert [(o.reserved, o.short) for o in out] == [(4, 0), (6, 2)]
    assert available_to_sell(channel_id=ch.pk, sku_ids=[sku.pk]) == {sku.pk: 0}
    with transaction.atomic():
        assert reservations_release(ref_type="order_line", ref_ids=[2], reason="cancel") == 1
    assert available_to_sell(channel_id=ch.pk, sku_ids=[sku.pk]) == {sku.pk: 6}
    with transaction.atomic():
        warehouse_reserve(requests=[WarehouseReserveRequest("order_line", 1, wh.pk, sku.pk, 4)])
        reservations_consume(ref_type="order_line", ref_ids=[1])
    item = StockItem.objects.get(warehouse=wh, sku=sku)
    assert (item.on_hand, item.reserved) == (6, 0)
    cs = ChannelStock.objects.get(channel=ch, sku=sku)
    # Shipping took 4 off the shelf and the quota; re-allocation tops the fixed 10 back up to what is left.
    assert (cs.quota, cs.sales_reserved) == (6, 0)


def test_bundle_and_refuse_and_transfer():
    wh, wh2 = make_warehouse(), make_warehouse()
    ch = make_channel(warehouses=[wh])
    a, b = make_sku(), make_sku()
    bundle = make_bundle([(a, 2), (b, 1)])
    put_stock(wh, a, 10)
    put_stock(wh, b, 10)
    put_stock(wh2, a, 10)
    put_stock(wh2, b, 10)
    _quota(ch, a, 10)
    _quota(ch, b, 3)
    assert available_to_sell(channel_id=ch.pk, sku_ids=[bundle.pk]) == {bundle.pk: 3}
    with pytest.raises(Conflict) as err, transaction.atomic():
        channel_reserve(requests=[ReserveRequest("order_line", 1, ch.pk, bundle.pk, 4)], refuse_when_short=True)
    assert err.value.extra["skus"][0]["sku"] == bundle.code
    assert Reservation.objects.count() == 0
    with transaction.atomic():
        out = channel_reserve(requests=[ReserveRequest("order_line", 1, ch.pk, bundle.pk, 2)])
        warehouse_reserve(requests=[WarehouseReserveRequest("order_line", 1, wh.pk, bundle.pk, 2)])
    assert out[0].reserved == 2
    with transaction.atomic():
        moved = reservations_transfer(
            ref_type="order_line",
            from_ref_ids=[1],
            to_allocations=[
                ReservationAllocation(1, 11, bundle.pk, 1),
                ReservationAllocation(1, 12, bundle.pk, 1, warehouse_id=wh2.pk),
            ],
        )
    assert moved == 2
    assert StockItem.objects.get(warehouse=wh, sku=a).reserved == 2
    assert StockItem.objects.get(warehouse=wh2, sku=a).reserved == 2
    assert ChannelStock.objects.get(channel=ch, sku=a).sales_reserved == 4


def test_bad_input_names_field():
    ch = make_channel()
    with pytest.raises(ValidationFailed) as err:
        channel_reserve(requests=[ReserveRequest("order_line", 1, ch.pk, 999999, 0)])
    fields = {d.field for d in err.value.details}
    assert fields == {"requests[0].quantity", "requests[0].sku_id"}
