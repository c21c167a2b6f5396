"""Reports at a real merchant's volume: 1,000,000 orders (~2.5M lines) over 90 days on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_bench_reports uv run oms bench reports

Builds the orders with SQL multiplication (INSERT … SELECT FROM generate_series; every column the models
declare is filled from the model's own default unless the generator sets it, so new columns do not break
it), builds the daily rollups once (``rollups_rebuild``), then measures in the same run:

- the 90-day sales report: the selector, and the console page over HTTP (Django test client, logged in);
  the baseline is one raw SQL GROUP BY over the orders of the same 90 days (what a report without rollups
  would have to scan);
- the order detail page over HTTP; the baseline is raw SQL reading the order, its lines, payments and events.

Each: p50/p95 over the repeats and SQL statements per request. Results go to bench/results/reports-*.json.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.intake import RESULTS, count_statements

CHANNELS = 6
SKUS = 500
PROVINCES = ("110000", "310000", "330000", "320000", "440000", "510000", "420000", "370000")
# status by order id modulo 20: mostly delivered, some in flight, some cancelled
STATUS_SQL = """(ARRAY['signed','signed','signed','signed','signed','signed','closed','closed','shipped','shipped',
  'shipped','pending_shipment','pending_dispatch','pending_review','cancelled','cancelled','signed','signed',
  'pending_payment','signed'])[1 + (g % 20)]"""


def _fill(model: Any, given: dict[str, str]) -> tuple[list[str], list[str], list[Any]]:
    """(columns, SQL expressions, params) for every concrete column of ``model``: the generator's expression
    where given, else the model's default as a parameter."""
    from django.db.models import JSONField

    columns, exprs, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.column in given:
            exprs.append(given[field.column])
        elif field.null:
            exprs.append("NULL")
        elif field.blank and field.empty_strings_allowed and not field.has_default():
            exprs.append("''")
        elif field.has_default():
            value = field.get_default()
            exprs.append("%s::jsonb" if isinstance(field, JSONField) else "%s")
            params.append(json.dumps(value) if isinstance(field, JSONField) else value)
        else:
            raise RuntimeError(f"{model.__name__}.{field.name}: no default; add it to the generator")
    return columns, exprs, params


def _master_data() -> tuple[list[int], list[int]]:
    from oms.catalog.models import Category, Sku
    from oms.channels.models import Channel

    channels = [
        Channel.objects.get_or_create(
            code=f"RB{i}", defaults={"name": f"报表压测渠道{i}", "platform": "tmall", "classification": "online"}
        )[0].pk
        for i in range(CHANNELS)
    ]
    categories = [Category.objects.get_or_create(code=f"RBC{i}", defaults={"name": f"类目{i}"})[0] for i in range(10)]
    have = set(Sku.objects.filter(code__startswith="RB-").values_list("code", flat=True))
    Sku.objects.bulk_create(
        [
            Sku(code=f"RB-{i:04d}", name=f"报表压测商品{i}", weight_g=300, category=categories[i % 10])
            for i in range(SKUS)
            if f"RB-{i:04d}" not in have
        ]
    )
    skus = list(Sku.objects.filter(code__startswith="RB-").order_by("code").values_list("pk", flat=True))
    return channels, skus


def build(*, orders: int, days: int) -> dict[str, Any]:
    """Insert ``orders`` orders over the last ``days`` days and their 2–3 lines each, in two statements."""
    from django.db import connection, transaction

    from oms.orders.models import Order, OrderLine

    channels, skus = _master_data()
    now = datetime.now(UTC).replace(microsecond=0)
    # Money per order: lines of 2 or 3 (by id), unit price 10.00–59.00 by SKU, 1 unit; order discount 1.00 on
    # every 4th order, shipping 6.00 on every 3rd; the last line carries the order discount and shipping.
    price = "(1000 + (({sku}) % 50) * 100)"
    line_count = "(2 + (g % 2))"
    third = f"CASE WHEN g % 2 = 1 THEN {price.format(sku='g + 2')} ELSE 0 END"
    goods = f"({price.format(sku='g')} + {price.format(sku='g + 1')} + {third})"
    discount, shipping = "(CASE WHEN g % 4 = 0 THEN 100 ELSE 0 END)", "(CASE WHEN g % 3 = 0 THEN 600 ELSE 0 END)"
    payable = f"({goods} - {discount} + {shipping})"
    placed = f"(base.now - ((g % {days}) || ' days')::interval - ((g % 86000) || ' seconds')::interval)"
    order_cols, order_exprs, order_params = _fill(
        Order,
        {
            "number": "'RB' || lpad(g::text, 10, '0')",
            "platform_order_id": "'RBP' || g",
            "platform_order_ids": "jsonb_build_array('RBP' || g)",
            "order_type": "'sale'",
            "classification": "'online'",
            "status": STATUS_SQL,
            "payment_status": f"CASE WHEN {STATUS_SQL} = 'pending_payment' THEN 'unpaid' ELSE 'paid' END",
            "receiver_name": "'压测买家'",
            "receiver_phone": "'139' || lpad((g % 100000000)::text, 8, '0')",
            "receiver_province": f"(ARRAY{list(PROVINCES)})[1 + (g % {len(PROVINCES)})]",
            "receiver_city": "'杭州市'",
            "receiver_address": "'文三路 ' || (g % 1000) || ' 号'",
            "currency": "'CNY'",
            "goods_minor": goods,
            "line_discount_minor": "0",
            "order_discount_minor": discount,
            "shipping_minor": shipping,
            "payable_minor": payable,
            "received_minor": f"CASE WHEN {STATUS_SQL} = 'pending_payment' THEN 0 ELSE {payable} END",
            "refunded_minor": f"CASE WHEN {STATUS_SQL} = 'cancelled' THEN {payable} ELSE 0 END",
            "placed_at": placed,
            "paid_at": f"{placed} + interval '1 minute'",
            "created_at": f"{placed} + interval '2 minutes'",
            "updated_at": f"{placed} + interval '1 hour'",
            "channel_id": f"(ARRAY{channels})[1 + (g % {CHANNELS})]",
        },
    )
    order_sql = (
        f"INSERT INTO orders_order ({', '.join(order_cols)}) "
        "WITH base AS (SELECT %s::timestamptz AS now) "
        f"SELECT {', '.join(order_exprs)} FROM base CROSS JOIN generate_series(1, %s) AS g"
    )
    line_cols, line_exprs, line_params = _fill(
        OrderLine,
        {
            "order_id": "o.id",
            "line_no": "k",
            "name": "'报表压测商品'",
            "quantity": "1",
            "unit_price_minor": price.format(sku="g + k - 1"),
            "gross_minor": price.format(sku="g + k - 1"),
            "line_discount_minor": "0",
            "order_discount_minor": f"CASE WHEN k = {line_count} THEN o.order_discount_minor ELSE 0 END",
            "shipping_minor": f"CASE WHEN k = {line_count} THEN o.shipping_minor ELSE 0 END",
            "paid_minor": (
                f"{price.format(sku='g + k - 1')} + CASE WHEN k = {line_count} "
                "THEN o.shipping_minor - o.order_discount_minor ELSE 0 END"
            ),
            "sku_id": f"(ARRAY{skus})[1 + ((g + k - 1) % {len(skus)})]",
        },
    )
    line_sql = (
        f"INSERT INTO orders_orderline ({', '.join(line_cols)}) "
        f"SELECT {', '.join(line_exprs)} FROM orders_order o "
        "CROSS JOIN LATERAL (SELECT substr(o.number, 3)::bigint AS g) AS n "
        f"CROSS JOIN LATERAL generate_series(1, {line_count}) AS k WHERE o.number LIKE 'RB%%'"
    )
    order_sql, line_sql = order_sql.replace(" % ", " %% "), line_sql.replace(" % ", " %% ")
    order_all = [now, *order_params, orders]  # in the order the placeholders appear
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(order_sql, order_all)
        t_orders = time.perf_counter() - t0
        cursor.execute(line_sql, line_params)
        t_lines = time.perf_counter() - t0 - t_orders
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order; ANALYZE orders_orderline")
        cursor.execute("SELECT count(*) FROM orders_order WHERE number LIKE %s", ["RB%"])
        n_orders = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM orders_orderline")
        n_lines = cursor.fetchone()[0]
    return {"orders": n_orders, "lines": n_lines, "orders_s": round(t_orders, 1), "lines_s": round(t_lines, 1)}


def _timed(fn: Callable[[], Any], repeats: int) -> dict[str, Any]:
    times, statements = [], []
    fn()  # warm
    for _ in range(repeats):
        with count_statements() as counted:
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
        statements.append(counted[0])
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 1),
        "statements": int(statistics.median(statements)),
    }


def measure(*, days: int, repeats: int) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from oms.accounts.models import Operator
    from oms.orders.models import Order
    from oms.reports.domain.filters import ReportFilters
    from oms.reports.sales import sales_report

    today = timezone.localdate()
    day_from = today - timedelta(days=days - 1)
    filters = ReportFilters(day_from=day_from, day_to=today, by="channel")
    admin, _ = Operator.objects.get_or_create(username="bench-reports", defaults={"is_superuser": True})
    admin.is_superuser, admin.is_staff = True, True
    admin.save()
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    query = {"from": day_from.isoformat(), "to": today.isoformat(), "by": "channel"}

    start = timezone.make_aware(datetime.combine(day_from, datetime.min.time()))

    def raw_scan() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (placed_at AT TIME ZONE %s)::date AS d, channel_id, count(*), sum(goods_minor), "
                "sum(payable_minor), sum(received_minor), sum(refunded_minor) FROM orders_order "
                "WHERE placed_at >= %s AND order_type = 'sale' AND status <> 'invalid' GROUP BY 1, 2",
                [
                    str(timezone.get_current_timezone()),
                    start,
                ],
            )
            cursor.fetchall()

    def page(url: str, params: dict[str, str] | None = None) -> None:
        response = client.get(url, params or {})
        assert response.status_code == 200, (response.status_code, response.content[:300])

    order = Order.objects.filter(number__startswith="RB").order_by("-id").only("pk", "number").first()
    assert order is not None

    def raw_detail() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM orders_order WHERE id = %s", [order.pk])
            cursor.fetchall()
            for table in ("orders_orderline", "orders_payment", "orders_orderevent"):
                cursor.execute(f"SELECT * FROM {table} WHERE order_id = %s", [order.pk])
                cursor.fetchall()

    return {
        "sales_report_selector": _timed(lambda: sales_report(filters=filters), repeats),
        "sales_report_page": _timed(lambda: page("/reports/sales/", query), repeats),
        "sales_report_api_equivalent_raw_scan": _timed(raw_scan, repeats),
        "order_detail_page": _timed(lambda: page(f"/orders/{order.number}/"), repeats),
        "order_detail_raw_sql": _timed(raw_detail, repeats),
    }


class _PeakRss:
    """The process's resident memory, sampled every 50 ms while the block runs: (baseline, peak) in MiB."""

    def __enter__(self) -> _PeakRss:
        import threading

        self.baseline = self.peak = _rss_mib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, _rss_mib())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mib())


def _rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * 4096 / 2**20


def measure_exports(fmts: tuple[str, ...]) -> dict[str, Any]:
    """Export every order (the order list without filters) through the real background job, run in process."""
    from django.conf import settings

    from oms.accounts.models import Operator
    from oms.reports.services.exports import export_path, export_request

    settings.OMS_EXPORTS = {**settings.OMS_EXPORTS, "RUNNER": "inline"}
    admin = Operator.objects.get(username="bench-reports")
    out: dict[str, Any] = {}
    for fmt in fmts:
        with _PeakRss() as rss:
            t0 = time.perf_counter()
            job = export_request(operator=admin, list_name="orders", fmt=fmt, params={"bench": str(time.time())})
            seconds = time.perf_counter() - t0
        job.refresh_from_db()
        out[fmt] = {
            "state": job.state,
            "rows": job.rows_written,
            "seconds": round(seconds, 1),
            "rows_per_s": round(job.rows_written / seconds) if seconds else None,
            "file_mib": round(export_path(job).stat().st_size / 2**20, 1) if job.state == "done" else None,
            "rss_baseline_mib": round(rss.baseline, 1),
            "rss_peak_mib": round(rss.peak, 1),
        }
        export_path(job).unlink(missing_ok=True)
    return out


def run(*, orders: int = 1_000_000, days: int = 90, repeats: int = 20, exports: tuple[str, ...] = ()) -> dict[str, Any]:
    from django.db import connection

    from oms.reports.services.rollups import rollups_rebuild

    built = build(orders=orders, days=days)
    t0 = time.perf_counter()
    rollups_rebuild()
    built["rollups_rebuild_s"] = round(time.perf_counter() - t0, 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT count(*) FROM reports_salesday), (SELECT count(*) FROM reports_skusalesday)")
        built["rollup_rows"] = dict(zip(("sales_day", "sku_sales_day"), cursor.fetchone(), strict=True))
    timings = measure(days=days, repeats=repeats)
    exported = measure_exports(exports) if exports else {}
    base = timings["sales_report_api_equivalent_raw_scan"]["p95_ms"]
    result = {
        "benchmark": "reports",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": "PostgreSQL {}.{}".format(*divmod(connection.cursor().connection.info.server_version, 10000)),
        "built": built,
        "timings": timings,
        "sales_report_page_p95_vs_raw_scan": round(timings["sales_report_page"]["p95_ms"] / base, 3) if base else None,
        "order_detail_p95_vs_raw": round(
            timings["order_detail_page"]["p95_ms"] / timings["order_detail_raw_sql"]["p95_ms"], 2
        ),
        "exports": exported,
        "load": _load(),
    }
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    for name in (f"reports-{stamp}.json", "reports-latest.json"):
        (RESULTS / name).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    result["path"] = str(RESULTS / "reports-latest.json")
    return result


def _load() -> str:
    try:
        with open("/proc/loadavg") as handle:
            return handle.read().strip()
    except OSError:
        return "unknown"


def table(result: dict[str, Any]) -> str:
    b = result["built"]
    lines = [
        f"Built {b['orders']:,} orders / {b['lines']:,} lines in {b['orders_s']} s + {b['lines_s']} s; "
        f"rollups rebuilt in {b['rollups_rebuild_s']} s ({b['rollup_rows']})",
        f"{'measure':42} {'p50 ms':>9} {'p95 ms':>9} {'SQL':>5}",
    ]
    for name, t in result["timings"].items():
        lines.append(f"{name:42} {t['p50_ms']:>9} {t['p95_ms']:>9} {t['statements']:>5}")
    lines.append(f"sales report page p95 / raw scan p95: {result['sales_report_page_p95_vs_raw_scan']}")
    lines.append(f"order detail page p95 / raw SQL p95: {result['order_detail_p95_vs_raw']}")
    for fmt, e in result.get("exports", {}).items():
        lines.append(
            f"export {fmt}: {e['rows']:,} rows in {e['seconds']} s ({e['rows_per_s']}/s), {e['file_mib']} MiB file, "
            f"RSS {e['rss_baseline_mib']} -> peak {e['rss_peak_mib']} MiB"
        )
    lines.append(f"load: {result['load']}")
    return "\n".join(lines)
