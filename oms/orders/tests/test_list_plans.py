"""The order list at scale: statements per request are pinned, every filter and search kind pages correctly,
and (PostgreSQL) every list query reaches its rows through indexes, the keyset by a row-value seek."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oms.catalog.models import Sku
from oms.channels.models import Channel
from oms.core.errors import ValidationFailed
from oms.orders.models import Order
from oms.orders.selectors import OrderFilters, order_count, order_list, order_status_counts
from oms.orders.services.intake import order_intake_bulk
from oms.testing.orders import order_payload

BIG_TABLES = ("orders_order", "orders_orderline", "orders_orderplatformref")
COPY_IDS_FROM = 1_000_000


@pytest.fixture
def orders(tmall: Any, skus: Any, admin_operator: Any) -> list[Order]:
    payloads = [
        order_payload(
            receiver={**order_payload()["receiver"], "name": f"收件人{'甲乙丙'[i % 3]}", "address": f"文三路{i}号"}
        )
        for i in range(12)
    ]
    outcomes = order_intake_bulk(payloads=payloads, actor=admin_operator)
    assert all(o.order is not None for o in outcomes)
    return list(Order.objects.order_by("-created_at", "-id"))


def _filters(o: Order) -> dict[str, OrderFilters]:
    """One request per filter and search kind, each naming something ``o`` has."""
    return {
        "none": OrderFilters(),
        "status": OrderFilters(status=o.status),
        "channel": OrderFilters(channel="TMALL"),
        "type": OrderFilters(order_type="sale"),
        "created": OrderFilters(created_from=o.created_at.date(), created_to=o.created_at.date()),
        "paid": OrderFilters(paid_from=o.paid_at.date(), paid_to=o.paid_at.date()) if o.paid_at else OrderFilters(),
        "platform id": OrderFilters(platform_order_id=o.platform_order_id or ""),
        "phone": OrderFilters(buyer_phone=o.receiver_phone),
        "sku": OrderFilters(sku="CUP-003"),
        "living": OrderFilters(living_only=True),
        "q number": OrderFilters(q=o.number),
        "q platform id": OrderFilters(q=o.platform_order_id or ""),
        "q phone": OrderFilters(q=o.receiver_phone),
        "q name": OrderFilters(q=o.receiver_name),
        "q sku": OrderFilters(q="CUP-003"),
        "q address": OrderFilters(q=o.receiver_address[:4]),
    }


# Statements per list request: the page in one; a channel or SKU filter, or a free search (a SKU code?), looks
# the id up first.
STATEMENTS = {"sku": 2, "channel": 2} | {
    name: 2 for name in ("q number", "q platform id", "q phone", "q name", "q sku", "q address")
}


def test_statements_per_list_request_are_pinned(orders: list[Order]) -> None:
    for name, filters in _filters(orders[3]).items():
        cursor = order_list(filters=filters, limit=1).next_cursor
        for page_cursor in ("", cursor or ""):
            with CaptureQueriesContext(connection) as ctx:
                page = order_list(filters=filters, cursor=page_cursor, limit=1)
                [(o.channel.code, o.customer) for o in page.items]
            assert len(ctx.captured_queries) == STATEMENTS.get(name, 1), (name, page_cursor)


def test_each_search_kind_finds_its_orders(orders: list[Order]) -> None:
    o = orders[3]
    found = {name: {x.number for x in order_list(filters=f).items} for name, f in _filters(o).items()}
    assert found["q number"] == {o.number}
    assert found["q platform id"] == {o.number}
    assert found["q phone"] == {x.number for x in orders}  # every fixture order has the same phone
    assert found["q name"] == {x.number for x in orders if x.receiver_name == o.receiver_name}
    assert found["q sku"] == {x.number for x in orders}
    assert found["q address"] == {x.number for x in orders if o.receiver_address[:4] in x.receiver_address}
    assert order_list(filters=OrderFilters(q="文三")).items == []  # below three characters: no fragment search


@pytest.mark.parametrize("q", ["CUP-003", "13800138000", "文三路1"])
def test_search_pages_cover_every_match_once_in_page_order(orders: list[Order], q: str) -> None:
    expected = [x.number for x in order_list(filters=OrderFilters(q=q), limit=200).items]
    assert len(expected) >= 3
    seen: list[str] = []
    cursor = ""
    while True:
        page = order_list(filters=OrderFilters(q=q), cursor=cursor, limit=2)
        seen += [x.number for x in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == expected


def test_a_paid_time_filter_lists_by_payment_time(orders: list[Order]) -> None:
    paid = timezone.now() - timedelta(days=2)
    for k, o in enumerate(orders):  # payment order: the reverse of creation order
        Order.objects.filter(pk=o.pk).update(paid_at=paid + timedelta(minutes=k))
    filters = OrderFilters(paid_from=paid.date() - timedelta(days=1), paid_to=paid.date() + timedelta(days=1))
    seen, cursor = [], ""
    while True:
        page = order_list(filters=filters, cursor=cursor, limit=5)
        seen += [x.number for x in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [o.number for o in reversed(orders)]
    with pytest.raises(ValidationFailed):  # a cursor of the creation-time order does not continue this one
        order_list(filters=filters, cursor=order_list(filters=OrderFilters(), limit=1).next_cursor or "")


@pytest.mark.parametrize("sort", ["-created_at", "created_at", "-paid_at", "paid_at"])
def test_each_sort_pages_every_order_once_in_its_order(orders: list[Order], sort: str) -> None:
    paid = timezone.now() - timedelta(days=2)
    for k, o in enumerate(orders):
        Order.objects.filter(pk=o.pk).update(paid_at=paid + timedelta(minutes=(k * 7) % 12))
    key = sort.lstrip("-")
    rows = list(Order.objects.order_by(sort, f"{'-' if sort.startswith('-') else ''}id"))
    expected = [o.number for o in rows]
    seen, cursor = [], ""
    while True:
        page = order_list(filters=OrderFilters(sort=sort), cursor=cursor, limit=5)
        seen += [x.number for x in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == expected, key
    with pytest.raises(ValidationFailed):  # a cursor of another order does not continue this one
        other = "created_at" if sort == "-created_at" else "-created_at"
        order_list(
            filters=OrderFilters(sort=sort),
            cursor=order_list(filters=OrderFilters(sort=other), limit=1).next_cursor or "",
        )


def test_counts_are_capped(orders: list[Order]) -> None:
    assert order_count(filters=OrderFilters()) == len(orders)
    assert order_count(filters=OrderFilters(), cap=5) == 6  # more than the cap: cap + 1, shown "5+"
    status = orders[0].status
    counts = order_status_counts(statuses=[status, "signed"], cap=100)
    assert counts == {status: Order.objects.filter(status=status).count(), "signed": 0}
    assert order_status_counts(statuses=[status], cap=3)[status] == 4
    assert order_count(filters=OrderFilters(numbers=(orders[0].number, orders[1].number))) == 2


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def _walks(plan: str) -> list[str]:
    """Scans of the big tables that read them without a condition on an index: a Seq Scan, or an Index Scan
    with no Index Cond (a walk along an index, filtering as it goes)."""
    lines = plan.splitlines()
    out = []
    for i, line in enumerate(lines):
        found = re.search(r"(Seq Scan|Index Scan|Index Only Scan) (?:Backward )?(?:using \S+ )?on (\w+)", line)
        if not found or found.group(2) not in BIG_TABLES:
            continue
        depth = len(line) - len(line.lstrip(" ->"))
        details = []
        for below in lines[i + 1 :]:
            if below.strip().startswith("->") or len(below) - len(below.lstrip()) <= depth:
                break
            details.append(below)
        if found.group(1) == "Seq Scan" or not any("Index Cond" in d for d in details):
            out.append(line.strip())
    return out


# Requests whose rows no index condition narrows: the page is the first rows of a walk along the
# (created_at, id) index, which the LIMIT stops (a filter matching most orders, or none at all).
WALKS_ALLOWED = {"none", "type", "living", "sku", "q sku", "oldest first", "paid newest", "paid oldest"}


@pytest.mark.postgres
def test_every_list_query_reaches_its_rows_through_indexes(orders: list[Order], skus: Any) -> None:
    """A few thousand orders (the fixture multiplied as the lists benchmark does), analysed, with sequential
    scans priced out: a filter or search kind no index serves shows a Seq Scan or an index walk."""
    from bench.lists import _multiply_sql

    rare = Sku.objects.create(code="RARE-01", name="少见")
    with connection.cursor() as cursor:
        # The copies' receivers and addresses derive from their ids: start the ids at one place, so the plans
        # do not depend on how many orders the tests before this one made (an address fragment's selectivity,
        # hence its plan, would).
        cursor.execute("SELECT setval(pg_get_serial_sequence('orders_order', 'id'), %s)", [COPY_IDS_FROM])
        for sql in _multiply_sql(len(orders) * 250, len(orders), 249):
            cursor.execute(sql)
        cursor.execute(
            "UPDATE orders_orderline SET sku_id = %s WHERE id IN (SELECT id FROM orders_orderline ORDER BY id LIMIT 3)",
            [rare.pk],
        )
        cursor.execute(  # a status few orders have: the status index must serve it (common ones walk)
            "UPDATE orders_order SET status = 'rejected' WHERE id IN (SELECT id FROM orders_order ORDER BY id LIMIT 5)"
        )
        small = Channel.objects.create(code="SMALL", name="小店", platform="jd", classification="online")
        cursor.execute(
            "UPDATE orders_order SET channel_id = %s WHERE id IN (SELECT id FROM orders_order ORDER BY id LIMIT 5)",
            [small.pk],
        )
        cursor.execute("ANALYZE")
        cursor.execute("SET enable_seqscan = off")
    deep = Order.objects.order_by("-created_at", "-id")[1500]
    cases = _filters(deep) | {
        "oldest first": OrderFilters(sort="created_at"),
        "paid newest": OrderFilters(sort="-paid_at"),
        "paid oldest": OrderFilters(sort="paid_at"),
        "status": OrderFilters(status="rejected"),
        "channel": OrderFilters(channel="SMALL"),
        "sku rare": OrderFilters(sku="RARE-01"),
        "q sku rare": OrderFilters(q="RARE-01"),
    }
    for name, filters in cases.items():
        page = order_list(filters=filters, limit=2)
        assert page.items, name
        for cursor in ("", page.next_cursor or ""):
            with CaptureQueriesContext(connection) as ctx:
                order_list(filters=filters, cursor=cursor, limit=2)
            for query in ctx.captured_queries:
                plan = _plan(query["sql"])
                walks = _walks(plan)
                if name not in WALKS_ALLOWED:
                    assert not walks, f"{name}: no index condition on {walks}\n{plan}"
                assert not [w for w in walks if w.startswith("Seq Scan")], f"{name}: {walks}\n{plan}"
                if cursor and 'ORDER BY "orders_order"."created_at" DESC' in query["sql"] and not filters.q:
                    # the keyset seeks: the row comparison is an index condition, not a filter on a walk
                    seeks = [ln for ln in plan.splitlines() if "Index Cond" in ln and "ROW(created_at, id) <" in ln]
                    assert seeks or name in ("platform id",), f"{name}: the cursor does not seek\n{plan}"


@pytest.mark.postgres
def test_tab_counts_and_the_total_walk_an_index_at_most_the_cap(orders: list[Order]) -> None:
    """The status tabs' counts and the list's total at scale: each an index(-only) scan under a LIMIT of the
    cap, never a sequential scan of the table, however many orders match."""
    from bench.lists import _multiply_sql

    with connection.cursor() as cursor:
        for sql in _multiply_sql(len(orders) * 250, len(orders), 249):
            cursor.execute(sql)
        cursor.execute("ANALYZE")
        cursor.execute("SET enable_seqscan = off")
    status = orders[0].status
    for run in (
        lambda: order_status_counts(statuses=[status, "signed", "pending_review"], cap=100),
        lambda: order_count(filters=OrderFilters(), cap=100),
        lambda: order_count(filters=OrderFilters(status=status), cap=100),
    ):
        with CaptureQueriesContext(connection) as ctx:
            run()
        for query in ctx.captured_queries:
            plan = _plan(query["sql"])
            assert "Limit" in plan, plan
            assert not [w for w in _walks(plan) if w.startswith("Seq Scan")], plan
    assert order_status_counts(statuses=[status], cap=100)[status] == 101
