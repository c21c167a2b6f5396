"""Reads of the outbox for the API and the console."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from oms.outbox.models import MessageState, OutboxMessage


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
