"""Customers API (P1): buyers per channel and their order history."""

from typing import Any

from django.http import HttpRequest
from ninja import Router

from oms.api.auth import require_perm
from oms.api.routers.order_schemas import CustomerDetailOut, CustomerOut, customer_out, order_summary
from oms.api.types import Id, PageSize
from oms.orders.models import Customer
from oms.orders.selectors import OrderFilters, customer_get, customer_list, order_list

router = Router(tags=["customers"])


@router.get("/customers", response=list[CustomerOut], summary="Find buyers by id, phone, nickname or name")
@require_perm("orders.view_customer")
def customer_index(request: HttpRequest, q: str = "", channel: str = "", limit: PageSize = 50) -> list[dict[str, Any]]:
    return [customer_out(c) for c in customer_list(q=q, channel=channel, limit=limit)]


@router.get("/customers/{customer_id}", response=CustomerDetailOut, summary="A buyer with their orders")
@require_perm("orders.view_customer", "orders.view_order")
def customer_show(request: HttpRequest, customer_id: Id, cursor: str = "", limit: PageSize = 50) -> dict[str, Any]:
    customer: Customer = customer_get(pk=customer_id)
    page = order_list(filters=OrderFilters(customer_id=customer.pk), cursor=cursor, limit=limit)
    return {
        **customer_out(customer),
        "orders": [order_summary(o) for o in page.items],
        "next_cursor": page.next_cursor,
    }
