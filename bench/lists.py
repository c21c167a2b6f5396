"""Lists at 1,000,000 orders: the order list's filters, search kinds, a deep keyset page and the order detail,
each next to a raw SQL baseline returning the same page in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_bench_lists uv run oms bench lists [--orders 1000000]

Fixture: ``--seed`` realistic orders (1–5 lines of 2,000 SKUs of skewed popularity, four channels, buyers,
payments, timeline) go through `order_intake_bulk`; SQL then multiplies them (generate_series) to ``--orders``
orders spread over a year — new ids, numbers, platform order ids, receivers (names, phones, addresses),
statuses and types — with their lines (~2.5 per order), platform refs, payments and timeline events, every
column copied from the model's list (bench/rows.py). The copies carry no intake snapshot. A database that already
holds the requested size is reused (``--rebuild`` builds again).

Timed, ``--requests`` times each with varied parameters after one untimed pass: the page the API's
`GET /api/v1/orders` serves (`order_list` + `order_summary` per row; `order_get` + `order_detail` for the
detail), and the raw baseline — one hand-written SQL statement per page over psycopg (for the detail, its five
reads). Reported per case: p50/p95 ms, SQL statements per request, the raw p50/p95, and the ratio of the p95s.
Results go to bench/results/lists-*.json.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from bench import results_dir
from bench.intake import count_statements
from bench.rows import copy_select

RESULTS = results_dir()
CHANNELS = ("LST-TM", "LST-JD", "LST-PDD", "LST-DY")
SKUS = 2_000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉梅飞红建国文辉"
STREETS = (
    "人民路", "中山路", "解放路", "建设路", "和平路", "新华路", "文化路", "胜利路", "青年路", "长江路",
    "黄河路", "滨江路", "学府路", "科技路", "创业路", "湖滨路", "南京路", "北京路", "延安路", "世纪大道",
)  # fmt: skip
PROVINCES = ("330000", "440000", "320000", "110000", "310000", "510000", "420000", "370000")
# Status and type mix of a year of orders: most are done, the recent ones are in flight.
STATUSES = ("signed",) * 10 + ("shipped",) * 3 + ("closed",) * 2 + ("cancelled",) * 2 + (
    "pending_review", "pending_dispatch", "pending_shipment", "pending_payment")  # fmt: skip
TYPES = ("sale",) * 30 + ("return", "reissue")
SPAN_DAYS = 365


def _names(n: int) -> list[str]:
    rng = random.Random(7)
    return [rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))) for _ in range(n)]


NAMES = _names(3_000)


def _seed_payloads(n: int, rng: random.Random) -> list[dict[str, Any]]:
    weights = [1 / (k + 1) for k in range(SKUS)]  # skewed: a few SKUs sell a lot, most sell a little
    out = []
    for i in range(n):
        lines = [
            {
                "sku_code": f"LST-{k:05d}",
                "quantity": rng.randint(1, 3),
                "unit_price": f"{rng.randint(500, 59_900) / 100:.2f}",
                "platform_line_id": f"s{i}-{j}",
            }
            for j, k in enumerate(
                dict.fromkeys(rng.choices(range(SKUS), weights, k=rng.choice((1, 1, 2, 2, 3, 3, 4, 5))))
            )
        ]
        out.append(
            {
                "channel": CHANNELS[i % len(CHANNELS)],
                "platform_order_id": f"{rng.randint(10**17, 10**18 - 1)}",
                "buyer": {"platform_buyer_id": f"tb_{rng.randint(0, n // 2)}"},
                "receiver": {
                    "name": rng.choice(NAMES),
                    "phone": f"1{rng.choice('3578')}{rng.randint(100000000, 999999999)}",
                    "province": rng.choice(PROVINCES),
                    "city": "市辖区",
                    "address": f"{rng.choice(STREETS)}{rng.randint(1, 999)}号",
                },
                "shipping": rng.choice(["0.00", "0.00", "6.00"]),
                "payment": {"method": "alipay", "transaction_id": f"L{i}-{rng.randint(0, 10**12)}"},
                "lines": lines,
            }
        )
    return out


def _master_data() -> None:
    from oms.catalog.models import Sku
    from oms.channels.models import Channel, ChannelStock

    channels = [
        Channel.objects.get_or_create(
            code=code, defaults={"name": f"列表压测 {code}", "platform": "tmall", "classification": "online"}
        )[0]
        for code in CHANNELS
    ]
    Sku.objects.bulk_create([Sku(code=f"LST-{k:05d}", name=f"列表压测商品 {k}") for k in range(SKUS)])
    skus = list(Sku.objects.filter(code__startswith="LST-"))
    ChannelStock.objects.bulk_create([ChannelStock(channel=c, sku=s, quota=10**12) for c in channels for s in skus])


def _multiply_sql(total: int, seeds: int, copies: int) -> list[str]:
    """The statements that copy the seed orders ``copies`` times (m: seed id → copy id, age position)."""
    step_s = SPAN_DAYS * 86_400 / total
    names = "ARRAY[" + ",".join(f"'{n}'" for n in NAMES) + "]"
    streets = "ARRAY[" + ",".join(f"'{s}'" for s in STREETS) + "]"
    statuses = "ARRAY[" + ",".join(f"'{s}'" for s in STATUSES) + "]"
    types = "ARRAY[" + ",".join(f"'{t}'" for t in TYPES) + "]"
    at = f"(m.t0 - (m.pos * interval '{step_s:.6f} seconds'))"
    return [
        "DROP TABLE IF EXISTS bench_lists_map",
        # Oldest copies take the lowest ids, so ids grow with creation time as they do in real life.
        f"""CREATE UNLOGGED TABLE bench_lists_map AS
            SELECT src, g, pos, t0, nextval(pg_get_serial_sequence('orders_order', 'id')) AS dst FROM (
              SELECT s.id AS src, g, (g * {seeds} + s.rank) AS pos, s.t0
              FROM generate_series(1, {copies}) g
              CROSS JOIN (SELECT id, row_number() OVER (ORDER BY id DESC) AS rank, min(created_at) OVER () AS t0
                          FROM orders_order) s
              ORDER BY g DESC, s.id) ordered""",
        "CREATE INDEX ON bench_lists_map (src)",
        copy_select(
            "orders_order",
            {
                "id": "m.dst",
                "number": "substr(s.number, 1, length(s.number) - 10) || lpad(upper(to_hex(m.dst)), 10, '0')",
                "platform_order_id": "s.platform_order_id || '-' || m.g",
                "platform_order_ids": "jsonb_build_array(s.platform_order_id || '-' || m.g)",
                "order_type": f"({types})[1 + (m.dst * 7) % {len(TYPES)}]",
                "status": f"({statuses})[1 + (m.dst * 13) % {len(STATUSES)}]",
                "receiver_name": f"({names})[1 + (m.dst * 31) % {len(NAMES)}]",
                # ~3 orders per phone number: repeat buyers
                "receiver_phone": "'1' || (3 + m.dst % 6) || lpad((((m.dst / 3) * 7919) % 1000000000)::text, 9, '0')",
                "receiver_address": f"({streets})[1 + (m.dst * 17) % {len(STREETS)}] || (m.dst % 997) || '号'",
                "created_at": at,
                "updated_at": at,
                "placed_at": f"{at} - interval '2 minutes'",
                "paid_at": f"CASE WHEN s.paid_at IS NULL THEN NULL ELSE {at} - interval '1 minute' END",
                "intake_fingerprint": "''",
                "intake_snapshot": "NULL",
            },
            "FROM bench_lists_map m JOIN orders_order s ON s.id = m.src",
        ),
        copy_select(
            "orders_orderline",
            {"order_id": "m.dst", "platform_line_id": "s.platform_line_id || '-' || m.g"},
            "FROM bench_lists_map m JOIN orders_orderline s ON s.order_id = m.src",
        ),
        copy_select(
            "orders_orderplatformref",
            {"order_id": "m.dst", "platform_order_id": "s.platform_order_id || '-' || m.g"},
            "FROM bench_lists_map m JOIN orders_orderplatformref s ON s.order_id = m.src",
        ),
        copy_select(
            "orders_payment",
            {"order_id": "m.dst", "transaction_id": "s.transaction_id || '-' || m.g", "paid_at": at, "received_at": at},
            "FROM bench_lists_map m JOIN orders_payment s ON s.order_id = m.src",
        ),
        copy_select(
            "orders_orderevent",
            {"order_id": "m.dst", "at": at},
            "FROM bench_lists_map m JOIN orders_orderevent s ON s.order_id = m.src",
        ),
        "DROP TABLE bench_lists_map",
    ]


def build(*, orders: int, seeds: int, rebuild: bool) -> dict[str, Any]:
    """The fixture (see the module docstring); reused when the database already holds ``orders`` orders."""
    from django.db import connection

    from oms.core.actors import SYSTEM
    from oms.orders.models import Order
    from oms.orders.services.intake import order_intake_bulk

    have = Order.objects.filter(channel__code__in=CHANNELS).count()
    if have >= orders and not rebuild:
        return {"reused": True, "orders": have}
    if have:
        raise SystemExit("This database holds a smaller lists fixture: run on a fresh database (make bench does).")
    t0 = time.perf_counter()
    _master_data()
    payloads = _seed_payloads(seeds, random.Random(2026))
    for i in range(0, seeds, 1000):
        outcomes = order_intake_bulk(payloads=payloads[i : i + 1000], actor=SYSTEM)
        errors = [o.error.as_dict() for o in outcomes if o.error is not None]
        if errors:
            raise RuntimeError(f"seed order refused: {errors[0]}")
    seed_s = time.perf_counter() - t0
    copies = max(0, -(-orders // seeds) - 1)
    with connection.cursor() as cur:
        for sql in _multiply_sql(seeds * (copies + 1), seeds, copies):
            cur.execute(sql)
        cur.execute("VACUUM ANALYZE")
    connection.close()
    return {
        "reused": False,
        "orders": Order.objects.count(),
        "seed_seconds": round(seed_s, 1),
        "build_seconds": round(time.perf_counter() - t0, 1),
    }


# ------------------------------------------------------------------------------------------ the cases


def _samples(n: int, rng: random.Random) -> dict[str, list[Any]]:
    """Real values to ask for, drawn from the fixture: numbers, platform ids, phones, names, SKUs, cursors."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT max(id), min(id) FROM orders_order")
        hi, lo = cur.fetchone()
        ids = [rng.randint(lo, hi) for _ in range(n * 3)]
        cur.execute(
            "SELECT number, platform_order_id, receiver_phone, receiver_name, receiver_address, created_at, id"
            " FROM orders_order WHERE id = ANY(%s) AND platform_order_id IS NOT NULL",
            [ids],
        )
        rows = cur.fetchall()[:n]
        cur.execute(
            "SELECT s.code FROM catalog_sku s WHERE s.code LIKE 'LST-%%' ORDER BY s.code"  # popular ones first
        )
        skus = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT min(created_at), max(created_at) FROM orders_order")
        first, last = cur.fetchone()
    return {
        "number": [r[0] for r in rows],
        "platform_order_id": [r[1] for r in rows],
        "phone": [r[2] for r in rows],
        "name": [r[3] for r in rows],
        # a street and house number fragment, as an operator types part of an address
        "address": [r[4][:5] for r in rows],
        "deep": [(r[5], r[6]) for r in rows],
        # SKUs from the best sellers to the long tail
        "sku": [skus[min(len(skus) - 1, int(len(skus) * (k / n) ** 3))] for k in range(n)],
        "day": [first + (last - first - timedelta(days=7)) * rng.random() for _ in range(n)],
        "status": [rng.choice(sorted(set(STATUSES))) for _ in range(n)],
        "channel": [rng.choice(CHANNELS) for _ in range(n)],
        "type": [rng.choice(("return", "reissue")) for _ in range(n)],
    }


def _cases(s: dict[str, list[Any]]) -> dict[str, Callable[[int], dict[str, Any]]]:
    """Each case: request k → the list query (OrderFilters fields + cursor), or {"detail": number}."""
    from oms.orders.models import Order
    from oms.orders.selectors import _cursor_encode

    def cursor(k: int) -> str:
        created, pk = s["deep"][k]
        return _cursor_encode(Order(pk=pk, created_at=created))

    def day(k: int) -> tuple[Any, Any]:
        start = s["day"][k].date()
        return start, start + timedelta(days=6)

    return {
        "first page": lambda k: {},
        "status": lambda k: {"status": s["status"][k]},
        "channel": lambda k: {"channel": s["channel"][k]},
        "type": lambda k: {"order_type": s["type"][k]},
        "created, 7 days": lambda k: {"created_from": day(k)[0], "created_to": day(k)[1]},
        "paid, 7 days": lambda k: {"paid_from": day(k)[0], "paid_to": day(k)[1]},
        "platform order id": lambda k: {"platform_order_id": s["platform_order_id"][k]},
        "buyer phone": lambda k: {"buyer_phone": s["phone"][k]},
        "SKU": lambda k: {"sku": s["sku"][k]},
        "living only": lambda k: {"living_only": True},
        "search: order number": lambda k: {"q": s["number"][k]},
        "search: platform order id": lambda k: {"q": s["platform_order_id"][k]},
        "search: phone": lambda k: {"q": s["phone"][k]},
        "search: SKU": lambda k: {"q": s["sku"][k]},
        "search: receiver name": lambda k: {"q": s["name"][k]},
        "search: address fragment": lambda k: {"q": s["address"][k]},
        "deep keyset page": lambda k: {"cursor": cursor(k)},
        "deep keyset page, status": lambda k: {"cursor": cursor(k), "status": s["status"][k]},
        "order detail": lambda k: {"detail": s["number"][k]},
    }


def _service(query: dict[str, Any]) -> int:
    from oms.api.routers.order_schemas import order_detail, order_summary
    from oms.orders.selectors import OrderFilters, order_get, order_list

    if "detail" in query:
        order_detail(order_get(number=query["detail"]))
        return 1
    query = dict(query)
    cursor = query.pop("cursor", "")
    page = order_list(filters=OrderFilters(**query), cursor=cursor, limit=50)
    return len([order_summary(o) for o in page.items])


def _timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 2)


def run(*, orders: int = 1_000_000, seeds: int = 2_000, requests: int = 30, rebuild: bool = False) -> dict[str, Any]:
    from django.db import connection

    from bench.lists_raw import RawLists

    if connection.vendor != "postgresql":
        raise SystemExit("The lists benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…")
    fixture = build(orders=orders, seeds=min(seeds, orders), rebuild=rebuild)
    rng = random.Random(11)
    samples = _samples(requests, rng)
    raw = RawLists()
    rows: list[dict[str, Any]] = []
    for name, make in _cases(samples).items():
        queries = [make(k) for k in range(requests)]
        for q in queries[:3]:  # untimed: warm the plan caches and the pages this case reads
            _service(q)
            raw.page(q)
        service_ms: list[float] = []
        raw_ms: list[float] = []
        statements: list[int] = []
        for q in queries:
            with count_statements() as counter:
                service_ms.append(_timed(partial(_service, q)))
            statements.append(counter[0])
            raw_ms.append(_timed(partial(raw.page, q)))
        rows.append(
            {
                "case": name,
                "p50_ms": _pct(service_ms, 0.5),
                "p95_ms": _pct(service_ms, 0.95),
                "statements": round(statistics.mean(statements), 2),
                "raw_p50_ms": _pct(raw_ms, 0.5),
                "raw_p95_ms": _pct(raw_ms, 0.95),
                "ratio_p95": round(_pct(service_ms, 0.95) / max(_pct(raw_ms, 0.95), 0.01), 2),
            }
        )
    raw.close()
    result = {
        "benchmark": "order list and detail at scale",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": "PostgreSQL {}.{}".format(*divmod(connection.cursor().connection.info.server_version, 10000)),
        "fixture": fixture,
        "requests_per_case": requests,
        "cases": rows,
        "worst_p95_ms": max(r["p95_ms"] for r in rows),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"lists-{datetime.now(UTC):%y%m%d%H%M%S}.json"
    for target in (path, RESULTS / "lists-latest.json"):
        target.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    result["path"] = str(path)
    return result


def table(result: dict[str, Any]) -> str:
    f = result["fixture"]
    built = "reused" if f["reused"] else f"built in {f['build_seconds']} s"
    head = [
        f"Lists at {f['orders']:,} orders ({built}), {result['requests_per_case']} requests per case",
        "| case | p50 ms | p95 ms | SQL statements / request | raw p50 ms | raw p95 ms | p95 / raw p95 |",
        "|---|---|---|---|---|---|---|",
    ]
    cols = ("case", "p50_ms", "p95_ms", "statements", "raw_p50_ms", "raw_p95_ms", "ratio_p95")
    return "\n".join(head + ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in result["cases"]])
