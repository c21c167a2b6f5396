"""Batched channel reservation for designated hot SKUs (爆款) on PostgreSQL.

During a flash sale thousands of callers each reserve one line of the same SKU on the same channel. One at a
time, every caller locks the same ChannelStock row, writes, and commits; the commit's disk flush sits inside
the lock, so the row serves one caller per flush. Here callers queue instead, and whoever holds the SKU's
turn grants every request waiting: one lock of the row, one counter update, one change-log row and one
commit for the whole batch.

A call (made with no transaction open, all its lines on one hot (channel, SKU) row):

1. commits its request rows (`ReservationRequest`, an unlogged table: no flush);
2. runs one statement in its own implicit transaction — a session-local PL/pgSQL function
   (``pg_temp.oms_hot_reserve``, created on first use like the hot path's prepared statements) that waits for
   the (channel, SKU) turn (a transaction advisory lock). Holding it: if the caller's requests are still
   waiting, it locks the channel-stock row, and one statement (`fast_reserve._plan_and_write`, the same SQL
   as the per-call hot path) plans every waiting request first come first served — request id order —
   writes counters, pushed figure, change log and ledger rows, and stamps each request with its grant. The
   caller's own rows are then deleted and their grants returned. A caller whose requests a previous turn
   granted does no writes: its turn is a look-up, and its commit flushes nothing.

The guarantees are the per-call path's: the row is locked before the planning statement takes its snapshot,
so grants are planned on locked values; counters, ledger and change log are written in one statement; every
other writer of the row (release, consume, re-allocation, transactional reservations) takes the same row
lock. A line that already holds a reservation (a top-up) or a duplicate request of the same line in one batch
is stamped -1 and goes the general way, as does a SKU with no channel-stock row yet.
"""

from __future__ import annotations

import secrets
import time
import weakref
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import connection
from django.utils import timezone

from oms.catalog.models import Sku
from oms.channels.models import ChannelStock
from oms.inventory.models import ReservationRequest
from oms.inventory.services.fast_reserve import _plan_and_write

if TYPE_CHECKING:
    from oms.inventory.services.reservations import ReserveRequest

HOT_SKU_TTL_S = 10.0  # how long a worker process trusts its copy of the designated hot SKUs
FUNCTION = "pg_temp.oms_hot_reserve"
_created: weakref.WeakSet[object] = weakref.WeakSet()  # psycopg connections that hold the function
_hot: tuple[float, frozenset[int]] = (float("-inf"), frozenset())


def hot_skus(*, refresh: bool = False) -> frozenset[int]:
    """Ids of the SKUs designated hot, read at most every `HOT_SKU_TTL_S` seconds per process."""
    global _hot
    read_at, ids = _hot
    now = time.monotonic()
    if refresh or now - read_at > HOT_SKU_TTL_S:
        ids = frozenset(Sku.objects.filter(is_hot=True).values_list("id", flat=True))
        _hot = (now, ids)
    return ids


def _function_sql() -> str:
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
    return f"""
CREATE FUNCTION {FUNCTION}(p_caller bigint, p_channel bigint, p_sku bigint)
RETURNS TABLE (line_type varchar, line_id bigint, units bigint) LANGUAGE plpgsql AS $fn$
DECLARE
    turn bigint := hashtextextended('oms.hot_reserve:' || p_channel || ':' || p_sku, 0);
    busy bigint := hashtextextended('oms.hot_reserve:' || p_channel || ':' || p_sku, 1);
BEGIN
    WHILE EXISTS (SELECT 1 FROM {queue} w WHERE w.caller = p_caller AND w.granted IS NULL) LOOP
        IF pg_try_advisory_xact_lock(turn) THEN
            PERFORM pg_advisory_xact_lock(busy);
            PERFORM 1 FROM {cs_table} cs WHERE cs.channel_id = p_channel AND cs.sku_id = p_sku FOR NO KEY UPDATE;
            {batch};
            EXIT;
        END IF;
        -- Another caller is granting a batch: wait until it has committed (every waiter wakes at once), then
        -- look again. Waiters share "busy" only for an instant, and never touch "turn", so a caller always
        -- gets the next turn.
        PERFORM pg_advisory_lock_shared(busy);
        PERFORM pg_advisory_unlock_shared(busy);
    END LOOP;
    RETURN QUERY DELETE FROM {queue} w WHERE w.caller = p_caller RETURNING w.ref_type, w.ref_id, w.granted;
END
$fn$;
"""  # noqa: S608 - table names are ours; every value is a parameter


def hot_channel_reserve(requests: Sequence[ReserveRequest]) -> dict[int, int]:
    """Queue the lines (all on one (channel, SKU) row) and wait for their batch; returns request index →
    units granted for the lines granted here (the others go the general way). PostgreSQL only, and only with
    no transaction open: the requests must be committed before the batch that grants them can see them."""
    if connection.in_atomic_block:
        raise RuntimeError("hot_channel_reserve runs on its own, outside any transaction")
    first = requests[0]
    connection.ensure_connection()
    create = "" if connection.connection in _created else _function_sql()
    queue = ReservationRequest._meta.db_table
    caller = secrets.randbits(63)
    # One round trip: the requests are committed (an unlogged table: nothing to flush) before the function,
    # its own implicit transaction, looks for them.
    sql = f"""
INSERT INTO {queue} (caller, channel_id, sku_id, ref_type, ref_id, quantity, created_at)
SELECT %s, %s, %s, r.ref_type, r.ref_id, r.quantity, now()
FROM unnest(%s::varchar[], %s::bigint[], %s::bigint[]) AS r(ref_type, ref_id, quantity);
COMMIT;
SELECT line_type, line_id, units FROM {FUNCTION}(%s, %s, %s)"""  # noqa: S608 - our table
    with connection.cursor() as cursor:
        cursor.execute(
            create + sql,
            [
                caller,
                first.channel_id,
                first.sku_id,
                [r.ref_type for r in requests],
                [r.ref_id for r in requests],
                [r.quantity for r in requests],
                caller,
                first.channel_id,
                first.sku_id,
            ],
        )
        if create:
            _created.add(connection.connection)
        for _ in range(create.count("CREATE FUNCTION") + 2):
            cursor.nextset()
        units = {(ref_type, ref_id): granted for ref_type, ref_id, granted in cursor.fetchall()}
    # A request swept away while its caller waited (`reservation_requests_sweep`) is not granted here either.
    return {
        i: int(granted)
        for i, r in enumerate(requests)
        if (granted := units.get((r.ref_type, r.ref_id), -1)) is not None and granted >= 0
    }


def reservation_requests_sweep(*, older_than_s: float = 600.0) -> int:
    """Delete requests older than ``older_than_s`` seconds: a caller waits for its batch for milliseconds, so
    these belong to callers that died while queued. A request still waiting is deleted ungranted (its line
    reserves nothing; the caller's retry asks again); a granted one only loses its stamp — the grant is a
    ledger row. Returns how many were deleted."""
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    deleted, _ = ReservationRequest.objects.filter(created_at__lt=cutoff).delete()
    return int(deleted)
