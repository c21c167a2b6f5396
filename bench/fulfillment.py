"""B3: review + warehouse allocation + courier for 20,000 paid orders on PostgreSQL, with the machine's pgbench
TPC-B rate measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_bench_b3 uv run oms bench fulfilment [--orders 20000]

Fixture (not timed): 4 warehouses of 2 subsidiaries feeding one channel, 200 SKUs stocked everywhere, the
seeded review rules plus two warehouse and two courier rules, six couriers with a cost table, and paid orders
of 1–5 lines to eight provinces (a few with a buyer remark, which review holds), written with bulk inserts:
intake is B1's subject, not this one's.

Timed: `orders_advance` (review → allocation with warehouse reservations → courier → pending_dispatch) in
batches of ``--batch`` (default OMS_FULFILMENT["BATCH_SIZE"], 2,000), by ``--workers`` processes over
disjoint slices (default: one per core). Reported: orders/s, SQL statements per order (every statement the
services send, counted by an execute wrapper), the outcome counts, and pgbench's TPC-B tps (scale 10, as
many clients as workers, 15 s) on a scratch database, so the figure can be read against what this
machine's PostgreSQL does at all.
Results go to bench/results/fulfilment-*.json.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import results_dir
from oms.core.actors import SystemActor

BENCH = SystemActor("bench")
RESULTS = results_dir()
PROVINCES = ["330000", "440000", "320000", "110000", "310000", "510000", "420000", "370000"]
CITIES = {"330000": "杭州市", "440000": "广州市", "320000": "南京市", "110000": "北京市", "310000": "上海市",
          "510000": "成都市", "420000": "武汉市", "370000": "济南市"}  # fmt: skip


def _fixture(run: str, orders: int, seed: int) -> list[int]:
    from django.db import transaction
    from django.utils import timezone

    from oms.catalog.models import Sku
    from oms.channels.models import Channel, ChannelWarehouse
    from oms.fulfillment.models import Courier, CourierRate
    from oms.inventory.models import MoveKind, Subsidiary, Warehouse
    from oms.inventory.services.ledger import MoveSpec, ledger_post
    from oms.orders.models import Customer, Order, OrderLine
    from oms.review.models import Rule

    rng = random.Random(seed)
    with transaction.atomic():
        # Earlier runs' rules, warehouses and couriers would otherwise be evaluated too: retire them.
        Rule.objects.filter(code__startswith="B3").update(enabled=False)
        Warehouse.objects.filter(code__startswith="B3").update(is_active=False)
        Courier.objects.filter(code__startswith="B3").update(is_active=False)
        east, _ = Subsidiary.objects.get_or_create(code="B3-EAST", defaults={"name": "华东"})
        south, _ = Subsidiary.objects.get_or_create(code="B3-SOUTH", defaults={"name": "华南"})
        whs = [
            Warehouse.objects.create(code=f"{run}-HZ", name="杭州", subsidiary=east, province="330000", priority=10),
            Warehouse.objects.create(code=f"{run}-GZ", name="广州", subsidiary=south, province="440000", priority=10),
            Warehouse.objects.create(code=f"{run}-BJ", name="北京", subsidiary=east, province="110000", priority=20),
            Warehouse.objects.create(
                code=f"{run}-CD",
                name="成都",
                subsidiary=south,
                province="510000",
                coverage_provinces=["510000", "500000"],
            ),
        ]
        channel = Channel.objects.create(code=f"{run}-SHOP", name="B3 店", platform="tmall", classification="online")
        ChannelWarehouse.objects.bulk_create([ChannelWarehouse(channel=channel, warehouse=w) for w in whs])
        skus = Sku.objects.bulk_create(
            [Sku(code=f"{run}-S{i:03d}", name=f"商品{i}", weight_g=rng.randint(50, 3000)) for i in range(200)]
        )
        ledger_post(
            moves=[
                MoveSpec(
                    warehouse_id=w.pk, sku_id=s.pk, kind=MoveKind.RECEIPT, ref_type="bench", ref_id=0, on_hand=100_000
                )
                for w in whs
                for s in skus
            ]
        )
        couriers = []
        for code, cod, max_w, first, extra in [
            ("SF", True, 50_000, 1200, 400),
            ("ZTO", False, 30_000, 600, 200),
            ("YTO", False, 30_000, 620, 180),
            ("YUNDA", False, 30_000, 580, 220),
            ("JDL", True, 50_000, 1000, 300),
            ("EMS", True, 40_000, 900, 300),
        ]:
            c = Courier.objects.create(code=f"{run}-{code}", name=code, supports_cod=cod, max_weight_g=max_w)
            CourierRate.objects.create(courier=c, first_minor=first, extra_per_kg_minor=extra)
            couriers.append(c)
        Rule.objects.create(
            kind="warehouse", code=f"{run}-W1", name="华南走广州", condition='province in ["广东省", "广西壮族自治区"]',
            params={"warehouse": f"{run}-GZ"},
        )  # fmt: skip
        Rule.objects.create(
            kind="warehouse", code=f"{run}-W2", name="重货不走北京", condition="weight_g > 20000",
            params={"exclude": [f"{run}-BJ"]},
        )  # fmt: skip
        Rule.objects.create(
            kind="courier", code=f"{run}-C1", name="高价值走顺丰", condition="paid_amount > 2000",
            params={"courier": f"{run}-SF"},
        )  # fmt: skip
        Rule.objects.create(
            kind="courier", code=f"{run}-C2", name="不用韵达", condition="true", params={"exclude": [f"{run}-YUNDA"]}
        )

        now = timezone.now()
        paid_at = now - timedelta(hours=1)
        customers = Customer.objects.bulk_create(
            [Customer(channel=channel, platform_buyer_id=f"{run}-b{i}") for i in range(orders)]
        )
        rows: list[Order] = []
        planned_lines: list[list[tuple[int, int, int]]] = []
        for i in range(orders):
            lines = [
                (rng.choice(skus).pk, rng.randint(1, 3), rng.randint(500, 50_000)) for _ in range(rng.randint(1, 5))
            ]
            lines = list({sku: (sku, q, p) for sku, q, p in lines}.values())
            goods = sum(q * p for _s, q, p in lines)
            province = rng.choice(PROVINCES)
            rows.append(
                Order(
                    number=f"{run}{i:06d}",
                    channel=channel,
                    platform_order_id=f"{run}-P{i}",
                    platform_order_ids=[f"{run}-P{i}"],
                    classification="online",
                    status="pending_review",
                    payment_status="paid",
                    customer=customers[i % len(customers)],
                    receiver_name="张三",
                    receiver_phone=f"13{rng.randint(100000000, 999999999)}",
                    receiver_province=province,
                    receiver_city=CITIES[province],
                    receiver_district="",
                    receiver_address=f"人民路{i}号",
                    buyer_remark="请周末送" if rng.random() < 0.03 else "",
                    goods_minor=goods,
                    payable_minor=goods,
                    received_minor=goods,
                    placed_at=paid_at,
                    paid_at=paid_at,
                    created_at=now,
                    updated_at=now,
                )
            )
            planned_lines.append(lines)
        created = Order.objects.bulk_create(rows, batch_size=2000)
        OrderLine.objects.bulk_create(
            [
                OrderLine(
                    order=o,
                    line_no=n + 1,
                    sku_id=sku,
                    quantity=q,
                    unit_price_minor=p,
                    gross_minor=q * p,
                    paid_minor=q * p,
                )
                for o, lines in zip(created, planned_lines, strict=True)
                for n, (sku, q, p) in enumerate(lines)
            ],
            batch_size=5000,
        )
    return [o.pk for o in created]


def _worker(ids: list[int], batch: int, queue: Any) -> None:
    import django

    django.setup()
    from django.db import connection

    from oms.fulfillment.services.pipeline import orders_advance
    from oms.orders.models import Order

    count = {"n": 0}

    def counter(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        count["n"] += 1
        return execute(sql, params, many, context)

    totals: dict[str, int] = {}
    seconds: dict[str, float] = {}
    with connection.execute_wrapper(counter):
        for start in range(0, len(ids), batch):
            part = orders_advance(
                orders=[Order(pk=pk) for pk in ids[start : start + batch]], actor=BENCH, buffer_minutes=0
            )
            for k, v in vars(part).items():
                if isinstance(v, int):
                    totals[k] = totals.get(k, 0) + v
            for step, s in part.seconds.items():
                seconds[step] = seconds.get(step, 0.0) + s
    connection.close()
    queue.put({"statements": count["n"], "step_seconds": seconds, **totals})


def _pgbench(clients: int, seconds: int = 15, scale: int = 10) -> dict[str, Any]:
    from django.db import connection

    p = connection.settings_dict
    exe = shutil.which("pgbench") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))), None)
    if exe is None:
        return {"error": "pgbench not found"}
    db = f"{p['NAME']}_pgbench"
    env = {**os.environ, "PGPASSWORD": str(p.get("PASSWORD") or "")}
    conn = [
        "-h",
        str(p.get("HOST") or "127.0.0.1"),
        "-p",
        str(p.get("PORT") or 5432),
        "-U",
        str(p.get("USER") or "postgres"),
    ]
    with connection.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{db}"')
        cur.execute(f'CREATE DATABASE "{db}"')
    try:
        subprocess.run([str(exe), *conn, "-i", "-q", "-s", str(scale), db], check=True, env=env, capture_output=True)
        out = subprocess.run(
            [str(exe), *conn, "-c", str(clients), "-j", str(clients), "-T", str(seconds), db],
            check=True, env=env, capture_output=True, text=True,
        ).stdout  # fmt: skip
    finally:
        with connection.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{db}"')
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    return {"tps": float(tps.group(1)) if tps else None, "clients": clients, "seconds": seconds, "scale": scale}


def run(
    *,
    orders: int = 20_000,
    workers: int | None = None,
    batch: int | None = None,
    seed: int = 2026,
    pgbench_seconds: int = 15,
    pgbench_scale: int = 10,
) -> dict[str, Any]:
    from django.db import connection

    from oms.fulfillment.conf import batch_size

    if connection.vendor != "postgresql":
        raise SystemExit("B3 runs on PostgreSQL: set DATABASE_URL=postgres://…")
    workers = workers or os.cpu_count() or 1
    batch = batch or batch_size()
    run_id = "B3" + datetime.now(UTC).strftime("%H%M%S")
    t0 = time.perf_counter()
    ids = _fixture(run_id, orders, seed)
    fixture_s = time.perf_counter() - t0
    connection.close()

    slices = [ids[i::workers] for i in range(workers)]
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(sorted(s), batch, queue)) for s in slices]
    start = time.perf_counter()
    for proc in procs:
        proc.start()
    parts = [queue.get() for _ in procs]
    for proc in procs:
        proc.join()
    elapsed = time.perf_counter() - start
    if any(proc.exitcode for proc in procs):
        raise RuntimeError("a worker failed")

    from django.db.models import Count

    from oms.orders.models import Order

    statuses = dict(Order.objects.filter(pk__in=ids).values_list("status").annotate(n=Count("pk")))
    statements = sum(p["statements"] for p in parts)
    result: dict[str, Any] = {
        "benchmark": "B3 review + allocation + courier",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": f"PostgreSQL {connection.cursor().connection.info.server_version}",
        "orders": orders,
        "workers": workers,
        "batch": batch,
        "fixture_seconds": round(fixture_s, 1),
        "seconds": round(elapsed, 2),
        "orders_per_s": round(orders / elapsed, 1),
        "statements": statements,
        "statements_per_order": round(statements / orders, 2),
        "outcome": {
            k: sum(p.get(k, 0) for p in parts)
            for k in ("reviewed", "held", "allocated", "split_proposed", "short", "couriers", "no_courier")
        },
        "statuses": statuses,
        # summed over workers: where the time goes, per step
        "step_seconds": {
            step: round(sum(p["step_seconds"].get(step, 0.0) for p in parts), 1)
            for step in ("review", "allocation", "courier")
        },
        "pgbench": _pgbench(workers, pgbench_seconds, pgbench_scale),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"fulfilment-{run_id}.json"
    text = json.dumps(result, ensure_ascii=False, indent=2)
    path.write_text(text)
    (RESULTS / "fulfilment-latest.json").write_text(text)
    result["path"] = str(path)
    return result


def table(result: dict[str, Any]) -> str:
    pg = result["pgbench"]
    return "\n".join(
        [
            f"B3 review + allocation + courier — {result['orders']} paid orders, {result['workers']} worker(s), "
            f"batches of {result['batch']}, {result['database']}",
            f"  {result['orders_per_s']:>9} orders/s   ({result['seconds']} s)",
            f"  {result['statements_per_order']:>9} statements/order",
            f"  outcome: {result['outcome']}",
            f"  statuses: {result['statuses']}",
            f"  seconds per step, all workers: {result['step_seconds']}",
            f"  pgbench TPC-B (scale {pg.get('scale')}, {pg.get('clients')} clients, {pg.get('seconds')} s): "
            f"{pg.get('tps')} tps",
        ]
    )
