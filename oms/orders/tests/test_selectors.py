"""The read side (O6, P1): filters, keyset pagination and pinned query counts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oms.core.errors import ValidationFailed
from oms.orders.models import Customer, Order
from oms.orders.selectors import OrderFilters, customer_list, order_get, order_list
from oms.orders.services.intake import order_intake_bulk
from oms.testing.orders import order_payload


@pytest.fixture
def many(tmall: Any, skus: Any, admin_operator: Any) -> list[Order]:
    outcomes = order_intake_bulk(payloads=[order_payload() for _ in range(25)], actor=admin_operator)
    orders = [o.order for o in outcomes if o.order is not None]
    assert len(orders) == 25
    return orders


def test_keyset_pages_cover_everything_once_in_one_query_each(many: list[Order]) -> None:
    seen: list[str] = []
    cursor = ""
    while True:
        with CaptureQueriesContext(connection) as ctx:
            page = order_list(filters=OrderFilters(), cursor=cursor, limit=10)
            [(o.channel.code, o.customer) for o in page.items]
        assert len(ctx.captured_queries) == 1
        seen += [o.number for o in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(o.number for o in many) and len(seen) == 25


def test_detail_is_five_queries_whatever_the_size(many: list[Order], django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(5):
        order = order_get(number=many[0].number)
        assert len(order.lines.all()) == 3 and len(order.payments.all()) == 1 and len(order.events.all()) == 2
        assert order.channel.code == "TMALL"


def test_filters(many: list[Order], tmall: Any, skus: Any, admin_operator: Any) -> None:
    target = many[3]
    Order.objects.filter(pk=target.pk).update(status="shipped", receiver_phone="13911112222")
    assert [o.number for o in order_list(filters=OrderFilters(status="shipped")).items] == [target.number]
    assert [o.number for o in order_list(filters=OrderFilters(buyer_phone="13911112222")).items] == [target.number]
    by_platform = order_list(filters=OrderFilters(platform_order_id=target.platform_order_id or "")).items
    assert [o.number for o in by_platform] == [target.number]
    assert [o.number for o in order_list(filters=OrderFilters(q=target.number)).items] == [target.number]
    assert len(order_list(filters=OrderFilters(sku="CUP-003")).items) == 25
    assert order_list(filters=OrderFilters(sku="GIFT-01")).items == []
    assert len(order_list(filters=OrderFilters(channel="TMALL", order_type="sale")).items) == 25
    today = timezone.localdate()
    assert len(order_list(filters=OrderFilters(created_from=today, created_to=today)).items) == 25
    assert order_list(filters=OrderFilters(created_to=today - timedelta(days=1))).items == []
    assert order_list(filters=OrderFilters(paid_from=date(2026, 1, 16))).items == []
    assert len(order_list(filters=OrderFilters(paid_from=date(2026, 1, 15), paid_to=date(2026, 1, 15))).items) == 25


def test_bad_cursor_is_422(db: Any) -> None:
    with pytest.raises(ValidationFailed):
        order_list(filters=OrderFilters(), cursor="garbage!")


def test_customers_are_deduplicated_per_channel_buyer(tmall: Any, skus: Any, admin_operator: Any) -> None:
    buyer = {"platform_buyer_id": "tb-alice", "nickname": "爱丽丝"}
    order_intake_bulk(payloads=[order_payload(buyer=buyer) for _ in range(3)], actor=admin_operator)
    assert Customer.objects.filter(platform_buyer_id="tb-alice").count() == 1
    customer = customer_list(q="tb-alice")[0]
    assert len(order_list(filters=OrderFilters(customer_id=customer.pk)).items) == 3


def test_api_list_and_detail(many: list[Order], make_operator: Any, api_client: Any) -> None:
    client = api_client(make_operator("warehouse_coordinator"))
    first = client.get("/api/v1/orders?limit=20").json()
    assert len(first["items"]) == 20 and first["next_cursor"]
    rest = client.get(f"/api/v1/orders?limit=20&cursor={first['next_cursor']}").json()
    assert len(rest["items"]) == 5 and rest["next_cursor"] is None
    detail = client.get(f"/api/v1/orders/{many[0].number}").json()
    assert detail["lines"][0]["unit_price"] == "59.90" and detail["allowed_next"]
    assert client.get("/api/v1/orders/SO-NOPE").status_code == 404


def test_api_customer_history(tmall: Any, skus: Any, admin_operator: Any, make_operator: Any, api_client: Any) -> None:
    order_intake_bulk(
        payloads=[order_payload(buyer={"platform_buyer_id": "tb-bob"}) for _ in range(2)], actor=admin_operator
    )
    client = api_client(make_operator("customer_service"))
    (found,) = client.get("/api/v1/customers?q=tb-bob").json()
    detail = client.get(f"/api/v1/customers/{found['id']}").json()
    assert len(detail["orders"]) == 2
