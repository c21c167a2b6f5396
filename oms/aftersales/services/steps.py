"""One step of a case: its timeline event (with the outbox event ``aftersales.<kind>``) and, for a move
through the state machine, the new status and the operation-log row. Shared by every case service."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from oms.aftersales import actions
from oms.aftersales.domain import states
from oms.aftersales.models import Case, CaseEvent
from oms.audit.services import audit_record
from oms.core.actors import Actor, actor_name, actor_user
from oms.outbox.services import outbox_publish


def case_event(case: Case, kind: str, actor: Actor, *, before: str = "", note: str = "", data: Any = None) -> None:
    """The case timeline's row and the outbox event ``aftersales.<kind>``."""
    CaseEvent.objects.create(
        case=case,
        kind=kind,
        from_status=before,
        to_status=case.status,
        actor=actor_user(actor),
        actor_name=actor_name(actor),
        note=note[:500],
        data=data,
    )
    outbox_publish(
        topic=f"aftersales.{kind}",
        aggregate=case,
        payload={
            "case": case.number,
            "order": case.order.number,
            "kind": case.kind,
            "status": case.status,
            "refund_minor": case.refund_minor,
            "settled_minor": case.settled_minor,
            "currency": case.currency,
            **({"linked_order": case.linked_order.number} if case.linked_order is not None else {}),
        },
    )


def case_move(case: Case, action: str, actor: Actor, *, note: str = "", data: Any = None) -> None:
    """Take a locked case one step through its kind's state machine (409 when the table forbids it), saved,
    in its timeline, the outbox and the operation log."""
    before = case.status
    case.status = states.action_check(case.kind, case.status, action)
    case.updated_at = timezone.now()
    case.save()
    case_event(case, action, actor, before=before, note=note, data=data)
    audit_record(
        actor=actor,
        action=actions.CASE_STEP[action],
        obj=case,
        before={"status": before},
        after={"status": case.status, **({"data": data} if data else {})},
        reason=note,
    )
