"""Batched channel reservation on PostgreSQL: hot SKUs (爆款) and busy channel rows.

During a flash sale thousands of callers each reserve one line of the same SKU on the same channel. One at a
time, every caller locks the same ChannelStock row, writes, and commits; the commit's disk flush sits inside
the lock, so the row serves one caller per flush. Here callers queue instead, and whoever holds the row's
turn grants every request waiting: one lock of the row, one counter update, one change-log row and one
commit for the whole batch.

Who queues: a call made with no transaction open whose lines all draw on one (channel, SKU) row, when its
SKU is designated hot (`hot_channel_reserve`, straight to the queue) or when it found the row locked by
another caller (`fast_reserve.reserve_on_its_own`, which tries the row first with SKIP LOCKED). Either way,
in one round trip: the call's request rows (`ReservationRequest`, an unlogged table: nothing to flush), COMMIT
(so other sessions see them), and the queue function (``pg_temp.oms_hot_reserve``, session-local PL/pgSQL
set up with the hot path's prepared statements) as its own implicit transaction:

* While the caller's requests are waiting, it tries the row's turn (a transaction advisory lock). Holding it,
  it locks the channel-stock row, and one statement (`fast_reserve._plan_and_write`, the planning SQL of the
  transactional path) plans every waiting request first come first served — queue order — writes counters,
  pushed figure, change log and ledger rows, and stamps each request with its grant.
* Without the turn, it waits on a second advisory lock the batch holds until it commits (every waiter wakes
  at once; waiters hold it shared only for an instant and never touch the turn, so someone always gets the
  next turn), then looks again. A caller whose requests a batch granted does no writes: its commit flushes
  nothing.
* Finally the caller's own rows are deleted and their grants returned.

The guarantees are the per-call path's: the row is locked before the planning statement takes its snapshot,
so grants are planned on locked values; counters, ledger and change log are written in one statement; every
other writer of the row (release, consume, re-allocation, transactional reservations) takes the same row
lock. A line that already holds a reservation (a top-up), a second request for the same line, or a SKU with
no channel-stock row yet is stamped -1 and goes the general way; so does every request of a batch that fails
to write, so one bad request never fails the others' callers.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from oms.catalog.models import Sku
from oms.inventory.domain.reservation import ReserveRequest
from oms.inventory.models import ReservationRequest
from oms.inventory.services.fast_reserve import QUEUE_FUNCTION, pending_session_setup, queued_units, skip_session_setup

HOT_SKU_TTL_S = 10.0  # how long a worker process trusts its copy of the designated hot SKUs
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


def hot_channel_reserve(requests: Sequence[ReserveRequest]) -> dict[int, int]:
    """Queue the lines (all on one (channel, SKU) row) and wait for their batch, in one round trip; returns
    request index → units granted for the lines granted here (the others go the general way). PostgreSQL
    only, and only with no transaction open: the requests must be committed before the batch that grants them
    can see them."""
    if connection.in_atomic_block:
        raise RuntimeError("hot_channel_reserve runs on its own, outside any transaction")
    first = requests[0]
    connection.ensure_connection()
    prepare = pending_session_setup()
    caller = secrets.randbits(63)
    queue = ReservationRequest._meta.db_table
    sql = f"""
INSERT INTO {queue} (caller, channel_id, sku_id, ref_type, ref_id, quantity, created_at)
SELECT %s, %s, %s, r.ref_type, r.ref_id, r.quantity, now()
FROM unnest(%s::varchar[], %s::bigint[], %s::bigint[]) AS r(ref_type, ref_id, quantity);
COMMIT;
SELECT line_type, line_id, units FROM {QUEUE_FUNCTION}(%s, %s, %s)"""  # noqa: S608 - our table
    with connection.cursor() as cursor:
        cursor.execute(
            prepare + sql,
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
        skip_session_setup(cursor, prepare)
        cursor.nextset()  # COMMIT
        cursor.nextset()
        return queued_units(requests, cursor.fetchall())


def reservation_requests_sweep(*, older_than_s: float = 600.0) -> int:
    """Delete requests older than ``older_than_s`` seconds: a caller waits for its batch for milliseconds, so
    these belong to callers that died while queued. A request still waiting is deleted ungranted (its line
    reserves nothing; the caller's retry asks again); a granted one only loses its stamp — the grant is a
    ledger row. Returns how many were deleted."""
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    deleted, _ = ReservationRequest.objects.filter(created_at__lt=cutoff).delete()
    return int(deleted)
