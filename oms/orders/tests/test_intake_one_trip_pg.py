"""The one-round-trip intake on PostgreSQL (`intake_pg`, the function of migration orders 0016) against the general
path: the same rows, cached look-ups that notice every change, the general path wherever it must decide, and no
unit sold twice by real threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from itertools import count
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from oms.audit.domain.chain import content_digest
from oms.audit.models import OperationLog
from oms.audit.verify import audit_verify
from oms.catalog.models import Sku
from oms.channels.models import AvailabilityChange, Channel, ChannelStock
from oms.core.actors import SYSTEM
from oms.core.errors import Conflict, ValidationFailed
from oms.inventory.models import Reservation
from oms.inventory.services.verify import stock_verify
from oms.orders.models import Customer, Order, OrderEvent, OrderLine, OrderPlatformRef, Payment, PlatformSkuMapping
from oms.orders.services.intake import order_intake
from oms.orders.services.intake_lookups import LOOKUPS
from oms.orders.services.intake_pg import audit_digest, audit_row
from oms.testing.orders import order_payload

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _fresh_lookups() -> None:
    LOOKUPS.clear()


def _stock(channel: Channel, skus: list[Sku], quota: int = 1_000) -> None:
    for sku in skus:
        ChannelStock.objects.update_or_create(channel=channel, sku=sku, defaults={"quota": quota, "pushed": quota})


def _rows(order: Order) -> dict[str, Any]:
    """Everything intake wrote for ``order``, without what differs by nature (ids, numbers, the platform order id,
    times of writing)."""
    pid = order.platform_order_id

    def clean(values: dict[str, Any], *drop: str) -> dict[str, Any]:
        return {k: v for k, v in values.items() if k not in drop}

    head = Order.objects.filter(pk=order.pk).values().get()
    snapshot = dict(head["intake_snapshot"])
    assert snapshot.pop("platform_order_id") == pid
    snapshot["buyer"].pop("platform_buyer_id")
    snapshot["payment"].pop("transaction_id")
    lines = list(OrderLine.objects.filter(order=order).order_by("line_no").values())
    line_no = {line["id"]: line["line_no"] for line in lines}
    audit = OperationLog.objects.filter(object_type="orders.order", object_id=str(order.pk)).values().get()
    assert audit["after"].pop("platform_order_id") == pid
    assert audit["object_repr"] == order.number
    order_drop = ("id", "number", "platform_order_id", "platform_order_ids", "customer_id", "created_at")
    audit_drop = ("id", "at", "object_id", "object_repr", "content_hash", "seq", "prev_hash", "row_hash", "chained_at")
    customer = Customer.objects.filter(pk=head["customer_id"]).values().get()
    payments = Payment.objects.filter(order=order).values()
    events = OrderEvent.objects.filter(order=order).order_by("id").values()
    reservations = Reservation.objects.filter(ref_type="order_line", ref_id__in=list(line_no)).values()
    return {
        "order": clean(head, *order_drop, "updated_at", "intake_fingerprint", "intake_snapshot"),
        "snapshot": snapshot,
        "platform_ids": head["platform_order_ids"] == [pid],
        "customer": clean(customer, "id", "platform_buyer_id", "created_at"),
        "lines": [clean(line, "id", "order_id") for line in lines],
        "refs": [
            clean(r, "id", "order_id", "platform_order_id")
            for r in OrderPlatformRef.objects.filter(order=order, platform_order_id=pid).values()
        ],
        "payments": [clean(p, "id", "order_id", "transaction_id", "received_at") for p in payments],
        "events": [clean(e, "id", "order_id", "at") for e in events],
        "audit": clean(audit, *audit_drop),
        "reservations": sorted((line_no[r["ref_id"]], clean(r, "id", "ref_id", "created_at")) for r in reservations),
    }


def _general_path(settings: Any) -> None:
    settings.OMS = {**settings.OMS, "INTAKE_ONE_TRIP": False}


@pytest.mark.django_db(transaction=True)
def test_one_trip_writes_the_rows_the_general_path_writes(tmall: Any, skus: Any, settings: Any) -> None:
    _stock(tmall, skus)
    PlatformSkuMapping.objects.create(channel=tmall, platform_sku_code="TB-CUP", sku=skus[2])
    lines = [
        {"sku_code": "TEA-001", "quantity": 2, "unit_price": "59.90", "platform_line_id": "L1"},
        {"platform_sku_code": "NUT-002", "quantity": 1, "unit_price": "89.00",
         "promotions": [{"code": "P1", "name": "满100减5", "kind": "full_reduction", "amount": "5.00"}]},
        {"platform_sku_code": "TB-CUP", "quantity": 3, "unit_price": "33.33", "name": "杯子"},
        {"platform_sku_code": "UNKNOWN-9", "quantity": 1, "unit_price": "1.00", "name": "未映射"},
        {"sku_code": "TEA-001", "quantity": 1, "unit_price": "0.00", "is_gift": True},
    ]  # fmt: skip

    def body(n: int) -> dict[str, Any]:
        return order_payload(
            platform_order_id=f"SAME-{n}",
            buyer={"platform_buyer_id": f"same-{n}", "nickname": "小王", "phone": "13800138000"},
            payment={"method": "alipay", "transaction_id": f"SAME-PAY-{n}", "paid_at": "2026-01-15T10:01:00+08:00"},
            lines=lines,
        )

    order_intake(payload=body(0), actor=SYSTEM)  # fills the cache
    changes_before = AvailabilityChange.objects.count()
    with CaptureQueriesContext(connection) as one_trip:
        fast = order_intake(payload=body(1), actor=SYSTEM).order
    assert len(one_trip.captured_queries) == 1
    changes_fast = AvailabilityChange.objects.count() - changes_before
    _general_path(settings)
    with CaptureQueriesContext(connection) as general:
        slow = order_intake(payload=body(2), actor=SYSTEM).order
    assert len(general.captured_queries) > 10
    changes_slow = AvailabilityChange.objects.count() - changes_before - changes_fast
    assert fast is not None and slow is not None
    assert _rows(fast) == _rows(slow)
    assert changes_fast == changes_slow == 3  # TEA, NUT and CUP rows each changed their pushed figure
    for row in OperationLog.objects.filter(object_type="orders.order").values():
        assert row["content_hash"] == content_digest(row)
    assert audit_verify().ok
    assert stock_verify().drift == []


def test_the_split_content_hash_is_the_audit_chains() -> None:
    row, head, tail = audit_row(
        actor=SYSTEM, action="order.intake", object_type="orders.order", object_repr='SO"\\ 订单',
        after={"z": 1, "a": ["引号\"", None], "status": "new"},
    )  # fmt: skip
    row.object_id = "123456789"
    assert audit_digest(head, 123456789, tail) == content_digest({**row.__dict__, "actor_id": None})


@pytest.mark.django_db(transaction=True)
def test_a_changed_sku_channel_or_mapping_is_read_afresh(tmall: Any, skus: Any) -> None:
    _stock(tmall, skus)
    one = [{"sku_code": "TEA-001", "quantity": 1, "unit_price": "59.90"}]
    unmapped = [{"platform_sku_code": "TB-NUT", "quantity": 1, "unit_price": "89.00", "name": "坚果"}]
    order_intake(payload=order_payload(lines=one + unmapped, order_discount="0.00"), actor=SYSTEM)

    Sku.objects.filter(code="TEA-001").update(name="龙井绿茶 500g", tax_rate_bp=1300)
    PlatformSkuMapping.objects.create(channel=tmall, platform_sku_code="TB-NUT", sku=skus[1])
    order = order_intake(payload=order_payload(lines=one + unmapped, order_discount="0.00"), actor=SYSTEM).order
    tea, nut = OrderLine.objects.filter(order=order).order_by("line_no")
    assert (tea.name, tea.tax_rate_bp) == ("龙井绿茶 500g", 1300)
    assert nut.sku_id == skus[1].pk
    assert Reservation.objects.filter(ref_id=nut.pk, state="active").exists()

    Channel.objects.filter(pk=tmall.pk).update(is_active=False)
    with pytest.raises(ValidationFailed) as refused:
        order_intake(payload=order_payload(lines=one, order_discount="0.00"), actor=SYSTEM)
    assert [d.code for d in refused.value.details] == ["inactive_channel"]


@pytest.mark.django_db
def test_a_change_made_in_the_same_transaction_is_seen(tmall: Any, skus: Any) -> None:
    # Inside one transaction a row's xmin stays the same when it is updated again; its ctid does not.
    _stock(tmall, skus)
    one = [{"sku_code": "TEA-001", "quantity": 1, "unit_price": "59.90"}]
    order_intake(payload=order_payload(lines=one, order_discount="0.00"), actor=SYSTEM)
    Sku.objects.filter(code="TEA-001").update(name="新包装")
    order = order_intake(payload=order_payload(lines=one, order_discount="0.00"), actor=SYSTEM).order
    assert OrderLine.objects.get(order=order).name == "新包装"


@pytest.mark.django_db(transaction=True)
def test_short_stock_bundles_and_replays_take_the_general_path(tmall: Any, store: Any, skus: Any) -> None:
    _stock(tmall, skus, quota=2)
    _stock(store, skus, quota=2)
    short = [{"sku_code": "TEA-001", "quantity": 3, "unit_price": "59.90"}]
    order = order_intake(payload=order_payload(lines=short, order_discount="0.00"), actor=SYSTEM).order
    assert order is not None and order.has_short_lines
    assert OrderLine.objects.get(order=order).short_quantity == 1
    assert ChannelStock.objects.get(channel=tmall, sku=skus[0]).sales_reserved == 2

    refused = order_payload(channel="STORE-SH", lines=short, order_discount="0.00")
    with pytest.raises(Conflict) as caught:
        order_intake(payload=refused, actor=SYSTEM, refuse_when_short=True)
    assert caught.value.code == "insufficient_stock"
    assert not Order.objects.filter(platform_order_id=refused["platform_order_id"]).exists()

    again = order_payload(lines=[{"sku_code": "NUT-002", "quantity": 1, "unit_price": "89.00"}], order_discount="0.00")
    first = order_intake(payload=again, actor=SYSTEM)
    replay = order_intake(payload=again, actor=SYSTEM)
    assert (first.created, replay.created) == (True, False)
    assert replay.order is not None and first.order is not None and replay.order.pk == first.order.pk
    assert ChannelStock.objects.get(channel=tmall, sku=skus[1]).sales_reserved == 1
    assert audit_verify().ok
    assert stock_verify().drift == []


@pytest.mark.django_db(transaction=True)
def test_racing_single_intakes_never_oversell(tmall: Any, skus: Any) -> None:
    threads, orders_each, quota = 8, 30, 150
    _stock(tmall, skus[:2], quota=quota)
    numbers = count(1)
    lock = threading.Lock()
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def work(i: int) -> None:
        try:
            barrier.wait()
            for k in range(orders_each):
                with lock:
                    n = next(numbers)
                lines = [{"sku_code": "TEA-001", "quantity": 1 + (n % 2), "unit_price": "59.90"}]
                if k % 3 == 0:
                    lines.append({"sku_code": "NUT-002", "quantity": 1, "unit_price": "89.00"})
                body = order_payload(platform_order_id=f"RACE-{n}", lines=lines, order_discount="0.00",
                                     buyer={"platform_buyer_id": f"racer-{n % 5}"})  # fmt: skip
                order_intake(payload=body, actor=SYSTEM)
                if k % 7 == 0:  # a retry of the same platform order answers as a replay
                    assert not order_intake(payload=body, actor=SYSTEM).created
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    assert Order.objects.count() == threads * orders_each
    assert Customer.objects.filter(platform_buyer_id__startswith="racer-").count() == 5
    for sku in skus[:2]:
        cs = ChannelStock.objects.get(channel=tmall, sku=sku)
        held = Reservation.objects.filter(sku=sku, state="active").aggregate(q=Sum("quantity"))["q"] or 0
        wanted = OrderLine.objects.filter(sku=sku).aggregate(q=Sum("quantity"))["q"]
        short = OrderLine.objects.filter(sku=sku).aggregate(q=Sum("short_quantity"))["q"]
        assert cs.sales_reserved == held <= quota
        assert held + short == wanted
    assert ChannelStock.objects.get(channel=tmall, sku=skus[0]).sales_reserved == quota  # demand exceeded it
    assert stock_verify().drift == []
    assert audit_verify().ok


def _count_trips(work: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        work()
    return len(ctx.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_inside_a_callers_transaction_it_writes_in_a_savepoint(tmall: Any, skus: Any) -> None:
    _stock(tmall, skus)
    one = [{"sku_code": "TEA-001", "quantity": 1, "unit_price": "59.90"}]
    order_intake(payload=order_payload(lines=one, order_discount="0.00"), actor=SYSTEM)
    with transaction.atomic():
        trips = _count_trips(
            lambda: order_intake(payload=order_payload(lines=one, order_discount="0.00"), actor=SYSTEM)
        )
    assert trips == 3  # SAVEPOINT, the function, RELEASE
    assert Order.objects.count() == 2
