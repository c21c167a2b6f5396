"""Reads for the console and API: shops with their status, recent pulls, failed items, pulled orders."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.utils import timezone

from oms.connectors.models import PulledOrder, PullItem, PullItemState, PullRun, Shop, WriteBack


def shop_list() -> QuerySet[Shop]:
    failed = (
        PullItem.objects.filter(shop=OuterRef("pk"), state=PullItemState.FAILED)
        .values("shop")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Shop.objects.select_related("channel")
        .annotate(failed_items=Subquery(failed, output_field=IntegerField()))
        .order_by("channel__code")
    )


def shop_get(*, pk: int) -> Shop:
    return Shop.objects.select_related("channel").get(pk=pk)


def shop_token_expiring(shop: Shop) -> bool:
    """The token runs out within the warning period (OMS_CONNECTORS_TOKEN_WARN_DAYS) or already has."""
    if shop.token_expires_at is None:
        return False
    warn = timedelta(days=float(settings.OMS_CONNECTORS["TOKEN_WARN_DAYS"]))
    return shop.token_expires_at <= timezone.now() + warn


def shop_runs(*, shop: Shop, limit: int = 20) -> list[PullRun]:
    return list(PullRun.objects.filter(shop=shop).order_by("-started_at", "-id")[:limit])


def shop_failed_items(*, shop: Shop, limit: int = 100) -> list[PullItem]:
    return list(PullItem.objects.filter(shop=shop, state=PullItemState.FAILED).order_by("-updated_at")[:limit])


def shop_pulled_orders(*, shop: Shop, limit: int = 50) -> list[PulledOrder]:
    return list(
        PulledOrder.objects.filter(shop=shop).select_related("order").order_by("-last_pulled_at", "-id")[:limit]
    )


def shop_write_backs(*, shop: Shop, limit: int = 50) -> list[WriteBack]:
    """Recent write-backs, failed ones first (the outbox is retrying them)."""
    return list(WriteBack.objects.filter(shop=shop).order_by("state", "-updated_at")[:limit])
