"""The hot path of channel sales reservation on PostgreSQL: one SQL statement for many lines.

Order intake reserves plain SKUs for new lines far more often than anything else, and on a best-selling SKU
(爆款) every transaction queues on the same ChannelStock row. What matters there is how long the row stays
locked, so this path sends two statements in one round trip: the first locks the rows in the global order
(channel, SKU); the second plans the grants first come first served in request order (what `plan_grants`
does for plain SKUs, as a running sum) and writes the counters, the pushed figure, the change log and the
ledger rows — leaving only the COMMIT inside the lock, much like a bare conditional UPDATE. The pushed figure
is computed in SQL the way `pushed_figure` does it; `stock_verify` checks every row against the Python
definition.

Why two statements and not one: under READ COMMITTED a single statement that locks in a CTE and updates the
same rows can plan on values older than the ones it locked (the concurrency test caught over-grants). The
second statement takes its snapshot after the locks are held, so it reads exactly what was locked.

Lines it cannot take — bundles, lines that already hold a reservation, SKUs with no channel-stock row yet —
come back unplanned and go through the general path in the same transaction.

A call made with no transaction open (`reserve_on_its_own`) needs no client turn inside the lock at all: its
statement takes the row with SKIP LOCKED, writes, and is committed by a COMMIT sent with it. If another caller
holds the row it queues instead, and the queue function set up here with the prepared statements
(`_queue_function`) grants the waiting requests in batches — see `oms.inventory.services.hot_reserve`.
Everything here keeps state in the database session; ``OMS_STOCK_FAST_PATH=0`` turns it off.
"""

from __future__ import annotations

import secrets
import weakref
from collections.abc import Sequence
from typing import Any

from django.db import connection

from oms.channels.models import AvailabilityChange, ChannelStock
from oms.inventory.domain.reservation import ReserveRequest
from oms.inventory.models import Reservation, ReservationRequest

BIGINT_MAX = 9_223_372_036_854_775_807
QUEUE_FUNCTION = "pg_temp.oms_hot_reserve"  # session-local, created with the prepared statements


def _pushed_sql(available: str) -> str:
    figure = f"LEAST(GREATEST({available} - cs.safety_stock, 0), COALESCE(cs.max_quantity, {BIGINT_MAX}))"
    return f"(CASE WHEN {figure} < cs.min_quantity THEN 0 ELSE {figure} END)"


def _take_and_log(delta: str, log_table: str) -> str:
    """The SET clause that adds ``delta`` to the sales reserved and restamps the pushed figure (as
    `channel_stock_apply` does), the RETURNING both statements read, and the change-log insert of the rows
    whose pushed figure changed — shared by the planning and the one-row statements."""
    pushed = _pushed_sql(f"(cs.quota - cs.sales_reserved - {delta} - cs.return_reserved)")
    return f"""SET sales_reserved = cs.sales_reserved + {delta},
        pushed = {pushed},
        pushed_at = CASE WHEN {pushed} <> cs.pushed OR cs.pushed_at IS NULL THEN now() ELSE cs.pushed_at END,
        updated_at = now()
    {{where}}
    RETURNING cs.channel_id, cs.sku_id, cs.quota - cs.sales_reserved - cs.return_reserved AS available, cs.pushed,
              cs.pushed_at = now() AS changed
), log AS (
    INSERT INTO {log_table} (channel_id, sku_id, available, pushed, created_at)
    SELECT channel_id, sku_id, available, pushed, now() FROM upd WHERE changed"""  # noqa: S608 - our table name


def _lock_statement() -> str:
    cs_table = ChannelStock._meta.db_table
    return f"""
SELECT cs.id FROM {cs_table} cs
WHERE (cs.channel_id, cs.sku_id) IN (SELECT * FROM unnest(%s::bigint[], %s::bigint[]))
ORDER BY cs.channel_id, cs.sku_id
FOR NO KEY UPDATE OF cs
"""  # noqa: S608 - table names are ours; every value is a parameter


def _plan_and_write(requests: str, *, held_by: str, tail: str) -> str:
    """The CTEs that plan grants first come first served over ``requests`` (a query of ``ord, ref_type, ref_id,
    channel_id, sku_id, quantity``) on rows the caller has locked, then write counters, pushed figure, change
    log and ledger rows; ``tail`` is the statement's last part, reading ``plan``. Requests whose ``held_by``
    key (columns of ``req``) already holds an active reservation are left unplanned. That look-up is a
    subquery in the select list, so it stays one probe of the one-active-row unique index per request: written
    as a join (or an EXISTS, which PostgreSQL turns into one), the planner, which cannot count the requests,
    chose to walk every active sales reservation."""
    cs_table = ChannelStock._meta.db_table
    res_table = Reservation._meta.db_table
    log_table = AvailabilityChange._meta.db_table
    take = _take_and_log("tot.total", log_table).format(where="FROM tot\n    WHERE cs.id = tot.cs_id")
    return f"""
WITH req AS ({requests}
), locked AS (
    SELECT cs.id, cs.channel_id, cs.sku_id, GREATEST(cs.quota - cs.sales_reserved - cs.return_reserved, 0) AS free
    FROM {cs_table} cs
    WHERE (cs.channel_id, cs.sku_id) IN (SELECT channel_id, sku_id FROM req)
), held AS (
    SELECT DISTINCT {held_by} FROM (
        SELECT req.*, (SELECT true FROM {res_table} x
                       WHERE x.ref_type = req.ref_type AND x.ref_id = req.ref_id AND x.kind = 'sales'
                         AND x.sku_id = req.sku_id AND x.state = 'active' AND x.scope = 'channel') AS holds
        FROM req
    ) req WHERE req.holds
), plan AS MATERIALIZED (
    SELECT req.ord, req.ref_type, req.ref_id, req.channel_id, req.sku_id, locked.id AS cs_id,
           GREATEST(LEAST(req.quantity, locked.free - COALESCE(SUM(req.quantity) OVER (
               PARTITION BY locked.id ORDER BY req.ord ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)), 0)
               AS granted
    FROM req JOIN locked ON locked.channel_id = req.channel_id AND locked.sku_id = req.sku_id
    WHERE ({held_by}) NOT IN (SELECT * FROM held)
), tot AS (
    SELECT cs_id, SUM(granted) AS total FROM plan GROUP BY cs_id HAVING SUM(granted) > 0
), upd AS (
    UPDATE {cs_table} cs
    {take}
), ins AS (
    INSERT INTO {res_table} (ref_type, ref_id, scope, kind, sku_id, channel_id, warehouse_id, quantity, state,
                             reason, created_at, closed_at)
    SELECT ref_type, ref_id, 'channel', 'sales', sku_id, channel_id, NULL, granted, 'active', '', now(), NULL
    FROM plan WHERE granted > 0
)
{tail}"""  # noqa: S608 - table names are ours; every value is a parameter


def _reserve_statement() -> str:
    """The planning statement of a call: its lines as arrays; a (channel, SKU) any line of which holds a
    reservation is left to the general path whole (the general path plans it in the call's order)."""
    return _plan_and_write(
        """
    SELECT * FROM unnest(%s::int[], %s::varchar[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[])
        AS r(ord, ref_type, ref_id, channel_id, sku_id, quantity)""",
        held_by="req.channel_id, req.sku_id",
        tail="SELECT ord, granted FROM plan",
    )


def _whole_statement(*, one_line: bool, skip_locked: bool = False) -> str:
    """Every line of the call on one (channel, SKU) row, granted in full or not at all, in one conditional
    UPDATE — the row is locked only from this statement to COMMIT, like the bare UPDATE baseline. PostgreSQL
    re-checks the WHERE on the newest row version once the lock is free, so "free >= total" is decided on
    what is locked. When it is not updated the statement reports the row's free units (as of its start) and
    whether a line already holds a reservation, so the caller knows whether to try the general way.

    ``skip_locked`` (a call on its own, no transaction open): the row is locked with SKIP LOCKED first, and
    only when it had room for the call (a sold-out call locks nothing, so its COMMIT flushes nothing). A call
    that finds another caller holding the row, or room for part of it only, updates nothing and — unless the
    row is sold out or a line already holds units — writes its lines to the queue of `hot_reserve` instead of
    waiting its turn for the lock."""
    cs_table = ChannelStock._meta.db_table
    res_table = Reservation._meta.db_table
    log_table = AvailabilityChange._meta.db_table
    # One line (the common case): every column of the one-active-row unique index is compared for equality,
    # so the look-up is that index's single entry whatever the statistics say. With ANY over two arrays the
    # planner may use the index on its first column only and walk every active row of the SKU.
    refs = (
        "x.ref_type = (%(ref_types)s::varchar[])[1] AND x.ref_id = (%(ref_ids)s::bigint[])[1]"
        if one_line
        else "x.ref_type = ANY(%(ref_types)s::varchar[]) AND x.ref_id = ANY(%(ref_ids)s::bigint[])"
    )
    held = f"""EXISTS (SELECT 1 FROM {res_table} x
                  WHERE {refs}
                    AND x.kind = 'sales' AND x.sku_id = %(sku)s::bigint AND x.state = 'active'
                    AND x.scope = 'channel')"""  # noqa: S608 - our table name; values are parameters
    this_row = "cs.channel_id = %(channel)s::bigint AND cs.sku_id = %(sku)s::bigint"
    take = _take_and_log("%(total)s::bigint", log_table).format(
        where=("FROM lk WHERE cs.id = lk.id" if skip_locked else f"WHERE {this_row}")
        + f"""
      AND cs.quota - cs.sales_reserved - cs.return_reserved >= %(total)s::bigint AND NOT {held}"""
    )
    queue = ReservationRequest._meta.db_table
    lk = f"""lk AS (
    SELECT cs.id FROM {cs_table} cs
    WHERE {this_row} AND cs.quota - cs.sales_reserved - cs.return_reserved >= %(total)s::bigint
    FOR NO KEY UPDATE SKIP LOCKED
), queued AS (
    INSERT INTO {queue} (caller, channel_id, sku_id, ref_type, ref_id, quantity, created_at)
    SELECT %(caller)s::bigint, %(channel)s::bigint, %(sku)s::bigint, r.ref_type, r.ref_id, r.quantity, now()
    FROM unnest(%(lines_ref_types)s::varchar[], %(lines_ref_ids)s::bigint[], %(lines_qty)s::bigint[])
        AS r(ref_type, ref_id, quantity)
    WHERE NOT EXISTS (SELECT 1 FROM lk) AND NOT {held}
      AND EXISTS (SELECT 1 FROM {cs_table} cs
                  WHERE {this_row} AND cs.quota - cs.sales_reserved - cs.return_reserved > 0)
), """  # noqa: S608 - our table names; values are parameters
    return f"""
WITH {lk if skip_locked else ""}upd AS (
    UPDATE {cs_table} cs
    {take}
), ins AS (
    INSERT INTO {res_table} (ref_type, ref_id, scope, kind, sku_id, channel_id, warehouse_id, quantity, state,
                             reason, created_at, closed_at)
    SELECT r.ref_type, r.ref_id, 'channel', 'sales', upd.sku_id, upd.channel_id, NULL, r.quantity, 'active', '',
           now(), NULL
    FROM unnest(%(lines_ref_types)s::varchar[], %(lines_ref_ids)s::bigint[], %(lines_qty)s::bigint[])
        AS r(ref_type, ref_id, quantity), upd
)
SELECT (SELECT count(*) FROM upd),
       (SELECT cs.quota - cs.sales_reserved - cs.return_reserved FROM {cs_table} cs
        WHERE cs.channel_id = %(channel)s::bigint AND cs.sku_id = %(sku)s::bigint),
       {held},
       {"NOT EXISTS (SELECT 1 FROM lk)" if skip_locked else "false"}
"""  # noqa: S608 - table names are ours; every value is a parameter


def _queue_function() -> str:
    """The session-local function that grants every request waiting on one (channel, SKU) row in one batch;
    see `oms.inventory.services.hot_reserve`."""
    queue = ReservationRequest._meta.db_table
    cs_table = ChannelStock._meta.db_table
    batch = _plan_and_write(
        f"""
    SELECT ord, ref_type, ref_id, channel_id, sku_id, quantity FROM (
        SELECT q.id AS ord, q.ref_type, q.ref_id, q.channel_id, q.sku_id, q.quantity,
               row_number() OVER (PARTITION BY q.ref_type, q.ref_id ORDER BY q.id) AS nth
        FROM {queue} q
        WHERE q.channel_id = p_channel AND q.sku_id = p_sku AND q.granted IS NULL
    ) waiting WHERE nth = 1""",  # noqa: S608 - our table name
        held_by="req.ref_type, req.ref_id",
        tail=f"""UPDATE {queue} q SET granted = COALESCE(stamp.granted, -1)
    FROM (SELECT w.id, plan.granted FROM {queue} w LEFT JOIN plan ON plan.ord = w.id
          WHERE w.channel_id = p_channel AND w.sku_id = p_sku AND w.granted IS NULL) stamp
    WHERE q.id = stamp.id""",  # noqa: S608 - our table name
    )
    # SET enable_seqscan = off: the queue is empty whenever autovacuum takes its statistics, so the planner
    # would scan it whole — and past the dead rows of every request since the last vacuum — on each look-up;
    # every look-up in here has an index (measured: a designated hot SKU ran at 0.55× instead of 1.0×).
    return f"""
CREATE FUNCTION {QUEUE_FUNCTION}(p_caller bigint, p_channel bigint, p_sku bigint)
RETURNS TABLE (line_type varchar, line_id bigint, units bigint) LANGUAGE plpgsql
SET enable_seqscan = off AS $fn$
DECLARE
    turn bigint := hashtextextended('oms.hot_reserve:' || p_channel || ':' || p_sku, 0);
    busy bigint := hashtextextended('oms.hot_reserve:' || p_channel || ':' || p_sku, 1);
    waited_from timestamptz;
    lock_wait text := current_setting('lock_timeout');
BEGIN
    -- Session-level locks are taken only for the waiters' instant below; one left behind by a call cancelled
    -- in that instant would keep every later batch from taking "busy". Drop any this session still holds.
    PERFORM pg_advisory_unlock_all();
    WHILE EXISTS (SELECT 1 FROM {queue} w WHERE w.caller = p_caller AND w.granted IS NULL) LOOP
        IF pg_try_advisory_xact_lock(turn) THEN
            -- "busy" tells waiters a batch is on its way. Waiters hold it shared only for an instant; one that
            -- does not let go (another session's leftover) must not stop the batch: then go on without it.
            BEGIN
                PERFORM set_config('lock_timeout', '200ms', true);
                PERFORM pg_advisory_xact_lock(busy);
            EXCEPTION WHEN lock_not_available THEN
                NULL;
            END;
            PERFORM set_config('lock_timeout', lock_wait, true);
            PERFORM 1 FROM {cs_table} cs WHERE cs.channel_id = p_channel AND cs.sku_id = p_sku FOR NO KEY UPDATE;
            BEGIN
                {batch};
            EXCEPTION WHEN OTHERS THEN
                -- A request the batch cannot write must not fail the others: all go the general way, each on
                -- its own, where an error reaches only its own caller.
                UPDATE {queue} w SET granted = -1
                WHERE w.channel_id = p_channel AND w.sku_id = p_sku AND w.granted IS NULL;
            END;
            EXIT;
        END IF;
        -- Another caller is granting a batch: wait until it has committed (every waiter wakes at once), then
        -- look again. Waiters share "busy" only for an instant, and never touch "turn", so a caller always
        -- gets the next turn. If the wait was no wait at all (the batch has not taken "busy" yet, or went on
        -- without it), pause a moment rather than spin.
        waited_from := clock_timestamp();
        PERFORM pg_advisory_lock_shared(busy);
        PERFORM pg_advisory_unlock_shared(busy);
        IF clock_timestamp() - waited_from < interval '50 microseconds' THEN
            PERFORM pg_sleep(0.0002);
        END IF;
    END LOOP;
    RETURN QUERY DELETE FROM {queue} w WHERE w.caller = p_caller RETURNING w.ref_type, w.ref_id, w.granted;
END
$fn$;
"""  # noqa: S608 - table names are ours; every value is a parameter


def _numbered(sql: str, names: Sequence[str] = ()) -> str:
    """``%s`` (in order) or ``%(name)s`` (by position in ``names``) placeholders → ``$1, $2 …`` for PREPARE."""
    for k, name in enumerate(names, start=1):
        sql = sql.replace(f"%({name})s", f"${k}")
    parts = sql.split("%s")
    return "".join(part + (f"${i}" if i < len(parts) else "") for i, part in enumerate(parts, start=1))


LOCK_NAME, RESERVE_NAME, WHOLE_NAME = "oms_fast_reserve_lock", "oms_fast_reserve_write", "oms_fast_reserve_whole"
WHOLE_ONE_NAME = "oms_fast_reserve_whole_one"
ALONE_NAME, ALONE_ONE_NAME = "oms_fast_reserve_alone", "oms_fast_reserve_alone_one"  # SKIP LOCKED variants
WHOLE_PARAMS = ("total", "ref_types", "ref_ids", "sku", "channel", "lines_ref_types", "lines_ref_ids", "lines_qty")
ALONE_PARAMS = (*WHOLE_PARAMS, "caller")
_prepared: weakref.WeakSet[object] = weakref.WeakSet()  # the psycopg connections that hold the statements


def pending_session_setup() -> str:
    """The PREPAREs (and the queue function) this session still needs, to be sent ahead of the first
    EXECUTE: the statements are
    prepared once per database session so the planner does not run inside the lock on every call (the write
    statement takes about a millisecond to plan). A prepared statement outlives rollbacks and lasts as long
    as the session; behind a transaction-pooling proxy, turn this path off (``OMS_STOCK_FAST_PATH=0``)."""
    if connection.connection in _prepared:
        return ""
    return (
        f"PREPARE {LOCK_NAME} AS {_numbered(_lock_statement())};\n"
        f"PREPARE {RESERVE_NAME} AS {_numbered(_reserve_statement())};\n"
        f"PREPARE {WHOLE_NAME} AS {_numbered(_whole_statement(one_line=False), WHOLE_PARAMS)};\n"
        f"PREPARE {WHOLE_ONE_NAME} AS {_numbered(_whole_statement(one_line=True), WHOLE_PARAMS)};\n"
        f"PREPARE {ALONE_NAME} AS {_numbered(_whole_statement(one_line=False, skip_locked=True), ALONE_PARAMS)};\n"
        f"PREPARE {ALONE_ONE_NAME} AS {_numbered(_whole_statement(one_line=True, skip_locked=True), ALONE_PARAMS)};\n"
        f"{_queue_function()}"
    )


def skip_session_setup(cursor: Any, prepare: str) -> None:
    """Step past the results of the session set-up sent ahead of a query, and remember it was done."""
    if prepare:
        _prepared.add(connection.connection)
    for _ in range(prepare.count("PREPARE ") + prepare.count("CREATE FUNCTION ")):
        cursor.nextset()


def _run(prepare: str, sql: str, params: list[Any], skip: int) -> list[tuple[Any, ...]]:
    """Send the pending set-up and ``sql`` as one query; rows of the statement after ``skip`` others."""
    with connection.cursor() as cursor:
        cursor.execute(prepare + sql, params)
        skip_session_setup(cursor, prepare)
        for _ in range(skip):
            cursor.nextset()
        return list(cursor.fetchall())


def _whole_values(requests: Sequence[ReserveRequest]) -> dict[str, Any]:
    first = requests[0]
    return {
        "total": sum(r.quantity for r in requests),
        "ref_types": sorted({r.ref_type for r in requests}),
        "ref_ids": sorted({r.ref_id for r in requests}),
        "sku": first.sku_id,
        "channel": first.channel_id,
        "lines_ref_types": [r.ref_type for r in requests],
        "lines_ref_ids": [r.ref_id for r in requests],
        "lines_qty": [r.quantity for r in requests],
        "caller": secrets.randbits(63),  # how a queued caller finds its own requests
    }


def _whole_outcome(requests: Sequence[ReserveRequest], updated: int, free: Any, held: bool) -> dict[int, int] | None:
    if updated:
        return {i: r.quantity for i, r in enumerate(requests)}
    if not held and free is not None and int(free) <= 0:
        return dict.fromkeys(range(len(requests)), 0)  # sold out when the statement began: short, nothing locked
    return None


def _whole(requests: Sequence[ReserveRequest], prepare: str) -> dict[int, int] | None:
    """Grant every line of a one-row call in full with one statement; None when the call needs the planning
    path (a line holds a reservation already, no channel-stock row, or only part of it can be granted)."""
    values = _whole_values(requests)
    placeholders = ", ".join(["%s"] * len(WHOLE_PARAMS))
    [(updated, free, held, _busy)] = _run(
        prepare,
        f"EXECUTE {WHOLE_ONE_NAME if len(requests) == 1 else WHOLE_NAME} ({placeholders})",
        [values[name] for name in WHOLE_PARAMS],
        0,
    )
    return _whole_outcome(requests, updated, free, held)


def queued_units(requests: Sequence[ReserveRequest], rows: Sequence[tuple[Any, ...]]) -> dict[int, int]:
    """Request index → units granted, from the queue function's rows; a line it stamped -1 (or whose request
    was swept away while its caller waited) is left out: it goes the general way."""
    units = {(ref_type, ref_id): granted for ref_type, ref_id, granted in rows}
    return {
        i: int(granted)
        for i, r in enumerate(requests)
        if (granted := units.get((r.ref_type, r.ref_id))) is not None and granted >= 0
    }


def reserve_on_its_own(requests: Sequence[ReserveRequest]) -> dict[int, int]:
    """A one-row call made with no transaction open (Django in autocommit), in one round trip of three
    statements: the SKIP LOCKED variant of `_whole_statement`, COMMIT, and the queue function.

    If the row is free, the first statement grants the lines and COMMIT ends its implicit transaction: the row
    is locked from the UPDATE to the end of COMMIT with no client turn in between — how the bare conditional
    UPDATE baseline holds it — and counter, ledger row and change log are written together or not at all. If
    another caller holds the row, the statement queues the lines instead; COMMIT makes them visible, and the
    queue function (its own implicit transaction) waits for the batch that grants them (`hot_reserve`). With
    nothing queued the function returns at once. Returns request index → units for the lines decided here;
    the others (partly grantable, already holding units, no channel row) go the transactional way."""
    connection.ensure_connection()
    prepare = pending_session_setup()
    values = _whole_values(requests)
    placeholders = ", ".join(["%s"] * len(ALONE_PARAMS))
    with connection.cursor() as cursor:
        cursor.execute(
            f"{prepare}EXECUTE {ALONE_ONE_NAME if len(requests) == 1 else ALONE_NAME} ({placeholders});\n"
            f"COMMIT;\nSELECT line_type, line_id, units FROM {QUEUE_FUNCTION}(%s, %s, %s)",
            [*(values[name] for name in ALONE_PARAMS), values["caller"], values["channel"], values["sku"]],
        )
        skip_session_setup(cursor, prepare)
        [(updated, free, held, busy)] = cursor.fetchall()
        cursor.nextset()  # COMMIT
        cursor.nextset()
        queued = cursor.fetchall()
    if busy and queued:
        return queued_units(requests, queued)
    return _whole_outcome(requests, updated, free, held) or {}


def fast_channel_reserve(requests: Sequence[ReserveRequest]) -> dict[int, int]:
    """Reserve what it can; returns request index → units granted for the lines it planned (the others go the
    general way). Must run inside the caller's transaction; PostgreSQL only.

    A call whose lines all draw on one (channel, SKU) row — a single order line most of the time — first tries
    `_whole_statement`. Otherwise (or when that cannot grant everything) two prepared statements go in one
    round trip (the client-side-binding cursor Django uses sends semicolon-separated statements as one
    query): the first locks the rows in the global order, the second — whose snapshot is taken once the locks
    are held, so it reads what was locked — plans and writes everything. Either way the only client turn
    inside a lock is the one before COMMIT."""
    keys = sorted({(r.channel_id, r.sku_id) for r in requests})
    connection.ensure_connection()
    prepare = pending_session_setup()
    if len(keys) == 1:
        done = _whole(requests, prepare)
        if done is not None:
            return done
        prepare = ""
    rows = _run(
        prepare,
        f"EXECUTE {LOCK_NAME} (%s, %s);\nEXECUTE {RESERVE_NAME} (%s, %s, %s, %s, %s, %s)",
        [
            [c for c, _s in keys],
            [s for _c, s in keys],
            list(range(len(requests))),
            [r.ref_type for r in requests],
            [r.ref_id for r in requests],
            [r.channel_id for r in requests],
            [r.sku_id for r in requests],
            [r.quantity for r in requests],
        ],
        1,
    )
    return {int(i): int(g) for i, g in rows}
