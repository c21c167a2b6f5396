"""The customers report (客户报表): buyers who ordered in a period, how many came back (repeat buyers), the top
customers by spend and how many customers placed 1, 2, 3, 4–5 and 6+ orders.

Counts living sale orders placed in the period that were not cancelled (a split or merged order counts once,
as what replaced it), in the report's currency; spend is their payable. Three queries: the totals and the
distribution read one row per customer (the per-customer counts, grouped by the database), the top list is a
sorted, limited aggregate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from oms.orders.domain.status import Status
from oms.orders.models import Order
from oms.orders.selectors import retired_expression
from oms.reports.domain.filters import ReportFilters
from oms.reports.forms import ReportFilterForm

TOP = 20
# Orders per customer: (key, lowest, highest or None).
ORDER_COUNT_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1", 1, 1),
    ("2", 2, 2),
    ("3", 3, 3),
    ("4-5", 4, 5),
    ("6+", 6, None),
)


class CustomersFilterForm(ReportFilterForm):
    KNOWN = {"from", "to", "channel", "currency"}


def customers_filters_parse(params: Any) -> ReportFilters:
    return CustomersFilterForm(params).filters()


@dataclass(frozen=True)
class CustomerRow:
    customer_id: int
    name: str
    channel: str
    orders: int
    spend_minor: int


@dataclass
class CustomersReport:
    filters: ReportFilters
    customers: int
    repeat_customers: int
    orders: int
    spend_minor: int
    distribution: list[tuple[str, int]]  # (bucket key, customers)
    top: list[CustomerRow]

    @property
    def repeat_rate_pct(self) -> float:
        return round(100 * self.repeat_customers / self.customers, 1) if self.customers else 0.0


def customer_orders(f: ReportFilters) -> QuerySet[Order]:
    """The orders counted: living, not cancelled sale orders with a customer, placed in the period."""
    start = timezone.make_aware(datetime.combine(f.day_from, time.min))
    end = timezone.make_aware(datetime.combine(f.day_to, time.min)) + timedelta(days=1)
    qs = Order.objects.filter(
        placed_at__gte=start, placed_at__lt=end, order_type="sale", currency=f.currency, customer__isnull=False
    ).exclude(status=Status.CANCELLED.value)
    if f.channel_id:
        qs = qs.filter(channel_id=f.channel_id)
    return qs.annotate(is_retired=retired_expression()).filter(is_retired=False)


def customers_report(*, filters: ReportFilters) -> CustomersReport:
    f = filters
    per_customer = customer_orders(f).values("customer_id").annotate(n=Count("id"), spend=Sum("payable_minor"))
    buckets = dict.fromkeys((key for key, _lo, _hi in ORDER_COUNT_BUCKETS), 0)
    customers = repeat = orders = spend = 0
    for n, paid in per_customer.order_by().values_list("n", "spend").iterator(chunk_size=5000):
        customers += 1
        orders += n
        spend += paid or 0
        repeat += n >= 2
        for key, lo, hi in ORDER_COUNT_BUCKETS:
            if n >= lo and (hi is None or n <= hi):
                buckets[key] += 1
                break
    top_rows = list(
        customer_orders(f)
        .values("customer_id", "customer__name", "customer__nickname", "customer__platform_buyer_id", "channel__name")
        .annotate(n_=Count("id"), spend_=Sum("payable_minor"))
        .order_by("-spend_", "customer_id")[:TOP]
    )
    top = [
        CustomerRow(
            customer_id=r["customer_id"],
            name=r["customer__name"] or r["customer__nickname"] or r["customer__platform_buyer_id"],
            channel=r["channel__name"],
            orders=r["n_"],
            spend_minor=r["spend_"] or 0,
        )
        for r in top_rows
    ]
    return CustomersReport(
        filters=f,
        customers=customers,
        repeat_customers=repeat,
        orders=orders,
        spend_minor=spend,
        distribution=list(buckets.items()),
        top=top,
    )
