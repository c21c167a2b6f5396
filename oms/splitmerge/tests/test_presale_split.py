"""Presale vs in-stock (预售/现货分开): a line says it is presale (or follows the order's flag); the automatic
split puts presale lines apart from in-stock ones, never divides a bundle line, never leaves gifts alone,
and keeps every amount exact."""

from __future__ import annotations

from typing import Any

import pytest

from oms.catalog.models import BundleComponent, Sku
from oms.core.errors import Conflict, ValidationFailed
from oms.orders.models import Order, OrderLine
from oms.orders.services.intake import order_intake
from oms.splitmerge.services.auto import order_auto_split
from oms.testing.fulfillment import World

MONEY = (
    "goods_minor",
    "line_discount_minor",
    "order_discount_minor",
    "shipping_minor",
    "payable_minor",
    "received_minor",
    "refunded_minor",
)


def _line(code: str, qty: int, price: str = "10.00", **kw: Any) -> dict[str, Any]:
    return {"sku_code": code, "quantity": qty, "unit_price": price, **kw}


_seq = iter(range(1, 10**6))


def _order(world: World, lines: list[dict[str, Any]], **kw: Any) -> Order:
    """A paid order with these lines, taken in by the real intake."""
    n = next(_seq)
    body: dict[str, Any] = {
        "channel": world.channel.code,
        "platform_order_id": f"PS{n:08d}",
        "buyer": {"platform_buyer_id": f"ps-buyer-{n}", "phone": "13900139000"},
        "receiver": {
            "name": "李小华",
            "phone": "13900139000",
            "province": "浙江",
            "city": "杭州市",
            "address": "文三路 1 号",
        },
        "payment": {"method": "alipay", "transaction_id": f"PSPAY{n:08d}"},
        "lines": lines,
        **kw,
    }
    outcome = order_intake(payload=body, actor=world.actor)
    assert outcome.order is not None
    outcome.order.refresh_from_db()
    return outcome.order


def _stocked(world: World) -> Sku:
    for code in ("TEA-001", "NUT-002", "CUP-003"):
        world.receive(world.hz, code, 50)
    box = Sku.objects.create(code="BOX-01", name="茶具礼盒", is_bundle=True, weight_g=900)
    BundleComponent.objects.create(bundle=box, component=world.skus["TEA-001"], quantity=2)
    BundleComponent.objects.create(bundle=box, component=world.skus["CUP-003"], quantity=1)
    return box


def test_presale_lines_split_from_in_stock_lines_with_bundles_whole_and_gifts_with_goods(world: World) -> None:
    _stocked(world)
    order = _order(
        world,
        [
            _line("TEA-001", 3),
            _line("NUT-002", 2, "45.00", presale=True),
            _line("BOX-01", 2, "88.00"),
            _line("CUP-003", 1, "0.00", is_gift=True),
        ],
        order_discount="7.77",
        shipping="9.99",
    )
    assert order.is_presale
    assert [ln.is_presale for ln in order.lines.order_by("line_no")] == [False, True, False, False]
    children = order_auto_split(order=order, strategy="presale", actor=world.actor)
    order.refresh_from_db()
    assert order.status == "closed" and len(children) == 2
    for attr in MONEY:
        assert sum(getattr(c, attr) for c in children) == getattr(order, attr), attr
    in_stock, presale = sorted(children, key=lambda c: c.is_presale)
    assert not in_stock.is_presale and presale.is_presale
    stock_lines = {ln.sku.code: ln for ln in OrderLine.objects.filter(order=in_stock).select_related("sku")}
    presale_lines = {ln.sku.code: ln for ln in OrderLine.objects.filter(order=presale).select_related("sku")}
    assert set(stock_lines) == {"TEA-001", "BOX-01", "CUP-003"}  # the gift goes with the larger group
    assert stock_lines["BOX-01"].quantity == 2  # the bundle line moves whole
    assert set(presale_lines) == {"NUT-002"} and presale_lines["NUT-002"].is_presale
    assert not any(ln.is_presale for ln in stock_lines.values())


@pytest.mark.parametrize("presale", [False, True])
def test_an_order_all_in_stock_or_all_presale_stays_whole(world: World, presale: bool) -> None:
    _stocked(world)
    order = world.order([("TEA-001", 2), ("CUP-003", 1)], presale=presale)
    assert order.is_presale is presale
    assert {ln.is_presale for ln in order.lines.all()} == {presale}
    with pytest.raises(Conflict) as caught:
        order_auto_split(order=order, strategy="presale", actor=world.actor)
    assert caught.value.code == "nothing_to_split"
    order.refresh_from_db()
    assert order.status != "closed"


def test_presale_order_with_a_line_stated_in_stock(world: World) -> None:
    _stocked(world)
    order = _order(world, [_line("TEA-001", 1), _line("CUP-003", 1, presale=False)], presale=True)
    assert [ln.is_presale for ln in order.lines.order_by("line_no")] == [True, False]
    assert len(order_auto_split(order=order, strategy="presale", actor=world.actor)) == 2


def test_line_presale_flag_is_checked_and_unset_flags_keep_old_fingerprints(world: World) -> None:
    _stocked(world)
    order = world.order([("TEA-001", 1)])
    # A line that says nothing about presale is stored as before: older orders' replays still match.
    assert all("is_presale" not in ln for ln in (order.intake_snapshot or {})["lines"])
    count = Order.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        _order(world, [_line("TEA-001", 1, presale="maybe")])
    assert [d.field for d in caught.value.details] == ["lines[0].presale"]
    assert Order.objects.count() == count


def test_auto_split_api_takes_the_presale_strategy(world: World, make_operator: Any, api_client: Any) -> None:
    _stocked(world)
    order = _order(world, [_line("TEA-001", 1), _line("NUT-002", 1, presale=True)])
    client = api_client(make_operator("order_reviewer"))
    bad = client.post(
        f"/api/v1/orders/{order.number}/auto-split", {"strategy": "guess"}, content_type="application/json"
    )
    assert bad.status_code == 422 and "presale" in bad.json()["error"]["message"]
    response = client.post(
        f"/api/v1/orders/{order.number}/auto-split", {"strategy": "presale"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert len(response.json()) == 2


def test_console_split_dialog_marks_presale_lines_and_splits_automatically(world: World, make_operator: Any) -> None:
    from django.test import Client

    _stocked(world)
    order = _order(world, [_line("TEA-001", 1), _line("NUT-002", 1, presale=True)])
    client = Client()
    client.force_login(make_operator("order_reviewer"))
    dialog = client.get(f"/orders/{order.number}/split/").content.decode()
    assert 'data-testid="presale-2"' in dialog and 'data-testid="presale-1"' not in dialog
    bad = client.post(f"/orders/{order.number}/split/", {"action": "auto", "strategy": "weight", "max_weight_g": "x"})
    assert bad.status_code == 200 and "max_weight_g" in bad.content.decode()
    order.refresh_from_db()
    assert order.status != "closed"
    done = client.post(f"/orders/{order.number}/split/", {"action": "auto", "strategy": "presale"})
    assert done.status_code == 302
    order.refresh_from_db()
    assert order.status == "closed"
    assert sorted(
        Order.objects.filter(status__in=["pending_review", "pending_dispatch"]).values_list("is_presale", flat=True)
    ) == [False, True]
    client.force_login(make_operator("customer_service"))
    assert client.post(f"/orders/{order.number}/split/", {"action": "auto", "strategy": "presale"}).status_code == 403
