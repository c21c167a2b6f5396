"""Query strings of the console lists → their selectors' filters. The console's list views and the exports
parse with the same functions, so an export holds exactly the rows the list shows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time

from django.utils import timezone

from oms.orders.domain.status import Status
from oms.orders.models import OrderType
from oms.orders.selectors import SORTS, OrderFilters
from oms.reports.oplog import OperationLogFilters


def day_start(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time.min))


def parse_date(params: Mapping[str, str], name: str) -> date | None:
    try:
        value = params.get(name, "")
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def order_filters_parse(params: Mapping[str, str]) -> OrderFilters:
    """The order list's filters from its query string; unknown values are dropped, as the list drops them."""
    g = params
    status = g.get("status", "")
    order_type = g.get("type", "")
    return OrderFilters(
        status=status if status in Status._value2member_map_ else "",
        channel=g.get("channel", "")[:32],
        order_type=order_type if order_type in OrderType.values else "",
        created_from=parse_date(g, "created_from"),
        created_to=parse_date(g, "created_to"),
        paid_from=parse_date(g, "paid_from"),
        paid_to=parse_date(g, "paid_to"),
        placed_from=parse_date(g, "placed_from"),
        placed_to=parse_date(g, "placed_to"),
        province=g.get("province", "").strip()[:6],
        category=g.get("category", "").strip()[:32],
        platform_order_id=g.get("platform_order_id", "").strip()[:64],
        buyer_phone=g.get("buyer_phone", "").strip()[:32],
        sku=g.get("sku", "").strip()[:64],
        q=g.get("q", "").strip()[:64],
        living_only=g.get("living_only", "") == "1",
        numbers=tuple(n for n in g.get("numbers", "").replace(",", " ").split() if n)[:500],
        sort=g.get("sort", "") if g.get("sort", "") in SORTS else "",
    )


def operation_log_filters_parse(params: Mapping[str, str]) -> OperationLogFilters:
    return OperationLogFilters(
        operator=params.get("operator", "").strip()[:150],
        action=params.get("action", "").strip()[:64],
        object_type=params.get("object_type", "").strip()[:64],
        object_id=params.get("object_id", "").strip()[:64],
        day_from=parse_date(params, "from"),
        day_to=parse_date(params, "to"),
    )
