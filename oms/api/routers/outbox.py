"""The outbox: what was sent to webhook endpoints, what is waiting, the dead letters, and retrying them."""

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from oms.api.auth import require_perm
from oms.api.types import Id
from oms.core.errors import NotFound
from oms.outbox.models import MessageState, OutboxMessage
from oms.outbox.selectors import outbox_message_list
from oms.outbox.services import outbox_message_retry

router = Router(tags=["outbox"])


class MessageFilter(Schema):
    state: MessageState | None = None
    topic: str = ""
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


class MessageOut(Schema):
    id: int
    event_id: UUID
    topic: str
    aggregate_type: str
    aggregate_id: str
    endpoint: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, object]

    @staticmethod
    def resolve_endpoint(obj: OutboxMessage) -> str:
        return obj.endpoint.name


class MessagePage(Schema):
    count: int
    items: list[MessageOut]


class RetryIn(Schema):
    reason: str = Field("", max_length=500)


def _get(message_id: Id) -> OutboxMessage:
    message = outbox_message_list().filter(pk=message_id).first()
    if message is None:
        raise NotFound(f"No outbox message {message_id}.")
    return message


@router.get("/outbox/messages", response=MessagePage)
@require_perm("outbox.view_outboxmessage")
def message_list(request: HttpRequest, filters: Query[MessageFilter]) -> dict[str, object]:
    qs = outbox_message_list(state=filters.state.value if filters.state else "", topic=filters.topic)
    return {"count": qs.count(), "items": list(qs[filters.offset : filters.offset + filters.limit])}


@router.get("/outbox/messages/{message_id}", response=MessageOut)
@require_perm("outbox.view_outboxmessage")
def message_detail(request: HttpRequest, message_id: Id) -> OutboxMessage:
    return _get(message_id)


@router.post("/outbox/messages/{message_id}/retry", response=MessageOut)
@require_perm("outbox.retry_outboxmessage")
def message_retry(request: HttpRequest, message_id: Id, body: RetryIn) -> OutboxMessage:
    """Give a dead-letter message a fresh set of attempts (409 unless it is dead)."""
    outbox_message_retry(message=_get(message_id), actor=request.user, reason=body.reason)
    return _get(message_id)
