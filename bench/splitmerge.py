"""Split and merge on PostgreSQL: SQL statements per operation (flat as lines grow) and operations/s,
and the auto-merge grouping over 100,000 open orders.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_bench uv run oms bench split-merge

Each split takes an order of N lines (N = 10, 25, 50), quantity-splits every line in two and executes
the whole service (money, reservations moved line to line, lineage, audit, review and re-allocation
of the two new orders). Each merge takes 10 orders of one buyer. The baseline for the grouping is one
raw GROUP BY over the same merge key in the same run. Results go to bench/results/splitmerge-*.json.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from bench.intake import RESULTS, count_statements
from oms.core.actors import SystemActor

BENCH = SystemActor("bench")

LINE_COUNTS = (10, 25, 50)


def _world() -> dict[str, Any]:
    from oms.catalog.models import Sku
    from oms.channels.models import AllocationRule, Channel, ChannelWarehouse
    from oms.fulfillment.models import Courier, CourierRate
    from oms.inventory.models import Subsidiary, Warehouse
    from oms.inventory.services.documents import DocLine, stock_receipt_create

    tag = uuid.uuid4().hex[:6].upper()
    sub = Subsidiary.objects.create(code=f"SMB{tag}", name="压测分公司")
    wh = Warehouse.objects.create(code=f"SMB{tag}", name="压测仓", subsidiary=sub, province="330000", priority=1)
    channel = Channel.objects.create(code=f"SMB{tag}", name="压测渠道", platform="tmall", classification="online")
    ChannelWarehouse.objects.create(channel=channel, warehouse=wh)
    AllocationRule.objects.create(channel=channel, scope="all", method="ratio", ratio_bp=10_000)
    skus = Sku.objects.bulk_create(
        [Sku(code=f"SMB{tag}-{i:03d}", name=f"压测商品{i}", weight_g=100) for i in range(60)]
    )
    courier = Courier.objects.create(code=f"SMB{tag}", name="压测快递", max_weight_g=10**6)
    CourierRate.objects.create(courier=courier, first_minor=600, extra_per_kg_minor=100)
    stock_receipt_create(warehouse_id=wh.pk, lines=[DocLine(sku_id=s.pk, quantity=100_000) for s in skus], actor=BENCH)
    return {"channel": channel, "skus": skus, "tag": tag}


def _order(world: dict[str, Any], lines: int, buyer: str, n: int) -> Any:
    from oms.orders.services.intake import order_intake

    payload = {
        "channel": world["channel"].code,
        "platform_order_id": f"{world['tag']}-{buyer}-{n}",
        "buyer": {"platform_buyer_id": buyer, "phone": "13900139000"},
        "receiver": {
            "name": "张三",
            "phone": "13900139000",
            "province": "浙江",
            "city": "杭州",
            "district": "西湖区",
            "address": "文三路 1 号",
        },
        "order_discount": "9.99",
        "shipping": "8.00",
        "payment": {"method": "alipay", "transaction_id": f"{world['tag']}-{buyer}-{n}"},
        "lines": [
            {"sku_code": world["skus"][i].code, "quantity": 4, "unit_price": f"{10 + i}.99"} for i in range(lines)
        ],
    }
    return order_intake(payload=payload, actor=BENCH).order


def _measure(fn: Any) -> tuple[float, int]:
    with count_statements() as statements:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0, statements[0]


def run(*, repeats: int = 5, grouping_orders: int = 100_000) -> dict[str, Any]:
    from django.db import connection

    from oms.splitmerge.services.merge import orders_merge
    from oms.splitmerge.services.split import order_split

    world = _world()
    split_rows = []
    for lines in LINE_COUNTS:
        times, statements = [], []
        for r in range(repeats):
            order = _order(world, lines, f"split{lines}-{r}", r)
            groups = [{no: 2 for no in range(1, lines + 1)}, {no: 2 for no in range(1, lines + 1)}]
            t, s = _measure(lambda o=order, g=groups: order_split(order=o, groups=g, actor=BENCH))
            times.append(t)
            statements.append(s)
        split_rows.append(
            {
                "lines": lines,
                "seconds_p50": round(statistics.median(times), 4),
                "ops_per_s": round(1 / statistics.median(times), 2),
                "statements": int(statistics.median(statements)),
            }
        )
    merge_times, merge_statements = [], []
    for r in range(repeats):
        orders = [_order(world, 2, f"merge-{r}", i) for i in range(10)]
        t, s = _measure(lambda os=orders: orders_merge(numbers=[o.number for o in os], actor=BENCH))
        merge_times.append(t)
        merge_statements.append(s)
    grouping = _grouping(world, grouping_orders)
    result = {
        "benchmark": "split/merge",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": "PostgreSQL {}.{}".format(*divmod(connection.cursor().connection.info.server_version, 10000))
        if connection.vendor == "postgresql"
        else connection.vendor,
        "split": split_rows,
        "merge_10_orders": {
            "seconds_p50": round(statistics.median(merge_times), 4),
            "ops_per_s": round(1 / statistics.median(merge_times), 2),
            "statements": int(statistics.median(merge_statements)),
        },
        "auto_merge_grouping": grouping,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"splitmerge-{datetime.now(UTC):%y%m%d%H%M%S}.json"
    for target in (path, RESULTS / "splitmerge-latest.json"):
        target.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    result["path"] = str(path)
    return result


def _grouping(world: dict[str, Any], n: int) -> dict[str, Any]:
    """100,000 open orders (a third of them in mergeable pairs), grouped by the merge key."""
    from django.db import connection
    from django.utils import timezone

    from oms.orders.models import Customer, Order
    from oms.splitmerge.selectors import merge_suggestions

    channel = world["channel"]
    customers = Customer.objects.bulk_create(
        [Customer(channel=channel, platform_buyer_id=f"{world['tag']}-g{i}") for i in range(n // 2)]
    )
    now = timezone.now()
    orders = [
        Order(
            number=f"G{world['tag']}{i:07d}",
            channel=channel,
            classification="online",
            status="pending_review",
            customer=customers[i // 2 if i % 3 == 0 else (i % len(customers))],
            receiver_name="张三",
            receiver_phone="13900139000",
            receiver_province="330000",
            receiver_city="杭州",
            receiver_address=f"文三路 {i // 2 if i % 3 == 0 else i} 号",
            payment_status="paid",
            platform_order_ids=[f"G{i}"],
            placed_at=now,
            paid_at=now,
        )
        for i in range(n)
    ]
    Order.objects.bulk_create(orders, batch_size=5000)
    with count_statements() as statements:
        t0 = time.perf_counter()
        groups = merge_suggestions(limit_orders=n * 2, max_group=10, channel_id=channel.pk)
        service_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            """SELECT channel_id, customer_id, receiver_name, receiver_phone, receiver_province, receiver_city,
                      receiver_district, receiver_address, is_cod, currency, is_presale, count(*)
               FROM orders_order WHERE status IN ('pending_review','pending_split','pending_dispatch')
                 AND customer_id IS NOT NULL AND channel_id = %s
               GROUP BY 1,2,3,4,5,6,7,8,9,10,11 HAVING count(*) > 1""",
            [channel.pk],
        )
        raw_groups = len(cur.fetchall())
    raw_s = time.perf_counter() - t0
    return {
        "open_orders": n,
        "groups": len(groups),
        "raw_groups": raw_groups,
        "seconds": round(service_s, 3),
        "raw_group_by_seconds": round(raw_s, 3),
        "ratio_to_raw": round(service_s / raw_s, 2),
        "statements": statements[0],
    }


def table(result: dict[str, Any]) -> str:
    rows = ["| operation | p50 s | ops/s | SQL statements |", "|---|---|---|---|"]
    for r in result["split"]:
        rows.append(
            f"| split, {r['lines']}-line order in two (by quantity) | {r['seconds_p50']} | {r['ops_per_s']} "
            f"| {r['statements']} |"
        )
    m = result["merge_10_orders"]
    rows.append(f"| merge 10 orders | {m['seconds_p50']} | {m['ops_per_s']} | {m['statements']} |")
    g = result["auto_merge_grouping"]
    rows.append(
        f"| auto-merge grouping, {g['open_orders']:,} open orders ({g['groups']} groups) | {g['seconds']} | — "
        f"| {g['statements']} (raw GROUP BY {g['raw_group_by_seconds']} s, ratio {g['ratio_to_raw']}) |"
    )
    return "\n".join(rows)
