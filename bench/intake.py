"""B1: bulk order intake on PostgreSQL next to a raw psycopg baseline writing the same rows in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_bench uv run oms bench intake [--orders 20000]

20,000 orders of 1–5 lines go through `order_intake_bulk` in batches of BULK_INTAKE_MAX (1,000), the
way the API's bulk endpoint takes them. The baseline then inserts the same rows — customers, orders,
lines, platform refs, payments, timeline events, operation-log rows and channel reservations — with
hand-written multi-row INSERTs over one psycopg connection, batch by batch. Reported: orders/s,
p50/p99 seconds per batch, SQL statements per order. Results go to bench/results/intake-*.json.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from bench import results_dir
from bench.rows import raw_table
from oms.core.actors import SYSTEM

RESULTS = results_dir()
PROVINCES = ["浙江省", "广东省", "江苏省", "北京市", "上海市", "四川省", "湖北省", "山东省"]


def make_payloads(*, n: int, run: str, sku_codes: Sequence[str], seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        lines = [
            {
                "sku_code": rng.choice(sku_codes),
                "quantity": rng.randint(1, 3),
                "unit_price": f"{rng.randint(100, 99_999) / 100:.2f}",
                "platform_line_id": f"{run}-{i}-{j}",
            }
            for j in range(rng.randint(1, 5))
        ]
        goods = sum(int(str(ln["unit_price"]).replace(".", "")) * int(str(ln["quantity"])) for ln in lines)
        out.append(
            {
                "channel": "BENCH",
                "platform_order_id": f"{run}-{i:06d}",
                "buyer": {"platform_buyer_id": f"{run}-buyer-{rng.randint(0, n // 3)}"},
                "receiver": {
                    "name": "张三",
                    "phone": f"13{rng.randint(100000000, 999999999)}",
                    "province": rng.choice(PROVINCES),
                    "city": "市辖区",
                    "address": f"人民路{i}号",
                },
                "order_discount": f"{rng.randint(0, goods // 10) / 100:.2f}",
                "shipping": rng.choice(["0.00", "6.00", "10.00"]),
                "payment": {"method": "alipay", "transaction_id": f"{run}-PAY-{i}"},
                "lines": lines,
            }
        )
    return out


@contextmanager
def count_statements() -> Iterator[list[int]]:
    from django.db import connection

    counter = [0]

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        counter[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield counter


def setup_master_data(sku_count: int = 200) -> tuple[Any, list[Any]]:
    from django.db.models import F

    from oms.catalog.models import Sku
    from oms.channels.models import Channel, ChannelStock

    channel, _ = Channel.objects.get_or_create(
        code="BENCH", defaults={"name": "压测渠道", "platform": "tmall", "classification": "online"}
    )
    have = set(Sku.objects.filter(code__startswith="BENCH-").values_list("code", flat=True))
    Sku.objects.bulk_create(
        [Sku(code=f"BENCH-{i:04d}", name=f"压测商品 {i}") for i in range(sku_count) if f"BENCH-{i:04d}" not in have]
    )
    skus = list(Sku.objects.filter(code__startswith="BENCH-").order_by("code"))
    ChannelStock.objects.bulk_create(
        [ChannelStock(channel=channel, sku=s, quota=10**12) for s in skus], ignore_conflicts=True
    )
    # a quota no run exhausts, and the figure pushed for it (no safety stock, minimum or maximum), as
    # `oms stock verify` derives it
    ChannelStock.objects.filter(channel=channel).update(
        quota=10**12, pushed=10**12 - F("sales_reserved") - F("return_reserved")
    )
    return channel, skus


def run_service(payloads: list[dict[str, Any]], batch: int) -> dict[str, Any]:
    from oms.orders.services.intake import order_intake_bulk

    times: list[float] = []
    created = 0
    with count_statements() as statements:
        start = time.perf_counter()
        for i in range(0, len(payloads), batch):
            t0 = time.perf_counter()
            outcomes = order_intake_bulk(payloads=payloads[i : i + batch], actor=SYSTEM)
            times.append(time.perf_counter() - t0)
            created += sum(1 for o in outcomes if o.created)
            errors = [o.error for o in outcomes if o.error is not None]
            if errors:
                raise RuntimeError(f"bench order refused: {errors[0].as_dict()}")
        total = time.perf_counter() - start
    return _stats("service", len(payloads), created, total, times, statements[0])


def _stats(name: str, n: int, created: int, total: float, times: list[float], statements: int) -> dict[str, Any]:
    ordered = sorted(times)
    return {
        "name": name,
        "orders": n,
        "created": created,
        "seconds": round(total, 3),
        "orders_per_s": round(n / total, 1),
        "batch_p50_s": round(statistics.median(ordered), 4),
        "batch_p99_s": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 4),
        "statements": statements,
        "statements_per_order": round(statements / n, 3),
    }


ORDER_COLS = (
    "id", "number", "channel_id", "platform_order_id", "platform_order_ids", "order_type", "classification", "status",
    "payment_status", "customer_id", "receiver_name", "receiver_phone", "receiver_province", "receiver_city",
    "receiver_district", "receiver_address", "receiver_postcode", "buyer_remark", "seller_remark", "invoice_kind",
    "invoice_title", "invoice_tax_id", "invoice_email", "is_presale", "is_cod", "currency", "goods_minor",
    "line_discount_minor", "order_discount_minor", "shipping_minor", "payable_minor", "received_minor",
    "refunded_minor", "placed_at", "paid_at", "created_at", "updated_at", "has_unmapped_lines", "has_short_lines",
    "tracking_number", "intake_fingerprint", "intake_snapshot",
)  # fmt: skip
LINE_COLS = (
    "id", "order_id", "line_no", "sku_id", "platform_sku_code", "platform_line_id", "name", "quantity",
    "unit_price_minor", "gross_minor", "line_discount_minor", "order_discount_minor", "shipping_minor", "paid_minor",
    "promotions", "is_gift", "tax_rate_bp", "short_quantity",
)  # fmt: skip
TABLES: dict[str, tuple[str, ...]] = {
    "orders_customer": ("id", "channel_id", "platform_buyer_id", "nickname", "name", "phone", "email", "created_at"),
    "orders_order": ORDER_COLS,
    "orders_orderline": LINE_COLS,
    "orders_orderplatformref": ("order_id", "channel_id", "platform_order_id"),
    "orders_payment": (
        "order_id", "method", "transaction_id", "kind", "amount_minor", "currency", "paid_at", "received_at",
        "needs_refund",
    ),
    "inventory_reservation": (
        "ref_type", "ref_id", "scope", "kind", "sku_id", "channel_id", "quantity", "state", "reason", "created_at"
    ),
    "orders_orderevent": ("order_id", "at", "kind", "from_status", "to_status", "actor_name", "reason"),
    "audit_operationlog": (
        "at", "actor_name", "action", "object_type", "object_id", "object_repr", "after", "reason", "request_id",
        "client_address", "via",
    ),
}  # fmt: skip


def _plan_batches(payloads: list[dict[str, Any]], batch: int) -> list[list[tuple[Any, Any, str]]]:
    """Parse and plan every order before the clock starts: the baseline times writing, nothing else."""
    from oms.orders.domain.intake import intake_parse, snapshot_fingerprint
    from oms.orders.domain.money_plan import LineMoneyIn, plan_order_money

    out = []
    for i in range(0, len(payloads), batch):
        planned = []
        for p in payloads[i : i + batch]:
            c = intake_parse(p)[0]
            assert c is not None
            plan = plan_order_money(
                [LineMoneyIn(ln.unit_price_minor, ln.quantity, ln.line_discount_minor) for ln in c.lines],
                order_discount_minor=c.order_discount_minor,
                shipping_minor=c.shipping_minor,
            )
            snapshot = c.snapshot()
            planned.append((c, plan, json.dumps(snapshot, ensure_ascii=False) + "\0" + snapshot_fingerprint(snapshot)))
        out.append(planned)
    return out


def run_baseline(
    payloads: list[dict[str, Any]], batch: int, channel_id: int, sku_ids: dict[str, int], *, mode: str
) -> dict[str, Any]:
    """The same rows written by hand over one psycopg connection, one transaction per batch: ids taken from
    the sequences in one statement per table, then one COPY (mode "copy") or multi-row INSERT (mode
    "insert") per table, then the channel-stock counters. Orders are parsed and planned before timing.
    Columns the rows below do not fill get the models' defaults (bench.rows), or the run stops at once."""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    conn = psycopg.connect(
        dbname=db["NAME"],
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
    )
    batches = _plan_batches(payloads, batch)
    specs = {table: raw_table(table, cols) for table, cols in TABLES.items()}
    statements = 0
    times: list[float] = []
    now = datetime.now(UTC)

    def write(cur: Any, table: str, rows: list[tuple[Any, ...]]) -> None:
        nonlocal statements
        if not rows:
            return
        spec = specs[table]
        cols, rows = spec.columns, [spec.row(r) for r in rows]
        if mode == "copy":
            with cur.copy(f"COPY {table} ({','.join(cols)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            statements += 1
            return
        for k in range(0, len(rows), 1000):
            chunk = rows[k : k + 1000]
            values = ",".join(["(" + ",".join(["%s"] * len(cols)) + ")"] * len(chunk))
            cur.execute(f"INSERT INTO {table} ({','.join(cols)}) VALUES {values}", [v for r in chunk for v in r])
            statements += 1

    def ids(cur: Any, table: str, n: int) -> list[int]:
        nonlocal statements
        cur.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)", [n])
        statements += 1
        return [r[0] for r in cur.fetchall()]

    start = time.perf_counter()
    for planned in batches:
        t0 = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            buyers = sorted({c.buyer.platform_buyer_id for c, _p, _s in planned if c.buyer})
            cur.execute(
                "SELECT platform_buyer_id, id FROM orders_customer "
                "WHERE channel_id = %s AND platform_buyer_id = ANY(%s)",
                [channel_id, buyers],
            )
            statements += 1
            known: dict[str, int] = dict(cur.fetchall())
            new = [b for b in buyers if b not in known]
            new_ids = ids(cur, "orders_customer", len(new)) if new else []
            write(
                cur,
                "orders_customer",
                [(cid, channel_id, b, "", "", "", "", now) for cid, b in zip(new_ids, new, strict=True)],
            )
            known.update(zip(new, new_ids, strict=True))
            order_ids = ids(cur, "orders_order", len(planned))
            line_ids = iter(ids(cur, "orders_orderline", sum(len(c.lines) for c, _p, _s in planned)))
            orders, lines, refs, pays, reservations, events, audit = [], [], [], [], [], [], []
            per_sku: dict[int, int] = {}
            for oid, (c, plan, snap) in zip(order_ids, planned, strict=True):
                snapshot, fingerprint = snap.split("\0")
                poid = "R" + c.platform_order_id
                orders.append((
                    oid, poid, channel_id, poid, json.dumps([poid]), "sale", "online", "pending_review", "paid",
                    known[c.buyer.platform_buyer_id] if c.buyer else None, c.receiver.name, c.receiver.phone,
                    c.receiver.province, c.receiver.city, "", c.receiver.address, "", "", "", "none", "", "", "", False,
                    False, "CNY", plan.goods_minor, plan.line_discount_minor, plan.order_discount_minor,
                    plan.shipping_minor, plan.payable_minor, plan.payable_minor, 0, now, now, now, now, False, False,
                    "",
                    fingerprint, snapshot,
                ))  # fmt: skip
                for no, (ln, lm) in enumerate(zip(c.lines, plan.lines, strict=True), start=1):
                    lid, sku = next(line_ids), sku_ids[ln.sku_code]
                    lines.append((
                        lid, oid, no, sku, "", ln.platform_line_id, "", ln.quantity, ln.unit_price_minor,
                        lm.gross_minor,
                        lm.line_discount_minor, lm.order_discount_minor, lm.shipping_minor, lm.paid_minor, "[]", False,
                        1300, 0,
                    ))  # fmt: skip
                    reservations.append(
                        ("order_line", lid, "channel", "sales", sku, channel_id, ln.quantity, "active", "", now)
                    )
                    per_sku[sku] = per_sku.get(sku, 0) + ln.quantity
                refs.append((oid, channel_id, poid))
                pays.append((oid, "alipay", poid, "payment", plan.payable_minor, "CNY", now, now, False))
                events.append((oid, now, "created", "", "new", "system", ""))
                events.append((oid, now, "status_changed", "new", "pending_review", "system", "intake"))
                after = '{"status": "pending_review"}'
                audit.append((now, "system", "order.intake", "orders.order", str(oid), poid, after,
                              "", "", "", "system"))  # fmt: skip
            for table, rows in (
                ("orders_order", orders),
                ("orders_orderline", lines),
                ("orders_orderplatformref", refs),
                ("orders_payment", pays),
                ("inventory_reservation", reservations),
                ("orders_orderevent", events),
                ("audit_operationlog", audit),
            ):
                write(cur, table, rows)
            cur.executemany(
                "UPDATE channels_channelstock SET sales_reserved = sales_reserved + %s "
                "WHERE channel_id = %s AND sku_id = %s",
                [(q, channel_id, sku) for sku, q in sorted(per_sku.items())],
            )
            statements += len(per_sku)
        times.append(time.perf_counter() - t0)
    total = time.perf_counter() - start
    conn.close()
    return _stats(f"raw psycopg ({mode.upper()})", len(payloads), len(payloads), total, times, statements)


def run(*, orders: int = 20_000, batch: int = 1_000, seed: int = 2026) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("B1 runs on PostgreSQL: set DATABASE_URL=postgres://…")
    channel, skus = setup_master_data()
    codes = [s.code for s in skus]
    run_id = datetime.now(UTC).strftime("B%y%m%d%H%M%S")
    service = run_service(make_payloads(n=orders, run=run_id, sku_codes=codes, seed=seed), batch)
    sku_ids = {s.code: s.pk for s in skus}
    baselines = [
        run_baseline(
            make_payloads(n=orders, run=run_id + mode[0].upper(), sku_codes=codes, seed=seed),
            batch,
            channel.pk,
            sku_ids,
            mode=mode,
        )
        for mode in ("insert", "copy")
    ]
    result = {
        "benchmark": "B1 bulk order intake",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": "PostgreSQL {}.{}".format(*divmod(connection.cursor().connection.info.server_version, 10000)),
        "orders": orders,
        "batch": batch,
        "bulk_intake_max": settings.OMS["BULK_INTAKE_MAX"],
        "runs": [service, *baselines],
        "ratio_to_raw_insert": round(service["orders_per_s"] / baselines[0]["orders_per_s"], 3),
        "ratio_to_raw_copy": round(service["orders_per_s"] / baselines[1]["orders_per_s"], 3),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"intake-{run_id}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    (RESULTS / "intake-latest.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    result["path"] = str(path)
    return result


def table(result: dict[str, Any]) -> str:
    head = (
        f"| run | orders | seconds | orders/s | batch p50 (s) | batch p99 (s) | SQL statements/order |\n|{'---|' * 7}"
    )
    cols = ("name", "orders", "seconds", "orders_per_s", "batch_p50_s", "batch_p99_s", "statements_per_order")
    rows = ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in result["runs"]]
    ratios = (
        f"service / raw INSERT = {result['ratio_to_raw_insert']}; service / raw COPY = {result['ratio_to_raw_copy']}"
    )
    return "\n".join([head, *rows, "", ratios])
