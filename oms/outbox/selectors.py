"""Reads of the outbox for the API and the console."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from oms.outbox.domain.envelope import topic_matches
from oms.outbox.models import MessageState, OutboxMessage, WebhookEndpoint


def outbox_message_list(*, state: str = "", topic: str = "") -> QuerySet[OutboxMessage]:
    """Newest first, with the endpoint joined; filter by state and/or topic (exact)."""
    qs = OutboxMessage.objects.select_related("endpoint").order_by("-id")
    if state:
        qs = qs.filter(state=state)
    if topic:
        qs = qs.filter(topic=topic)
    return qs


def outbox_state_counts() -> dict[str, int]:
    counts = {state.value: 0 for state in MessageState}
    for row in OutboxMessage.objects.order_by().values("state").annotate(n=Count("id")):
        counts[row["state"]] = row["n"]
    return counts


def outbox_has_subscriber(topic: str) -> bool:
    """Whether an active endpoint would receive an event of ``topic`` (what ``outbox_publish`` matches)."""
    return any(
        topic_matches(str(pattern), topic)
        for topics in WebhookEndpoint.objects.filter(is_active=True).values_list("topics", flat=True)
        for pattern in topics or []
    )
