"""The one writer of the operation log. Every service calls `audit_record` inside its transaction.

Each row is written with its content hash; it is linked into the hash chain (oms.audit.domain.chain) in the
same transaction: by the database's commit-time trigger on PostgreSQL, here on SQLite (whose writers are
serialised, so reading the chain head and moving it on is safe)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from oms.audit.domain.chain import content_digest, link_hash
from oms.audit.models import ChainHead, OperationLog
from oms.core.actors import Actor, actor_name, actor_user
from oms.core.bulk import bulk_insert_columns
from oms.core.context import current_context


class AuditOutsideTransaction(RuntimeError):
    pass


def audit_record(
    *,
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> OperationLog:
    """Append one row. Must run inside the transaction that makes the change, so the change and its
    record commit or roll back together."""
    if not transaction.get_connection().in_atomic_block:
        raise AuditOutsideTransaction("audit_record must be called inside the transaction of the change")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
    return _row(actor, action, object_type, object_id, object_repr, before, after, reason)


def _row(
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int,
    object_repr: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str,
    *,
    save: bool = True,
) -> OperationLog:
    ctx = current_context()
    content: dict[str, Any] = {
        "at": timezone.now(),
        "actor_id": getattr(actor_user(actor), "pk", None),
        "actor_name": actor_name(actor),
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "object_repr": object_repr[:200],
        "before": before,
        "after": after,
        "reason": reason,
        "request_id": ctx.request_id,
        "client_address": ctx.client_address,
        "via": ctx.channel,
    }
    content["content_hash"] = content_digest(content)
    (chain,) = _links_here([content["content_hash"]]) if save else [{}]
    return (OperationLog.objects.create if save else OperationLog)(**content, **chain)


def _links_here(content_hashes: Sequence[str]) -> list[dict[str, Any]]:
    """The chain columns for new rows, in order, moving the chain head on — on databases other than PostgreSQL
    (there the commit-time trigger links the rows, and empty columns are what it expects)."""
    if connection.vendor == "postgresql":
        return [{} for _ in content_hashes]
    head, _created = ChainHead.objects.get_or_create(pk=1)
    now = timezone.now()
    links: list[dict[str, Any]] = []
    seq, prev = head.seq, head.hash
    for content_hash in content_hashes:
        seq += 1
        link = link_hash(seq, prev, content_hash)
        links.append({"seq": seq, "prev_hash": prev, "row_hash": link, "chained_at": now})
        prev = link
    ChainHead.objects.filter(pk=1).update(seq=seq, hash=prev)
    return links


def model_snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """JSON-safe values of the named fields, for before/after."""
    snap: dict[str, Any] = {}
    for name in fields:
        value = getattr(obj, name)
        if isinstance(value, models.Model):
            value = value.pk
        elif value is not None and not isinstance(value, str | int | bool | float | list | dict):
            value = str(value)
        snap[name] = value
    return snap


def audit_record_many(
    *,
    actor: Actor,
    action: str,
    entries: Sequence[tuple[models.Model, dict[str, Any] | None, dict[str, Any] | None, str]],
) -> int:
    """`audit_record` for many objects of one action in one INSERT (batch services: the fulfilment pipeline).
    ``entries`` are (object, before, after, reason). Same rows, same rule: inside the change's transaction.
    The rows are written column by column (no instance per row); returns how many."""
    if not transaction.get_connection().in_atomic_block:
        raise AuditOutsideTransaction("audit_record_many must be called inside the transaction of the change")
    if not entries:
        return 0
    ctx = current_context()
    shared: dict[str, Any] = {
        "at": timezone.now(),
        "actor_id": getattr(actor_user(actor), "pk", None),
        "actor_name": actor_name(actor),
        "action": action,
        "request_id": ctx.request_id,
        "client_address": ctx.client_address,
        "via": ctx.channel,
    }
    columns: dict[str, Any] = {
        **shared,
        "object_type": [obj._meta.label_lower for obj, *_ in entries],
        "object_id": [str(obj.pk) for obj, *_ in entries],
        "object_repr": [str(obj)[:200] for obj, *_ in entries],
        "before": [before for _o, before, _a, _r in entries],
        "after": [after for _o, _b, after, _r in entries],
        "reason": [reason for *_, reason in entries],
    }
    per_row = ("object_type", "object_id", "object_repr", "before", "after", "reason")
    columns["content_hash"] = [
        content_digest({**shared, **{name: columns[name][i] for name in per_row}}) for i in range(len(entries))
    ]
    links = _links_here(columns["content_hash"])
    if links and links[0]:
        for name in ("seq", "prev_hash", "row_hash", "chained_at"):
            columns[name] = [link[name] for link in links]
    bulk_insert_columns(OperationLog, len(entries), columns)
    return len(entries)
