"""The periodic tasks are scheduled and do the work (eagerly in process when no broker is configured)."""

from __future__ import annotations

from django.conf import settings

from oms.fulfillment import tasks
from oms.orders.models import Order
from oms.testing.fulfillment import World


def test_beat_schedules_the_pipeline_and_stockouts() -> None:
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"fulfillment.pipeline", "fulfillment.stockouts"} <= scheduled


def test_tasks_advance_orders_and_resolve_stockouts(world: World) -> None:
    world.receive(world.hz, "TEA-001", 1)
    order = world.order([("TEA-001", 2)])
    result = tasks.pipeline.apply().get()
    assert (result["reviewed"], result["allocated"], result["short"]) == (1, 1, 1)
    assert Order.objects.get(pk=order.pk).status == "pending_review"
    world.receive(world.hz, "TEA-001", 1)
    assert tasks.stockouts.apply(kwargs={"sku_ids": [world.skus["TEA-001"].pk]}).get()["resolved"] == 1
    assert Order.objects.get(pk=order.pk).status == "pending_dispatch"
    assert tasks.pipeline.apply().get()["dispatched"] == 1
