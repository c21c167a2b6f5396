"""The one writer of the operation log. Every service calls `audit_record` inside its transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models, transaction

from oms.audit.models import OperationLog
from oms.core.bulk import bulk_insert_columns
from oms.core.context import current_context


class AuditOutsideTransaction(RuntimeError):
    pass


def audit_record(
    *,
    actor: Any,
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
    actor: Any,
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
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return (OperationLog.objects.create if save else OperationLog)(
        actor=actor if is_user else None,
        actor_name=actor.get_username() if is_user else (str(actor) if actor else "system"),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_repr=object_repr[:200],
        before=before,
        after=after,
        reason=reason,
        request_id=ctx.request_id,
        client_address=ctx.client_address,
        via=ctx.channel,
    )


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
    actor: Any,
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
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    bulk_insert_columns(
        OperationLog,
        len(entries),
        {
            "actor_id": actor.pk if is_user else None,
            "actor_name": actor.get_username() if is_user else (str(actor) if actor else "system"),
            "action": action,
            "object_type": [obj._meta.label_lower for obj, *_ in entries],
            "object_id": [str(obj.pk) for obj, *_ in entries],
            "object_repr": [str(obj)[:200] for obj, *_ in entries],
            "before": [before for _o, before, _a, _r in entries],
            "after": [after for _o, _b, after, _r in entries],
            "reason": [reason for *_, reason in entries],
            "request_id": ctx.request_id,
            "client_address": ctx.client_address,
            "via": ctx.channel,
        },
    )
    return len(entries)
