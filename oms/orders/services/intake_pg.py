"""Single-order intake on PostgreSQL in one round trip: the rows `order_intake` built, written by one server-side
function (``oms_order_intake_v1``, installed by migration 0016) in one statement — its own transaction when no
transaction is open, so the channel-stock rows it locks are released by the COMMIT that ends that statement, with
no client turn inside the lock.

The rows are the very model instances the general path builds (`intake._order_build`, `rows.order_lines_build`,
`timeline.order_event_build` …), sent as JSON with their columns named; the function fills in what only the
database knows — ids, the buyer's id, the operation-log row's content hash (it covers the order's id) — and
checks, before writing anything:

* that the look-ups the caller took from its per-process cache are current (`intake_lookups`): otherwise it
  answers ``stale`` and the caller prepares the order again from fresh rows;
* that every line can be reserved in full on an existing channel-stock row: otherwise it answers ``general`` and
  the order goes the general way (which marks short lines, or refuses the order when asked to).

Then it writes the buyer (found or created), the order, lines, platform reference, payment, timeline events and
operation-log row, locks the channel-stock rows in the global order and takes each SKU's units with a conditional
UPDATE (if another intake took them in between, it raises ``OMS01`` and everything is rolled back), writes the
reservation ledger rows and the change log of the pushed figure, as `fast_reserve` does. A platform order taken
in already makes the order's unique key fail: the caller then goes the general way, which finds it and answers
as a replay. SQLite, and PostgreSQL with ``OMS["INTAKE_ONE_TRIP"]`` off, take the general path only.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, models, transaction

from oms.audit.domain.chain import CONTENT_FIELDS
from oms.audit.models import OperationLog
from oms.core.actors import Actor, actor_name, actor_user
from oms.core.context import current_context
from oms.core.db_retry import deadlocked
from oms.orders.models import Customer, Order, OrderEvent, OrderLine, OrderPlatformRef, Payment
from oms.orders.services.intake_lookups import Versions

FUNCTION = "oms_order_intake_v1"
STOCK_MOVED = "OMS01"  # the SQLSTATE the function raises when the units it saw free were taken meanwhile


class Written(enum.Enum):
    DONE = "done"
    STALE = "stale"  # a cached look-up changed: prepare again from fresh rows
    GENERAL = "general"  # short, no channel stock, taken already or lost a race: the general path decides


def one_trip_ready() -> bool:
    """Whether this connection may take the one-round-trip path."""
    return connection.vendor == "postgresql" and bool(settings.OMS.get("INTAKE_ONE_TRIP", True))


# ------------------------------------------------------------------------------------------------ rows as JSON


def _json_default(value: Any) -> str:
    """Column values JSON has no type for, as PostgreSQL reads them back (JSONField values are JSON already)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a column value intake writes")


@functools.cache
def _columns(model: type[models.Model]) -> list[tuple[str, str, models.Field[Any, Any] | None]]:
    """(column, attribute, the field when its value is computed on save) of each of the model's columns."""
    return [
        (f.column, f.attname, f if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else None)
        for f in model._meta.concrete_fields
    ]


def row_values(obj: models.Model, *, skip: Sequence[str] = ()) -> dict[str, Any]:
    """The row ``obj`` would be inserted as (columns by name, with the values `bulk_create` takes), for
    ``jsonb_populate_record`` to read into the table's row type; ``skip`` columns are left for the function."""
    return {
        column: (getattr(obj, attname) if computed is None else computed.pre_save(obj, add=True))
        for column, attname, computed in _columns(type(obj))
        if column not in skip
    }


# ------------------------------------------------------------------------------------- the operation-log row


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def audit_row(
    *, actor: Actor, action: str, object_type: str, object_repr: str, after: dict[str, Any]
) -> tuple[OperationLog, str, str]:
    """The unsaved operation-log row of an object whose id is not known yet, and the two halves of the text its
    content hash is taken over (`oms.audit.domain.chain.content_digest`: the content fields as a canonical JSON
    list), around the object id: the function hashes ``head + "<id>" + tail``."""
    ctx = current_context()
    user = actor_user(actor)
    row = OperationLog(
        at=datetime.now(UTC),
        actor=user,
        actor_name=actor_name(actor),
        action=action,
        object_type=object_type,
        object_repr=object_repr[:200],
        before=None,
        after=after,
        reason="",
        request_id=ctx.request_id,
        client_address=ctx.client_address,
        via=ctx.channel,
    )
    content = {name: getattr(row, name) for name in CONTENT_FIELDS if name not in ("actor_id", "object_id")}
    content["actor_id"] = getattr(user, "pk", None)
    content["at"] = row.at.astimezone(UTC).isoformat(timespec="microseconds")
    hole = CONTENT_FIELDS.index("object_id")
    items = [_dumps(content[name]) for name in CONTENT_FIELDS if name != "object_id"]
    head = "[" + "".join(item + "," for item in items[:hole])
    tail = "".join("," + item for item in items[hole:]) + "]"
    return row, head, tail


def audit_digest(head: str, object_id: int, tail: str) -> str:
    """The content hash the function computes (and what `content_digest` gives for the finished row)."""
    return hashlib.sha256(f'{head}"{object_id}"{tail}'.encode()).hexdigest()


# ------------------------------------------------------------------------------------------------------ write


def order_write_one_trip(
    *,
    order: Order,
    customer: Customer | None,
    lines: Sequence[OrderLine],
    payment: Payment | None,
    events: Sequence[OrderEvent],
    audit: tuple[OperationLog, str, str],
    versions: Versions,
    ref_type: str,
) -> Written:
    """Write one new order and everything intake writes with it in one round trip; on DONE the instances carry
    their ids (order, lines, buyer). Nothing is written unless DONE."""
    log, head, tail = audit
    own = ("id", "order_id")
    refs = [OrderPlatformRef(channel_id=order.channel_id, platform_order_id=pid) for pid in order.platform_order_ids]
    payload = json.dumps(
        {
            "check": versions.as_check(),
            "ref_type": ref_type,
            "customer": row_values(customer, skip=("id",)) if customer is not None else None,
            "order": row_values(order, skip=("id", "customer_id")),
            "lines": [row_values(line, skip=own) for line in lines],
            "refs": [row_values(ref, skip=own) for ref in refs],
            "payments": [row_values(payment, skip=own)] if payment is not None else [],
            "events": [row_values(event, skip=own) for event in events],
            "audit": row_values(log, skip=("id", "object_id", "content_hash")),
            "audit_head": head,
            "audit_tail": tail,
        },
        ensure_ascii=False,
        separators=(",", ":"),
        default=_json_default,
    )
    try:
        if connection.in_atomic_block:  # inside a caller's transaction: a savepoint keeps a failure to this order
            with transaction.atomic():
                result = _call(payload)
        else:
            result = _call(payload)
    except DatabaseError as exc:
        if _lost(exc):
            return Written.GENERAL
        raise
    if result.get("stale"):
        return Written.STALE
    if result.get("general"):
        return Written.GENERAL
    _saved(order, result["order_id"])
    order.customer_id = result["customer_id"]
    if customer is not None:
        _saved(customer, result["customer_id"])
    for line, pk in zip(lines, result["line_ids"], strict=True):
        _saved(line, pk)
    if payment is not None:
        payment.order_id = order.pk
    return Written.DONE


def _call(payload: str) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {FUNCTION}(%s::jsonb)", [payload])
        (result,) = cursor.fetchone()
    return result if isinstance(result, dict) else json.loads(result)


def _lost(exc: DatabaseError) -> bool:
    """A unique key taken (the platform order, or a number clash), a deadlock, or units taken meanwhile."""
    return isinstance(exc, IntegrityError) or deadlocked(exc) or getattr(exc.__cause__, "sqlstate", "") == STOCK_MOVED


def _saved(obj: models.Model, pk: int) -> None:
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias
