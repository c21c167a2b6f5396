"""Moving part of a line's reservation to another warehouse for the same line (部分转仓)."""

from __future__ import annotations

import pytest
from django.db import transaction

from oms.inventory.models import Reservation, ReservationState, StockItem
from oms.inventory.services.reservations import (
    ReservationAllocation,
    ReserveRequest,
    WarehouseReserveRequest,
    channel_reserve,
    reservations_transfer,
    warehouse_reserve,
)
from oms.inventory.tests.factories import make_channel, make_sku, make_warehouse, put_stock
from oms.inventory.tests.test_reservations import _quota

pytestmark = pytest.mark.django_db


def _active(ref_id: int) -> dict[tuple[str, int | None], int]:
    return {
        (r.scope, r.warehouse_id): r.quantity
        for r in Reservation.objects.filter(ref_type="order_line", ref_id=ref_id, state=ReservationState.ACTIVE)
    }


@pytest.mark.parametrize("already_at_target", [0, 2])
def test_part_of_a_line_moves_to_another_warehouse_for_the_same_line(already_at_target, assert_no_drift):
    a, b = make_warehouse(), make_warehouse()
    ch = make_channel(warehouses=[a, b])
    sku = make_sku()
    put_stock(a, sku, 10)
    put_stock(b, sku, 10)
    _quota(ch, sku, 20)
    with transaction.atomic():
        channel_reserve(requests=[ReserveRequest("order_line", 1, ch.pk, sku.pk, 7)])
        warehouse_reserve(requests=[WarehouseReserveRequest("order_line", 1, a.pk, sku.pk, 7 - already_at_target)])
        if already_at_target:
            warehouse_reserve(requests=[WarehouseReserveRequest("order_line", 1, b.pk, sku.pk, already_at_target)])
    with transaction.atomic():
        moved = reservations_transfer(
            ref_type="order_line",
            from_ref_ids=[1],
            to_allocations=[ReservationAllocation(1, 1, sku.pk, 3, warehouse_id=b.pk)],
            release_remainder=False,
            reason="转仓",
        )
    assert moved == 3
    assert _active(1) == {
        ("channel", None): 7,
        ("warehouse", a.pk): 4 - already_at_target,
        ("warehouse", b.pk): 3 + already_at_target,
    }
    assert StockItem.objects.get(warehouse=a, sku=sku).reserved == 4 - already_at_target
    assert StockItem.objects.get(warehouse=b, sku=sku).reserved == 3 + already_at_target
    assert_no_drift()


def test_moving_the_whole_line_to_its_own_warehouse_changes_nothing(assert_no_drift):
    a = make_warehouse()
    ch = make_channel(warehouses=[a])
    sku = make_sku()
    put_stock(a, sku, 10)
    _quota(ch, sku, 10)
    with transaction.atomic():
        channel_reserve(requests=[ReserveRequest("order_line", 1, ch.pk, sku.pk, 5)])
        warehouse_reserve(requests=[WarehouseReserveRequest("order_line", 1, a.pk, sku.pk, 5)])
    with transaction.atomic():
        reservations_transfer(
            ref_type="order_line",
            from_ref_ids=[1],
            to_allocations=[ReservationAllocation(1, 1, sku.pk, 2, warehouse_id=a.pk)],
            release_remainder=False,
        )
    assert _active(1) == {("channel", None): 5, ("warehouse", a.pk): 5}
    assert StockItem.objects.get(warehouse=a, sku=sku).reserved == 5
    assert_no_drift()
