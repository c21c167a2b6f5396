"""A file of tracking numbers (批量导入运单号), through the service and the console: good orders ship, a bad
row names its file row and column and holds back only its own order, the same file again ships nothing twice;
the console's ship-by-hand form on the order's parcels panel, behind its permission."""

from __future__ import annotations

import io
from typing import Any

from django.test import Client
from django.utils import translation
from openpyxl import Workbook

from oms.console.fulfillment_views import tracking_problem_text as problem_text
from oms.fulfillment.models import Parcel
from oms.fulfillment.services.pipeline import orders_advance
from oms.fulfillment.services.tracking_import import tracking_import_file
from oms.inventory.services.verify import stock_verify
from oms.orders.models import Order
from oms.testing.fulfillment import World


def _ready(world: World, lines: list[tuple[str, int]]) -> Order:
    order = world.order(lines)
    orders_advance(orders=[order], actor=world.actor)
    order.refresh_from_db()
    assert order.status == "pending_dispatch"
    return order


def _csv(rows: list[list[str]]) -> io.BytesIO:
    text = "\n".join(",".join(r) for r in rows) + "\n"
    return io.BytesIO(text.encode("utf-8"))


def test_a_bad_row_holds_back_only_its_order_and_names_row_and_column(world: World) -> None:
    world.receive(world.hz, "TEA-001", 50)
    world.receive(world.hz, "NUT-002", 50)
    one = _ready(world, [("TEA-001", 2)])
    two = _ready(world, [("TEA-001", 3), ("NUT-002", 1)])
    bad = _ready(world, [("TEA-001", 1)])
    rows = [
        ["订单号", "快递公司", "运单号", "商家编码", "数量"],
        [one.number, "顺丰速运", "SF001", "", ""],
        [two.number, "ZTO", "ZT001", "TEA-001", "2"],  # order two in two parcels
        [two.number, "ZTO", "ZT002", "", ""],
        [bad.number, "ZTO", "ZT003", "", ""],
        [bad.number, "ZTO", "ZT004", "NUT-002", "x"],  # bad quantity: the whole order waits
        ["SO-NOPE", "ZTO", "ZT005", "", ""],
        ["", "ZTO", "ZT006", "", ""],
    ]
    summary = tracking_import_file(stream=_csv(rows), filename="t.csv", actor=world.actor)
    assert (summary.rows, summary.orders_shipped, summary.parcels) == (7, 2, 3)
    assert [(p.row, p.column, p.code) for p in summary.problems] == [
        (5, "order", "held_back"),
        (6, "quantity", "invalid_quantity"),
        (7, "order", "unknown_order"),
        (8, "order", "required"),
    ]
    assert Order.objects.get(pk=one.pk).status == "shipped"
    assert Order.objects.get(pk=two.pk).status == "shipped"
    assert Order.objects.get(pk=bad.pk).status == "pending_dispatch"
    assert sorted(Parcel.objects.filter(order=two).values_list("tracking_number", "units")) == [
        ("ZT001", 2),
        ("ZT002", 2),
    ]
    with translation.override("zh-hans"):
        texts = [problem_text(p) for p in summary.problems]
    assert all(t and not t.isascii() for t in texts), texts

    again = tracking_import_file(stream=_csv(rows), filename="t.csv", actor=world.actor)
    assert (again.orders_shipped, again.parcels, again.repeated) == (0, 0, 3)
    assert Parcel.objects.count() == 3
    assert stock_verify().drift == []


def test_xlsx_and_a_refusal_from_the_service_points_at_the_parcel_row(world: World) -> None:
    world.receive(world.hz, "TEA-001", 50)
    order = _ready(world, [("TEA-001", 2)])
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [
        ["order", "courier", "tracking_number", "sku", "quantity"],
        [order.number, "SF", "SF1", "TEA-001", 1],
        [order.number, "SF", "SF2", "TEA-001", 5],  # more than is left
    ]:
        sheet.append(row)
    stream = io.BytesIO()
    book.save(stream)
    stream.seek(0)
    summary = tracking_import_file(stream=stream, filename="t.xlsx", actor=world.actor)
    assert [(p.row, p.column, p.code) for p in summary.problems] == [(3, "quantity", "over_shipment")]
    assert Parcel.objects.filter(order=order).count() == 0  # nothing partial: SF1 is not kept either


def _client(operator: Any) -> Client:
    client = Client()
    client.force_login(operator)
    return client


def test_console_ship_form_and_upload_need_the_permission(world: World, make_operator: Any) -> None:
    world.receive(world.hz, "TEA-001", 50)
    order = _ready(world, [("TEA-001", 3)])
    service = _client(make_operator("customer_service"))
    assert 'data-testid="ship-by-hand"' not in service.get(f"/orders/{order.number}/parcels/").content.decode()
    assert (
        service.post(f"/orders/{order.number}/fulfilment/ship/", {"courier": "SF", "tracking_number": "X"}).status_code
        == 403
    )
    assert service.get("/dispatch/tracking-upload/").status_code == 403

    coordinator = _client(make_operator("warehouse_coordinator"))
    panel = coordinator.get(f"/orders/{order.number}/parcels/").content.decode()
    assert 'data-testid="ship-by-hand"' in panel and 'name="qty_1" value="3"' in panel
    back = f"/orders/{order.number}/"
    answer = coordinator.post(
        f"/orders/{order.number}/fulfilment/ship/",
        {"courier": "SF", "tracking_number": "SF77", "qty_1": "1", "next": back},
    )
    assert answer.status_code == 302 and answer["Location"] == back
    assert Order.objects.get(pk=order.pk).status == "partially_shipped"
    # An outside address in "next" is not followed.
    outside = coordinator.post(
        f"/orders/{order.number}/fulfilment/ship/",
        {"courier": "SF", "tracking_number": "SF78", "next": "https://evil.example/"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert outside["Location"] == f"/orders/{order.number}/fulfilment/"
    assert Order.objects.get(pk=order.pk).status == "shipped"

    upload = coordinator.post(
        "/dispatch/tracking-upload/",
        {"file": _named(_csv([["订单号", "快递公司", "运单号"], ["SO-NOPE", "SF", "SF9"]]), "t.csv")},
    )
    html = upload.content.decode()
    assert 'data-testid="tracking-problems"' in html and "SO-NOPE" in html


def _named(stream: io.BytesIO, name: str) -> io.BytesIO:
    stream.name = name  # type: ignore[attr-defined]
    return stream
