"""Single-order intake on PostgreSQL: orders/s, latency, SQL statements and round trips per order, in process and
through HTTP, next to a raw psycopg baseline that writes the same rows in one transaction, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_bench_single uv run oms bench single [--orders 2000]

Every order (1–5 lines, a buyer, a payment, reservations on a channel with stock) is placed on its own:

- in process: `order_intake`, from 1 and from 2 processes (forked, each its own connection);
- through HTTP: `POST /api/v1/orders` with a token, from 2 client processes against 2 server processes (a
  pre-forked WSGI server on one listening socket, each process its own kept database connection — what a
  production WSGI server does; Django's development server opens a thread and a connection per request);
- raw psycopg: the same rows (customer upsert, order, lines, platform ref, payment, two timeline events, an
  operation-log row, channel reservations and counters) written by hand in one transaction per order, one
  statement per table, columns from the models (bench/rows.py), from 1 and from 2 processes.

Round trips are counted on the client: each statement the application sends (a ``;``-joined string is one),
plus BEGIN and COMMIT of each transaction. Results go to bench/results/single-*.json.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench import results_dir
from bench.intake import make_payloads, setup_master_data
from bench.rows import raw_table

RESULTS = results_dir()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000, 2)


class Counter:
    """Statements and round trips of this process's Django connection (executes + BEGIN/COMMIT pairs)."""

    def __init__(self) -> None:
        self.statements = 0
        self.commits = 0

    def install(self) -> None:
        from django.db import connection

        def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            self.statements += 1
            return execute(sql, params, many, context)

        connection.execute_wrappers.append(wrapper)
        commit = connection._commit  # type: ignore[attr-defined]

        def counted_commit() -> Any:
            self.commits += 1
            return commit()

        connection._commit = counted_commit  # type: ignore[attr-defined]

    @property
    def round_trips(self) -> int:
        return self.statements + 2 * self.commits


def _in_process_worker(payloads: list[dict[str, Any]], queue: Any) -> None:
    from django.db import connection

    from oms.core.actors import SYSTEM
    from oms.orders.services.intake import order_intake

    counter = Counter()
    connection.ensure_connection()
    counter.install()
    times = []
    for p in payloads:
        t0 = time.perf_counter()
        order_intake(payload=p, actor=SYSTEM)
        times.append(time.perf_counter() - t0)
    queue.put({"times": times, "statements": counter.statements, "round_trips": counter.round_trips})
    connection.close()


def _general_worker(payloads: list[dict[str, Any]], queue: Any) -> None:
    """`order_intake` on the general path (what every order took before the one-round-trip function)."""
    from django.conf import settings

    settings.OMS = {**settings.OMS, "INTAKE_ONE_TRIP": False}
    _in_process_worker(payloads, queue)


def _raw_worker(payloads: list[dict[str, Any]], queue: Any, one_trip: bool = False) -> None:
    times = []
    writer = RawWriter(autocommit=one_trip)
    write = writer.write_one_trip if one_trip else writer.write
    for p in payloads:
        t0 = time.perf_counter()
        write(p)
        times.append(time.perf_counter() - t0)
    trips = writer.statements + (0 if one_trip else 2 * len(payloads))
    queue.put({"times": times, "statements": writer.statements, "round_trips": trips})
    writer.close()


def _raw_one_trip_worker(payloads: list[dict[str, Any]], queue: Any) -> None:
    _raw_worker(payloads, queue, one_trip=True)


def _fan_out(target: Callable[..., None], payloads: list[dict[str, Any]], processes: int) -> dict[str, Any]:
    from django.db import connections

    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=target, args=(payloads[k::processes], queue)) for k in range(processes)]
    start = time.perf_counter()
    for proc in procs:
        proc.start()
    parts = [queue.get() for _ in procs]
    elapsed = time.perf_counter() - start
    for proc in procs:
        proc.join()
    if any(proc.exitcode for proc in procs):
        raise RuntimeError("a worker failed")
    return _summary(len(payloads), elapsed, parts)


def _summary(n: int, elapsed: float, parts: list[dict[str, Any]]) -> dict[str, Any]:
    times = [t for part in parts for t in part["times"]]
    statements = sum(p.get("statements", 0) for p in parts)
    trips = sum(p.get("round_trips", 0) for p in parts)
    return {
        "orders": n,
        "seconds": round(elapsed, 2),
        "orders_per_s": round(n / elapsed, 1),
        "p50_ms": _pct(times, 0.5),
        "p99_ms": _pct(times, 0.99),
        "statements_per_order": round(statements / n, 2) if statements else None,
        "round_trips_per_order": round(trips / n, 2) if trips else None,
    }


# The same channel-stock row the service writes: sales reserved and the pushed figure restamped (what verify checks).
_FIGURE = (
    "LEAST(GREATEST(cs.quota - cs.sales_reserved - t.q - cs.return_reserved - cs.safety_stock, 0),"
    " COALESCE(cs.max_quantity, 9223372036854775807))"
)
TAKE_STOCK = (
    "UPDATE channels_channelstock cs SET sales_reserved = cs.sales_reserved + t.q,"
    f" pushed = CASE WHEN {_FIGURE} < cs.min_quantity THEN 0 ELSE {_FIGURE} END, updated_at = now() FROM"
    " unnest(%s::bigint[], %s::bigint[]) AS t(sku, q) WHERE cs.channel_id = %s AND cs.sku_id = t.sku"
    " AND cs.quota - cs.sales_reserved - cs.return_reserved >= t.q"
)


def _audit(number: str, payable: int, platform_order_id: str) -> tuple[Any, str, str]:
    """The operation-log row intake writes and the halves of its content hash around the order id (the audit chain
    verifies the baseline's rows too)."""
    from oms.core.actors import SYSTEM
    from oms.orders.services.intake_pg import audit_row

    after = {"status": "pending_review", "payable": payable, "platform_order_id": platform_order_id}
    return audit_row(actor=SYSTEM, action="order.intake", object_type="orders.order", object_repr=number, after=after)


class RawWriter:
    """One order's rows by hand over psycopg, in one transaction: one statement per table (`write`), or all of them
    in one statement of data-modifying CTEs sent with no transaction open, so it is its own transaction and one
    round trip (`write_one_trip`)."""

    def __init__(self, *, autocommit: bool = False) -> None:
        import psycopg
        from django.db import connection

        from oms.catalog.models import Sku
        from oms.channels.models import Channel

        p = connection.settings_dict
        self.conn = psycopg.connect(
            dbname=p["NAME"], user=p["USER"] or "postgres", host=p.get("HOST") or None, port=p.get("PORT") or None,
            password=p.get("PASSWORD") or None, options="-c jit=off", autocommit=autocommit,
        )  # fmt: skip
        self.channel = Channel.objects.get(code="BENCH")
        self.skus = dict(Sku.objects.filter(code__startswith="BENCH-").values_list("code", "id"))
        self.statements = 0
        self.t_customer = raw_table("orders_customer", ("channel_id", "platform_buyer_id", "created_at"))
        self.t_order = raw_table(
            "orders_order",
            ("number", "channel_id", "platform_order_id", "platform_order_ids", "classification", "status",
             "payment_status", "customer_id", "receiver_name", "receiver_phone", "receiver_province", "receiver_city",
             "receiver_address", "goods_minor", "order_discount_minor", "shipping_minor", "payable_minor",
             "received_minor", "placed_at", "paid_at", "created_at", "updated_at"),
        )  # fmt: skip
        self.t_line = raw_table(
            "orders_orderline",
            ("order_id", "line_no", "sku_id", "platform_line_id", "quantity", "unit_price_minor", "gross_minor",
             "order_discount_minor", "shipping_minor", "paid_minor"),
        )  # fmt: skip
        self.t_ref = raw_table("orders_orderplatformref", ("order_id", "channel_id", "platform_order_id"))
        self.t_pay = raw_table(
            "orders_payment", ("order_id", "method", "transaction_id", "amount_minor", "paid_at", "received_at")
        )
        self.t_event = raw_table("orders_orderevent", ("order_id", "at", "kind", "from_status", "to_status"))
        self.t_audit = raw_table(
            "audit_operationlog",
            ("at", "actor_name", "action", "object_type", "object_id", "object_repr", "after", "via", "content_hash"),
        )
        self.t_res = raw_table(
            "inventory_reservation",
            ("ref_type", "ref_id", "scope", "kind", "sku_id", "channel_id", "quantity", "state", "created_at"),
        )

    def close(self) -> None:
        self.conn.close()

    def _insert(self, cur: Any, spec: Any, rows: list[tuple[Any, ...]], returning: bool = False) -> list[Any]:
        cols = spec.columns
        values = ",".join(["(" + ",".join(["%s"] * len(cols)) + ")"] * len(rows))
        sql = f"INSERT INTO {spec.table} ({','.join(cols)}) VALUES {values}" + (" RETURNING id" if returning else "")
        cur.execute(sql, [v for r in rows for v in spec.row(r)])
        self.statements += 1
        return [r[0] for r in cur.fetchall()] if returning else []

    def write(self, p: dict[str, Any]) -> None:
        from psycopg.types.json import Jsonb

        from oms.orders.services.intake_pg import audit_digest

        now = datetime.now(UTC)
        ch = self.channel.pk
        lines = p["lines"]
        cents, shares, ship, shipping, discount, payable = self._money(p)
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute(
                f"INSERT INTO orders_customer ({','.join(self.t_customer.columns)}) VALUES "
                f"({','.join(['%s'] * len(self.t_customer.columns))}) ON CONFLICT (channel_id, platform_buyer_id) "
                "DO UPDATE SET platform_buyer_id = EXCLUDED.platform_buyer_id RETURNING id",
                self.t_customer.row((ch, p["buyer"]["platform_buyer_id"], now)),
            )
            self.statements += 1
            customer = cur.fetchone()[0]  # type: ignore[index]
            poid = p["platform_order_id"]
            r = p["receiver"]
            [order] = self._insert(
                cur, self.t_order,
                [("RAW" + poid[-20:], ch, "R" + poid, Jsonb(["R" + poid]), "online", "pending_review", "paid",
                  customer, r["name"], r["phone"], r["province"], r["city"], r["address"], sum(cents), discount,
                  shipping, payable, payable, now, now, now, now)],
                returning=True,
            )  # fmt: skip
            line_ids = self._insert(
                cur, self.t_line,
                [(order, i + 1, self.skus[ln["sku_code"]], ln["platform_line_id"], int(ln["quantity"]),
                  round(float(ln["unit_price"]) * 100), cents[i], shares[i], ship[i], cents[i] - shares[i] + ship[i])
                 for i, ln in enumerate(lines)],
                returning=True,
            )  # fmt: skip
            self._insert(cur, self.t_ref, [(order, ch, "R" + poid)])
            self._insert(cur, self.t_pay, [(order, "alipay", "R" + p["payment"]["transaction_id"], payable, now, now)])
            events = [(order, now, "created", "", "new"), (order, now, "status_changed", "new", "pending_review")]
            self._insert(cur, self.t_event, events)
            log, head, tail = _audit("RAW" + poid[-20:], payable, "R" + poid)
            self._insert(
                cur, self.t_audit,
                [(log.at, log.actor_name, log.action, log.object_type, str(order), log.object_repr, Jsonb(log.after),
                  log.via, audit_digest(head, order, tail))],
            )  # fmt: skip
            per_sku: dict[int, int] = {}
            for ln in lines:
                per_sku[self.skus[ln["sku_code"]]] = per_sku.get(self.skus[ln["sku_code"]], 0) + int(ln["quantity"])
            cur.execute(TAKE_STOCK, [list(per_sku), list(per_sku.values()), ch])
            self.statements += 1
            self._insert(
                cur, self.t_res,
                [("order_line", lid, "channel", "sales", self.skus[ln["sku_code"]], ch, int(ln["quantity"]), "active",
                  now) for lid, ln in zip(line_ids, lines, strict=True)],
            )  # fmt: skip

    def _money(self, p: dict[str, Any]) -> tuple[list[int], list[int], list[int], int, int, int]:
        lines = p["lines"]
        cents = [round(float(ln["unit_price"]) * 100) * int(ln["quantity"]) for ln in lines]
        shipping = round(float(p["shipping"]) * 100)
        discount = min(round(float(p["order_discount"]) * 100), sum(cents))
        shares = [discount * c // sum(cents) for c in cents]
        shares[0] += discount - sum(shares)
        ship = [shipping if i == 0 else 0 for i in range(len(lines))]
        return cents, shares, ship, shipping, discount, sum(cents) - discount + shipping

    def write_one_trip(self, p: dict[str, Any]) -> None:
        """The rows of `write`, in one statement: each insert a CTE reading the ids the ones before it return."""
        from psycopg.types.json import Jsonb

        now = datetime.now(UTC)
        ch = self.channel.pk
        lines = p["lines"]
        cents, shares, ship, shipping, discount, payable = self._money(p)
        poid, r = p["platform_order_id"], p["receiver"]
        log, head, tail = _audit("RAW" + poid[-20:], payable, "R" + poid)
        params: list[Any] = []

        def values(spec: Any, rows: list[tuple[Any, ...]], refs: dict[str, Any]) -> str:
            """VALUES rows of ``spec``; a column named in ``refs`` takes that SQL (an id a CTE returned), or that
            (SQL, parameters)."""
            out = []
            for row in rows:
                cells = []
                for column, value in zip(spec.columns, spec.row(row), strict=True):
                    ref = refs.get(column)
                    if isinstance(ref, tuple):
                        cells.append(ref[0])
                        params.extend(ref[1])
                    elif ref is not None:
                        cells.append(ref)
                    else:
                        cells.append("%s")
                        params.append(value)
                out.append("(" + ",".join(cells) + ")")
            return ",".join(out)

        def insert(spec: Any, rows: list[tuple[Any, ...]], refs: dict[str, Any], end: str = "") -> str:
            return f"INSERT INTO {spec.table} ({','.join(spec.columns)}) VALUES {values(spec, rows, refs)}{end}"

        order_ref = {"order_id": "(SELECT id FROM o)"}
        per_sku: dict[int, int] = {}
        for ln in lines:
            per_sku[self.skus[ln["sku_code"]]] = per_sku.get(self.skus[ln["sku_code"]], 0) + int(ln["quantity"])
        ctes = [
            "c AS ("
            + insert(
                self.t_customer, [(ch, p["buyer"]["platform_buyer_id"], now)], {},
                " ON CONFLICT (channel_id, platform_buyer_id) DO UPDATE SET platform_buyer_id = "
                "EXCLUDED.platform_buyer_id RETURNING id",
            )
            + ")",
            "o AS ("
            + insert(
                self.t_order,
                [("RAW" + poid[-20:], ch, "R" + poid, Jsonb(["R" + poid]), "online", "pending_review", "paid", None,
                  r["name"], r["phone"], r["province"], r["city"], r["address"], sum(cents), discount, shipping,
                  payable, payable, now, now, now, now)],
                {"customer_id": "(SELECT id FROM c)"}, " RETURNING id",
            )
            + ")",
            "l AS ("
            + insert(
                self.t_line,
                [(None, i + 1, self.skus[ln["sku_code"]], ln["platform_line_id"], int(ln["quantity"]),
                  round(float(ln["unit_price"]) * 100), cents[i], shares[i], ship[i], cents[i] - shares[i] + ship[i])
                 for i, ln in enumerate(lines)],
                order_ref, " RETURNING id, sku_id, quantity",
            )
            + ")",
            "f AS (" + insert(self.t_ref, [(None, ch, "R" + poid)], order_ref) + ")",
            "y AS ("
            + insert(self.t_pay, [(None, "alipay", "R" + p["payment"]["transaction_id"], payable, now, now)], order_ref)
            + ")",
            "e AS ("
            + insert(
                self.t_event,
                [(None, now, "created", "", "new"), (None, now, "status_changed", "new", "pending_review")],
                order_ref,
            )
            + ")",
            "a AS ("
            + insert(
                self.t_audit,
                [(log.at, log.actor_name, log.action, log.object_type, None, log.object_repr, Jsonb(log.after),
                  log.via, None)],
                {"object_id": "(SELECT id::text FROM o)",
                 "content_hash": ("encode(sha256(convert_to(%s || to_jsonb((SELECT id FROM o)::text)::text || %s,"
                                  " 'UTF8')), 'hex')", [head, tail])},
            )
            + ")",
            "s AS (" + TAKE_STOCK + ")",
        ]  # fmt: skip
        res = self.t_res
        params += [list(per_sku), list(per_sku.values()), ch, ch, now, *res.defaults]
        defaults = "".join(", %s" for _ in res.defaults)
        sql = (
            "WITH " + ",\n".join(ctes) + f"\nINSERT INTO {res.table} ({','.join(res.columns)}) "
            f"SELECT 'order_line', l.id, 'channel', 'sales', l.sku_id, %s, l.quantity, 'active', %s{defaults} FROM l"
        )
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
        self.statements += 1


# ------------------------------------------------------------------------------------------------ HTTP


def _serve(sock: socket.socket) -> None:
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

    from django.core.wsgi import get_wsgi_application

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    # The socket is bound and listening already, shared by the server processes (the kernel hands each
    # connection to one of them).
    server = WSGIServer(sock.getsockname(), Quiet, bind_and_activate=False)
    server.socket.close()
    server.socket = sock
    server.server_name, server.server_port = "127.0.0.1", sock.getsockname()[1]
    server.setup_environ()
    server.set_app(get_wsgi_application())
    server.serve_forever()


def _http_worker(port: int, token: str, payloads: list[dict[str, Any]], queue: Any) -> None:
    import http.client

    times = []
    for p in payloads:
        body = json.dumps(p)
        t0 = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request(
            "POST", "/api/v1/orders", body=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )  # fmt: skip
        response = conn.getresponse()
        response.read()
        conn.close()
        if response.status != 201:
            raise RuntimeError(f"HTTP {response.status}")
        times.append(time.perf_counter() - t0)
    queue.put({"times": times})


def _token() -> str:
    from django.contrib.auth.models import Group
    from django.db import transaction

    from oms.accounts.models import Operator
    from oms.accounts.tokens import api_token_create

    with transaction.atomic():
        op, _ = Operator.objects.get_or_create(username="bench-api")
        op.groups.add(Group.objects.get(name="administrator"))
        _t, plaintext = api_token_create(operator=op, name=f"bench {datetime.now(UTC):%H%M%S%f}")
    return plaintext


def run_http(payloads: list[dict[str, Any]], *, servers: int = 2, clients: int = 2) -> dict[str, Any]:
    from django.db import connections

    token = _token()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    serving = [ctx.Process(target=_serve, args=(sock,), daemon=True) for _ in range(servers)]
    for proc in serving:
        proc.start()
    try:
        queue = ctx.Queue()
        warm = payloads[: 2 * servers]
        for p in warm:  # untimed: each server process loads the application and connects
            _http_worker(port, token, [p], queue)
            queue.get()
        rest = payloads[len(warm) :]
        procs = [ctx.Process(target=_http_worker, args=(port, token, rest[k::clients], queue)) for k in range(clients)]
        start = time.perf_counter()
        for proc in procs:
            proc.start()
        parts = [queue.get() for _ in procs]
        elapsed = time.perf_counter() - start
        for proc in procs:
            proc.join()
    finally:
        for proc in serving:
            proc.terminate()
            proc.join()
        sock.close()
    return {**_summary(len(rest), elapsed, parts), "servers": servers, "clients": clients}


def run(*, orders: int = 2_000, seed: int = 2026) -> dict[str, Any]:
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("The single-order benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…")
    _channel, skus = setup_master_data()
    codes = [s.code for s in skus]
    stamp = datetime.now(UTC).strftime("S%y%m%d%H%M%S")

    def batch(tag: str) -> list[dict[str, Any]]:
        return make_payloads(n=orders, run=stamp + tag, sku_codes=codes, seed=seed)

    runs = {
        "in process, 1 process": _fan_out(_in_process_worker, batch("a"), 1),
        "in process, 2 processes": _fan_out(_in_process_worker, batch("b"), 2),
        "in process, general path, 2 processes": _fan_out(_general_worker, batch("g"), 2),
        "HTTP, 2 servers, 2 clients": run_http(batch("h")),
        "raw psycopg, 1 process": _fan_out(_raw_worker, batch("r"), 1),
        "raw psycopg, 2 processes": _fan_out(_raw_worker, batch("s"), 2),
        "raw psycopg one round trip, 1 process": _fan_out(_raw_one_trip_worker, batch("t"), 1),
        "raw psycopg one round trip, 2 processes": _fan_out(_raw_one_trip_worker, batch("u"), 2),
    }
    two = runs["in process, 2 processes"]["orders_per_s"]
    result = {
        "benchmark": "single-order intake",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": "PostgreSQL {}.{}".format(*divmod(connection.cursor().connection.info.server_version, 10000)),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "orders_per_run": orders,
        "runs": runs,
        "ratio_to_raw_2_processes": round(two / runs["raw psycopg, 2 processes"]["orders_per_s"], 3),
        "ratio_to_raw_one_trip_2_processes": round(
            two / runs["raw psycopg one round trip, 2 processes"]["orders_per_s"], 3
        ),
        "http_to_in_process_2": round(runs["HTTP, 2 servers, 2 clients"]["orders_per_s"] / two, 3),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"single-{stamp}.json"
    for target in (path, RESULTS / "single-latest.json"):
        target.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    result["path"] = str(path)
    return result


def table(result: dict[str, Any]) -> str:
    cols = ("orders_per_s", "p50_ms", "p99_ms", "statements_per_order", "round_trips_per_order")
    lines = [
        f"Single-order intake, {result['orders_per_run']} orders per run, load average {result['load_average']}",
        "| run | orders/s | p50 ms | p99 ms | SQL statements / order | round trips / order |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in result["runs"].items():
        lines.append("| " + " | ".join([name, *(str(r[c]) for c in cols)]) + " |")
    lines.append(
        f"\nin process (2) / raw (2) = {result['ratio_to_raw_2_processes']}; "
        f"in process (2) / raw one round trip (2) = {result['ratio_to_raw_one_trip_2_processes']}; "
        f"HTTP / in process (2) = {result['http_to_in_process_2']}"
    )
    return "\n".join(lines)
