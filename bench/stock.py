"""Stock benchmarks on PostgreSQL, each next to a raw baseline measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_bench_stock uv run oms bench stock [b2|b4]

B2 hot SKU: 64 clients (64 processes) reserve one unit at a time of one SKU through `channel_reserve`, each
attempt its own transaction (no transaction open: the call commits in its one round trip, or queues for a batch
when the row is busy), with ledger row, counters and change log; the same with the SKU designated hot (always
queued); and pages of 8 and 40 lines per call (as bulk intake reserves a page of orders), each page its own
transaction. Baseline: the same 64 clients running a single-row conditional UPDATE (`SET reserved = reserved + 1
WHERE quota - reserved >= 1`) on a bare table. After an untimed warm-up of both, every variant runs once per
round, interleaved, for `ROUNDS` rounds (each on a freshly vacuumed and checkpointed database) and is reported by
its median round: granted reservations/s, the ratio to the baseline, units oversold (must be 0), and
`oms stock verify`.

B4 full available-to-sell recompute: 100,000 SKUs × 5 channels over 2 warehouses; `channel_stock_reallocate`
over everything (rules changed, so every channel row is rewritten and logged; then again with nothing changed)
against one raw GROUP BY of the same stock per (channel, SKU). For scale, a bare UPDATE of every channel row
(rolled back) is timed too: the floor of any run that rewrites them all. Results go to bench/results/stock-*.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from datetime import UTC, datetime
from typing import Any

from bench import results_dir
from bench.rows import insert_select
from oms.core.actors import SYSTEM

RESULTS = results_dir()
CLIENTS = 64
BATCHES = (8, 40)  # lines per call on the batched path: a small bulk-intake page, and a bigger one
ROUNDS = 5  # B2 runs every variant this many times, interleaved, and reports the median


def _pg_dsn() -> str:
    from django.db import connection

    p = connection.settings_dict
    parts = [f"dbname={p['NAME']}", f"user={p['USER'] or 'postgres'}"]
    if p.get("HOST"):
        parts.append(f"host={p['HOST']}")
    if p.get("PORT"):
        parts.append(f"port={p['PORT']}")
    if p.get("PASSWORD"):
        parts.append(f"password={p['PASSWORD']}")
    return " ".join(parts)


# 64 clients = 64 processes of one thread each, as an application server's or Celery's prefork workers run:
# with threads, the client holding the hot row's lock waits for its process's GIL (5 ms switch interval)
# while its siblings run Python, and that wait, not the database, sets the pace.
PROCESSES = 64


def _process_main(work: Any, threads: int, offset: int, barrier: Any, done: Any, django_db: bool) -> None:
    errors: list[BaseException] = []
    local = threading.Barrier(threads)

    def target(i: int) -> None:
        from django.db import connection

        try:
            if django_db:
                connection.ensure_connection()
            local.wait()
            if i == 0:
                barrier.wait()
            local.wait()
            work(offset + i)
        except BaseException as exc:
            errors.append(exc)
            local.abort()  # the others must not wait at a barrier this client will never reach
            barrier.abort()
        finally:
            connection.close()

    pool = [threading.Thread(target=target, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    done.put([repr(e) for e in errors])


def _clients(n: int, work: Any, *, django_db: bool = True) -> float:
    """Run ``work(client index)`` on ``n`` concurrent clients (processes × threads, forked after setup, each
    with its own database connection); wall-clock seconds from the common start to the last finish."""
    import multiprocessing as mp

    from django.db import connections

    connections.close_all()
    ctx = mp.get_context("fork")
    processes = min(PROCESSES, n)
    per = n // processes
    barrier = ctx.Barrier(processes + 1)
    done = ctx.Queue()
    procs = [
        ctx.Process(target=_process_main, args=(work, per, k * per, barrier, done, django_db)) for k in range(processes)
    ]
    for p in procs:
        p.start()
    barrier.wait()
    start = time.perf_counter()
    errors = [done.get() for _ in procs]
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join()
    failed = [e for batch in errors for e in batch]
    if failed:
        raise RuntimeError(f"{len(failed)} client(s) failed; first: {failed[0]}")
    return elapsed


# ------------------------------------------------------------------------------------------------- B2


def _settle() -> None:
    """Vacuum and analyse what the previous run churned and checkpoint, so every run — the baseline's too —
    starts on clean tables, fresh statistics and a fresh checkpoint rather than sharing the machine with
    autovacuum catching up on the last one or a checkpoint landing mid-run."""
    from django.db import DatabaseError, connection

    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM (ANALYZE) inventory_reservation, inventory_reservationrequest, channels_channelstock,"
            " channels_availabilitychange"
        )
        # A checkpoint falling inside one run and not another (every 5 minutes by default) swings that run by
        # up to half: start every run right after one instead. Needs superuser or pg_checkpoint; else skipped.
        with contextlib.suppress(DatabaseError):
            cursor.execute("CHECKPOINT")
    connection.close()


def _b2_fixture(run: str, units: int) -> tuple[int, int, int]:
    from oms.catalog.models import Sku
    from oms.channels.models import AllocationRule, Channel, ChannelWarehouse
    from oms.inventory.models import Subsidiary, Warehouse
    from oms.inventory.services.documents import DocLine, stock_receipt_create

    sub, _ = Subsidiary.objects.get_or_create(code="BENCH", defaults={"name": "Bench"})
    wh = Warehouse.objects.create(code=f"HOT-{run}", name="Hot", subsidiary=sub, province="330000")
    ch = Channel.objects.create(code=f"HOT-{run}", name="Hot", platform="tmall", classification="online")
    ChannelWarehouse.objects.create(channel=ch, warehouse=wh)
    AllocationRule.objects.create(channel=ch)
    sku = Sku.objects.create(code=f"HOT-{run}", name="爆款")
    stock_receipt_create(warehouse_id=wh.pk, lines=[DocLine(sku.pk, units)], actor=SYSTEM)
    return ch.pk, sku.pk, wh.pk


def run_b2(*, attempts_per_client: int = 80, clients: int = CLIENTS, rounds: int = ROUNDS) -> dict[str, Any]:
    import psycopg
    from django.db import connection, transaction
    from django.db.models import Sum

    from oms.catalog.models import Sku
    from oms.channels.models import ChannelStock
    from oms.inventory.models import Reservation
    from oms.inventory.services.reservations import ReserveRequest, channel_reserve
    from oms.inventory.services.verify import stock_verify

    run = datetime.now(UTC).strftime("%y%m%d%H%M%S")
    attempts = attempts_per_client * clients
    units = attempts * 3 // 4  # a quarter of the attempts find the SKU sold out: refusals are part of the load

    def granted_on(sku: int) -> int:
        rows = Reservation.objects.filter(ref_type="bench_line", sku_id=sku, state="active")
        return int(rows.aggregate(q=Sum("quantity"))["q"] or 0)

    def oversold_on(channel: int, sku: int, granted: int) -> int:
        cs = ChannelStock.objects.get(channel_id=channel, sku_id=sku)
        return max(cs.sales_reserved - units, 0) + max(granted - units, 0)

    def one_line_per_call(tag: str, *, hot: bool) -> tuple[float, int, int]:
        """Every attempt is one line in its own transaction: with none open, `channel_reserve` commits a
        one-row call inside its one statement, or (SKU designated hot) queues it for a batch."""
        channel, sku, _wh = _b2_fixture(tag, units)
        Sku.objects.filter(pk=sku).update(is_hot=hot)

        def work(i: int) -> None:
            for k in range(attempts_per_client):
                channel_reserve(requests=[ReserveRequest("bench_line", i * 1_000_000 + k, channel, sku, 1)])

        _settle()
        seconds = _clients(clients, work)
        granted = granted_on(sku)
        return seconds, granted, oversold_on(channel, sku, granted)

    # The raw baseline: the same clients on a bare table, a single-row conditional UPDATE per attempt.
    dsn = _pg_dsn()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_hot_row")
        conn.execute(
            "CREATE TABLE bench_hot_row (id bigint PRIMARY KEY, quota bigint NOT NULL, reserved bigint NOT NULL)"
        )
        conn.execute("INSERT INTO bench_hot_row VALUES (1, %s, 0)", [units])

    def raw(i: int) -> None:
        with psycopg.connect(dsn) as conn:
            for _ in range(attempts_per_client):
                conn.execute("UPDATE bench_hot_row SET reserved = reserved + 1 WHERE id = 1 AND quota - reserved >= 1")
                conn.commit()

    def raw_run() -> tuple[float, int, int]:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("UPDATE bench_hot_row SET reserved = 0")
        _settle()
        seconds = _clients(clients, raw, django_db=False)
        with psycopg.connect(dsn, autocommit=True) as conn:
            row = conn.execute("SELECT reserved FROM bench_hot_row").fetchone()
        granted = int(row[0]) if row else 0
        return seconds, granted, max(granted - units, 0)

    def batched_run(size: int, tag: str) -> tuple[float, int, int]:
        """The same clients, each call reserving a page of ``size`` lines (as bulk intake reserves the orders
        of a page) inside its own transaction."""
        channel, sku, _wh = _b2_fixture(tag, units)

        def work(i: int) -> None:
            for k in range(0, attempts_per_client, size):
                with transaction.atomic():
                    channel_reserve(
                        requests=[
                            ReserveRequest("bench_line", i * 1_000_000 + k + j, channel, sku, 1)
                            for j in range(min(size, attempts_per_client - k))
                        ]
                    )

        _settle()
        seconds = _clients(clients, work)
        granted = granted_on(sku)
        return seconds, granted, oversold_on(channel, sku, granted)

    # Warm-up, untimed: a fresh database's first round of 64 sessions runs well below its pace (tables and
    # indexes grow from nothing, statistics catch up), and so does the baseline's first round.
    one_line_per_call(f"{run}W", hot=False)
    raw_run()
    # Measured: `rounds` rounds, each running every variant once in turn, so drift on the shared machine lands
    # on all of them alike; each is reported by its median round.
    kinds: dict[str, Any] = {
        "service": lambda r: one_line_per_call(f"{run}S{r}", hot=False),
        "service_hot_sku": lambda r: one_line_per_call(f"{run}H{r}", hot=True),
        **{f"batched_{n}": (lambda r, n=n: batched_run(n, f"{run}B{n}R{r}")) for n in BATCHES},
        "raw_conditional_update": lambda r: raw_run(),
    }
    measured: dict[str, list[tuple[float, int, int]]] = {name: [] for name in kinds}
    for r in range(rounds):
        for name, go in kinds.items():
            measured[name].append(go(r))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE bench_hot_row")

    report = stock_verify()
    connection.close()

    def summary(runs: list[tuple[float, int, int]]) -> dict[str, Any]:
        rates = sorted(granted / seconds for seconds, granted, _o in runs)
        median = rates[len(rates) // 2]
        seconds, granted, _o = next(run for run in runs if granted_rate(run) == median)
        return {
            "granted": granted,
            "seconds": round(seconds, 3),
            "granted_per_s": round(median, 1),
            "attempts_per_s": round(attempts / seconds, 1),
            "rounds_granted_per_s": [round(granted_rate(run), 1) for run in runs],
        }

    raw_summary = summary(measured["raw_conditional_update"])
    raw_rate = raw_summary["granted_per_s"]

    def with_ratio(name: str) -> dict[str, Any]:
        out = summary(measured[name])
        return {**out, "ratio": round(out["granted_per_s"] / raw_rate, 3)}

    service = with_ratio("service")
    return {
        "clients": clients,
        "attempts": attempts,
        "units": units,
        "rounds": rounds,
        "service": service,
        "service_hot_sku": with_ratio("service_hot_sku"),
        "service_batched": [{"lines_per_call": n, **with_ratio(f"batched_{n}")} for n in BATCHES],
        "raw_conditional_update": raw_summary,
        "ratio": service["ratio"],
        "oversold": sum(o for runs in measured.values() for _s, _g, o in runs),
        "verify_drift": len(report.drift),
    }


def granted_rate(run: tuple[float, int, int]) -> float:
    seconds, granted, _oversold = run
    return granted / seconds


# ------------------------------------------------------------------------------------------------- B4


def _b4_fixture(run: str, skus: int, channels: int) -> list[int]:
    """100k SKUs, 2 warehouses with stock for each, 5 channels on both warehouses — made with set-based SQL
    (making them through the receipt service would take most of the time budget)."""
    from django.db import connection

    from oms.channels.models import AllocationRule, Channel, ChannelWarehouse
    from oms.inventory.models import Subsidiary, Warehouse

    sub, _ = Subsidiary.objects.get_or_create(code="BENCH", defaults={"name": "Bench"})
    whs = [
        Warehouse.objects.create(code=f"B4{run}-{i}", name=f"B4 {i}", subsidiary=sub, province="330000")
        for i in range(2)
    ]
    chs = [
        Channel.objects.create(code=f"B4{run}-{i}", name=f"B4 {i}", platform="tmall", classification="online")
        for i in range(channels)
    ]
    for ch in chs:
        for wh in whs:
            ChannelWarehouse.objects.create(channel=ch, warehouse=wh)
        AllocationRule.objects.create(channel=ch, ratio_bp=10_000 // channels, safety_stock=1)
    with connection.cursor() as cur:
        cur.execute(
            *insert_select(
                "catalog_sku",
                ("code", "name", "weight_g", "volume_cm3", "tax_rate_bp", "created_at"),
                "%s || g, 'B4 SKU ' || g, 100, 100, 1300, now()",
                "FROM generate_series(1, %s) g",
                (f"B4{run}-", skus),
            )
        )
        cur.execute("SELECT id FROM catalog_sku WHERE code LIKE %s ORDER BY id", [f"B4{run}-%"])
        ids = [r[0] for r in cur.fetchall()]
        for wh in whs:
            cur.execute(
                *insert_select(
                    "inventory_stockitem",
                    ("warehouse_id", "sku_id", "on_hand", "updated_at"),
                    "%s, id, (id %% 97) + 3, now()",
                    "FROM catalog_sku WHERE code LIKE %s",
                    (wh.pk, f"B4{run}-%"),
                )
            )
            cur.execute(
                *insert_select(
                    "inventory_stockmove",
                    ("warehouse_id", "sku_id", "kind", "delta_on_hand", "ref_type", "ref_id", "created_at"),
                    "warehouse_id, sku_id, 'receipt', on_hand, 'bench', 0, now()",
                    "FROM inventory_stockitem WHERE warehouse_id = %s",
                    (wh.pk,),
                )
            )
        cur.execute("ANALYZE")
    return ids


def run_b4(*, skus: int = 100_000, channels: int = 5, chunk: int = 10_000) -> dict[str, Any]:
    from django.db import connection, transaction

    from oms.channels.models import AllocationRule, ChannelStock
    from oms.channels.services.allocation import allocation_context, channel_stock_reallocate
    from oms.channels.services.allocation_sql import set_based_plan

    run = datetime.now(UTC).strftime("%y%m%d%H%M%S")
    t0 = time.perf_counter()
    _b4_fixture(run, skus, channels)
    setup_s = time.perf_counter() - t0
    # Earlier bench runs' SKUs would be recomputed too: keep only this run's channels active.
    from oms.channels.models import Channel

    Channel.objects.exclude(code__startswith=f"B4{run}-").update(is_active=False)

    def timed(fn: Any) -> tuple[float, Any]:
        start = time.perf_counter()
        out = fn()
        return time.perf_counter() - start, out

    first_s, first = timed(lambda: channel_stock_reallocate(chunk=chunk))
    AllocationRule.objects.filter(channel__code__startswith=f"B4{run}-").update(safety_stock=2)
    full_s, full = timed(lambda: channel_stock_reallocate(chunk=chunk))
    steady_s, steady = timed(lambda: channel_stock_reallocate(chunk=chunk))

    def group_by() -> int:
        with connection.cursor() as cur:
            cur.execute(
                """SELECT cw.channel_id, si.sku_id, SUM(si.on_hand - si.reserved_transfer)
                   FROM inventory_stockitem si JOIN channels_channelwarehouse cw ON cw.warehouse_id = si.warehouse_id
                   JOIN channels_channel c ON c.id = cw.channel_id AND c.is_active
                   GROUP BY cw.channel_id, si.sku_id"""
            )
            return len(cur.fetchall())

    raw_s, raw_rows = timed(group_by)

    def raw_write() -> int:
        # The write floor of the all-changed run: one bare UPDATE of every channel row (and nothing else), undone.
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                "UPDATE channels_channelstock SET safety_stock = safety_stock + 1, pushed = pushed + 1,"
                " pushed_at = now(), updated_at = now() WHERE channel_id IN (SELECT id FROM channels_channel"
                " WHERE code LIKE %s)",
                [f"B4{run}-%"],
            )
            transaction.set_rollback(True)
            return cur.rowcount

    write_s, write_rows = timed(raw_write)
    rows = ChannelStock.objects.filter(channel__code__startswith=f"B4{run}-").count()
    return {
        "skus": skus,
        "channels": channels,
        "channel_rows": rows,
        "setup_seconds": round(setup_s, 2),
        "first_allocation": {"seconds": round(first_s, 3), "rows_changed": first.rows_changed},
        "full_recompute_all_changed": {"seconds": round(full_s, 3), "rows_changed": full.rows_changed},
        "full_recompute_unchanged": {"seconds": round(steady_s, 3), "rows_changed": steady.rows_changed},
        "raw_group_by": {"seconds": round(raw_s, 3), "rows": raw_rows},
        "raw_update_every_row": {"seconds": round(write_s, 3), "rows": write_rows},
        "set_based": set_based_plan(allocation_context()) is not None,
        "ratio_all_changed": round(full_s / raw_s, 2),
        "ratio_unchanged": round(steady_s / raw_s, 2),
    }


def run(
    which: str = "all",
    *,
    clients: int = CLIENTS,
    attempts_per_client: int = 80,
    rounds: int = ROUNDS,
    skus: int = 100_000,
) -> dict[str, Any]:
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("The stock benchmarks run on PostgreSQL: set DATABASE_URL=postgres://…")
    result: dict[str, Any] = {
        "benchmark": "stock B2/B4",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": f"PostgreSQL {connection.cursor().connection.info.server_version}",
        "cpus": os.cpu_count(),
    }
    if which in ("all", "b2"):
        result["b2_hot_sku"] = run_b2(attempts_per_client=attempts_per_client, clients=clients, rounds=rounds)
    if which in ("all", "b4"):
        result["b4_recompute"] = run_b4(skus=skus)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%y%m%d%H%M%S")
    path = RESULTS / f"stock-{stamp}.json"
    text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    path.write_text(text)
    latest = RESULTS / "stock-latest.json"
    if which != "all" and latest.exists():  # a partial run keeps the other benchmark's latest figures
        merged = json.loads(latest.read_text())
        merged.update(result)
        latest.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n")
    else:
        latest.write_text(text)
    result["path"] = str(path)
    return result


def _row(*cells: Any) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def table(result: dict[str, Any]) -> str:
    lines = []
    if "b2_hot_sku" in result:
        b2 = result["b2_hot_sku"]
        svc, raw = b2["service"], b2["raw_conditional_update"]
        lines += [
            f"B2 hot SKU, {b2['clients']} clients, {b2['attempts']} attempts on {b2['units']} units",
            _row("run", "granted", "seconds", "granted/s"),
            _row("---", "---", "---", "---"),
            _row("channel_reserve", svc["granted"], svc["seconds"], svc["granted_per_s"]),
            *(
                [_row("channel_reserve, SKU designated hot (queued, granted in batches)", *hot_row)]
                if (hot := b2.get("service_hot_sku"))
                and (hot_row := (hot["granted"], hot["seconds"], hot["granted_per_s"]))
                else []
            ),
            *(
                _row(
                    f"channel_reserve, {r['lines_per_call']} lines per call",
                    r["granted"],
                    r["seconds"],
                    r["granted_per_s"],
                )
                for r in b2["service_batched"]
            ),
            _row("raw conditional UPDATE", raw["granted"], raw["seconds"], raw["granted_per_s"]),
            f"ratio {b2['ratio']} (one line per call), "
            + (f"{hot['ratio']} (one line per call, designated hot), " if hot else "")
            + ", ".join(f"{r['ratio']} ({r['lines_per_call']} per call)" for r in b2["service_batched"])
            + f"; oversold {b2['oversold']}, verify drift {b2['verify_drift']}",
            "",
        ]
    if "b4_recompute" in result:
        b4 = result["b4_recompute"]
        first, full, steady = b4["first_allocation"], b4["full_recompute_all_changed"], b4["full_recompute_unchanged"]
        lines += [
            f"B4 recompute, {b4['skus']} SKUs × {b4['channels']} channels ({b4['channel_rows']} channel rows)",
            _row("run", "seconds", "rows changed"),
            _row("---", "---", "---"),
            _row("first allocation", first["seconds"], first["rows_changed"]),
            _row("full recompute, every quota rewritten", full["seconds"], full["rows_changed"]),
            _row("full recompute, nothing changed", steady["seconds"], steady["rows_changed"]),
            _row("raw GROUP BY", b4["raw_group_by"]["seconds"], f"{b4['raw_group_by']['rows']} rows"),
            *(
                [_row("raw UPDATE of every row (undone)", raw_write["seconds"], f"{raw_write['rows']} rows")]
                if (raw_write := b4.get("raw_update_every_row"))
                else []
            ),
            f"ratios {b4['ratio_all_changed']} (all changed), {b4['ratio_unchanged']} (unchanged)",
        ]
    return "\n".join(lines)
