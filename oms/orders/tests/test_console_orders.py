"""Console pages for orders: list/search, detail with every money column, cancel, customers, import."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client

from oms.orders.models import Order
from oms.orders.tests.test_file_import import ROWS, csv_bytes


@pytest.fixture
def kefu(make_operator: Any) -> Client:
    client = Client()
    client.force_login(make_operator("customer_service", username="kefu"))
    return client


def test_list_search_and_filters(kefu: Client, make_order: Any) -> None:
    orders = [make_order() for _ in range(3)]
    page = kefu.get("/orders/").content.decode()
    assert all(o.number in page for o in orders) and "待审核" in page
    found = kefu.get("/orders/", {"q": orders[1].platform_order_id}).content.decode()
    assert orders[1].number in found and orders[0].number not in found
    assert orders[0].number not in kefu.get("/orders/", {"status": "shipped"}).content.decode()


def test_list_pages_with_a_cursor(kefu: Client, make_order: Any, settings: Any) -> None:
    orders = [make_order() for _ in range(55)]
    first = kefu.get("/orders/")
    assert first.context["next_cursor"]
    more = kefu.get("/orders/", {"cursor": first.context["next_cursor"]}, HTTP_HX_REQUEST="true")
    assert len(more.context["rows"]) == 5 and more.context["next_cursor"] is None
    shown = {r["order"].number for r in first.context["rows"]} | {r["order"].number for r in more.context["rows"]}
    assert shown == {o.number for o in orders}


def test_detail_shows_lines_money_totals_payments_timeline_remarks_invoice(kefu: Client, make_order: Any) -> None:
    order = make_order()
    html = kefu.get(f"/orders/{order.number}/").content.decode()
    for text in (
        "119.02",
        "83.44",
        "99.33",
        "301.79",
        "满100减5",
        "请尽快发货",
        "杭州某某科技有限公司",
        "支付宝",  # the payment method, in the operator's language
        "新建",
    ):
        assert text in html, text


def test_cancel_with_reason_from_the_console(kefu: Client, make_order: Any) -> None:
    order = make_order()
    response = kefu.post(f"/orders/{order.number}/cancel/", {"reason": "买家要求取消"}, follow=True)
    assert "已取消" in response.content.decode()
    order.refresh_from_db()
    assert order.status == "cancelled"
    again = kefu.post(f"/orders/{order.number}/cancel/", {"reason": "x"}, follow=True).content.decode()
    assert "不能转为" in again and "cannot move" not in again  # the refusal in the operator's language


def test_cancel_without_permission_is_403(make_operator: Any, make_order: Any) -> None:
    client = Client()
    client.force_login(make_operator("finance"))
    order = make_order()
    assert client.post(f"/orders/{order.number}/cancel/", {"reason": "x"}).status_code == 403
    assert Order.objects.get(pk=order.pk).status == "pending_review"


def test_customer_page_lists_history(kefu: Client, make_order: Any) -> None:
    a = make_order(buyer={"platform_buyer_id": "tb-zhao", "nickname": "赵"})
    b = make_order(buyer={"platform_buyer_id": "tb-zhao", "nickname": "赵"})
    assert a.customer_id == b.customer_id
    html = kefu.get(f"/customers/{a.customer_id}/").content.decode()
    assert a.number in html and b.number in html
    assert "tb-zhao" in kefu.get("/customers/", {"q": "tb-zhao"}).content.decode()


def test_import_upload_form(
    kefu: Client, tmall: Any, skus: Any, django_capture_on_commit_callbacks: Any, make_operator: Any
) -> None:
    """The upload becomes a background job (run in process here: no broker); its page shows the counts and
    the report, and polls (htmx) only while the job runs. Another operator's job is not found."""
    upload = io.BytesIO(csv_bytes(ROWS))
    upload.name = "orders.csv"
    with django_capture_on_commit_callbacks(execute=True):
        response = kefu.post("/orders/import/", {"file": upload})
    assert response.status_code == 302
    page = kefu.get(response["Location"])
    job = page.context["job"]
    assert (job.state, job.rows, job.orders, job.done, job.created, job.existing, job.failed) == (
        "done",
        5,
        3,
        3,
        2,
        0,
        1,
    )
    html = page.content.decode()
    assert "receiver_phone" in html and "hx-trigger" not in html
    assert bytes(job.content) == b""  # the upload is not kept once imported
    assert job.filename in kefu.get("/orders/import/").content.decode()  # listed among recent imports
    other = Client()
    other.force_login(make_operator("customer_service"))
    assert other.get(response["Location"]).status_code == 404


def test_unknown_order_redirects_with_a_message(kefu: Client, db: Any) -> None:
    response = kefu.get("/orders/SO-NOPE/", follow=True)
    assert response.redirect_chain and "SO-NOPE" in response.content.decode()


def test_reviewer_maps_platform_skus_in_the_admin(make_operator: Any, tmall: Any, skus: Any) -> None:
    client = Client()
    client.force_login(make_operator("order_reviewer"))
    assert client.get("/admin/orders/platformskumapping/").status_code == 200
    assert client.get("/admin/orders/order/add/").status_code == 403  # orders change only through services
    admin = Client()
    admin.force_login(make_operator("administrator"))
    assert admin.get("/admin/orders/order/").status_code == 200


def test_console_pages_do_not_grow_queries_with_rows(
    kefu: Client, make_order: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(30):
        make_order()
    number = Order.objects.first().number  # type: ignore[union-attr]
    kefu.get("/orders/")  # warm the session and permission caches
    # 8, plus the status tabs' counts (one statement), the total, the bulk menus' warehouses and couriers.
    with django_assert_max_num_queries(12):
        assert kefu.get("/orders/").status_code == 200
    with django_assert_max_num_queries(12):
        assert kefu.get(f"/orders/{number}/").status_code == 200
