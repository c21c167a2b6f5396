"""Look-ups by platform order id after a split or merge: the list puts living orders first and marks the
replaced ones (or leaves them out), and an intake replay answers with the living orders, creating none."""

from __future__ import annotations

from typing import Any

from django.test import Client

from oms.orders.models import Order
from oms.orders.selectors import OrderFilters, order_list
from oms.orders.services.intake import order_intake_bulk
from oms.splitmerge.services.merge import orders_merge
from oms.splitmerge.services.split import order_split
from oms.testing.fulfillment import World


def _body(
    world: World, platform_order_id: str, lines: list[tuple[str, int]], buyer: str = "look-buyer"
) -> dict[str, Any]:
    return {
        "channel": world.channel.code,
        "platform_order_id": platform_order_id,
        "placed_at": "2026-01-15T10:00:00+08:00",
        "buyer": {"platform_buyer_id": buyer, "phone": "13900139000"},
        "receiver": {
            "name": "李小华",
            "phone": "13900139000",
            "province": "浙江",
            "city": "杭州市",
            "district": "西湖区",
            "address": "文三路 200 号",
        },
        "payment": {"method": "alipay", "transaction_id": f"PAY-{platform_order_id}"},
        "lines": [{"sku_code": code, "quantity": qty, "unit_price": "10.00"} for code, qty in lines],
    }


def _intake(world: World, body: dict[str, Any]) -> Order:
    (outcome,) = order_intake_bulk(payloads=[body], actor=world.actor)
    assert outcome.order is not None, outcome.error
    outcome.order.refresh_from_db()
    return outcome.order


def _stocked(world: World) -> None:
    for code in ("TEA-001", "NUT-002", "CUP-003"):
        world.receive(world.hz, code, 50)


def test_platform_order_id_lookup_lists_living_orders_first_and_marks_the_replaced(
    world: World, django_assert_num_queries: Any
) -> None:
    _stocked(world)
    original = _intake(world, _body(world, "LOOK-1", [("TEA-001", 2), ("NUT-002", 1), ("CUP-003", 1)]))
    first, second = order_split(order=original, groups=[{1: 2}, {2: 1, 3: 1}], actor=world.actor)
    # Split the second child again: its children are newer, the first child is older than them but living.
    second_a, second_b = order_split(order=second, groups=[{1: 1}, {2: 1}], actor=world.actor)
    with django_assert_num_queries(1):
        page = order_list(filters=OrderFilters(platform_order_id="LOOK-1"))
    numbers = [o.number for o in page.items]
    living = {first.number, second_a.number, second_b.number}
    assert set(numbers[:3]) == living
    assert set(numbers[3:]) == {original.number, second.number}
    assert [o.is_retired for o in page.items] == [False, False, False, True, True]
    # The same order page by page through the cursor.
    walked, cursor = [], ""
    while True:
        one = order_list(filters=OrderFilters(platform_order_id="LOOK-1"), cursor=cursor, limit=1)
        walked += [o.number for o in one.items]
        if one.next_cursor is None:
            break
        cursor = one.next_cursor
    assert walked == numbers
    # Free search finds the same, living first; living_only leaves the replaced out.
    assert [o.number for o in order_list(filters=OrderFilters(q="LOOK-1")).items] == numbers
    only = order_list(filters=OrderFilters(platform_order_id="LOOK-1", living_only=True)).items
    assert {o.number for o in only} == living


def test_list_api_marks_replaced_orders_and_can_leave_them_out(
    world: World, make_operator: Any, api_client: Any
) -> None:
    _stocked(world)
    original = _intake(world, _body(world, "LOOK-API", [("TEA-001", 2), ("NUT-002", 1)]))
    children = order_split(order=original, groups=[{1: 2}, {2: 1}], actor=world.actor)
    client = api_client(make_operator("customer_service"))
    items = client.get("/api/v1/orders", {"platform_order_id": "LOOK-API"}).json()["items"]
    assert [(i["number"], i["retired"]) for i in items][-1] == (original.number, True)
    assert {i["number"] for i in items if not i["retired"]} == {c.number for c in children}
    living = client.get("/api/v1/orders", {"platform_order_id": "LOOK-API", "living_only": "true"}).json()["items"]
    assert {i["number"] for i in living} == {c.number for c in children}
    assert client.get(f"/api/v1/orders/{original.number}").json()["retired"] is True


def test_intake_replay_of_a_split_platform_order_answers_with_the_living_orders(world: World, api_client: Any) -> None:
    _stocked(world)
    body = _body(world, "LOOK-REPLAY", [("TEA-001", 2), ("NUT-002", 1)])
    original = _intake(world, body)
    children = order_split(order=original, groups=[{1: 2}, {2: 1}], actor=world.actor)
    count = Order.objects.count()
    client = api_client(world.actor)
    single = client.post("/api/v1/orders", body, content_type="application/json")
    assert single.status_code == 200, single.content
    answer = single.json()
    assert answer["replaced"] is True and answer["original_number"] == original.number
    assert answer["order_numbers"] == [c.number for c in children]
    assert [o["number"] for o in answer["orders"]] == [c.number for c in children]
    bulk = client.post("/api/v1/orders/bulk", {"orders": [body]}, content_type="application/json").json()
    (result,) = bulk["results"]
    assert result["result"] == "existing" and result["replaced"] is True
    assert result["order_numbers"] == [c.number for c in children]
    assert result["order_number"] == children[0].number
    # The same platform order with other content: 409 naming the original and the living orders.
    changed = client.post("/api/v1/orders", {**body, "buyer_remark": "改了"}, content_type="application/json")
    assert changed.status_code == 409
    error = changed.json()["error"]
    assert error["order_number"] == original.number
    assert error["living_orders"] == [c.number for c in children]
    assert Order.objects.count() == count


def test_intake_replay_of_merged_platform_orders_names_the_merge_result(world: World) -> None:
    _stocked(world)
    bodies = [_body(world, f"LOOK-M{i}", [("CUP-003", i)]) for i in (1, 2)]
    a, b = (_intake(world, body) for body in bodies)
    merged = orders_merge(numbers=[a.number, b.number], actor=world.actor)
    outcomes = order_intake_bulk(payloads=bodies, actor=world.actor)
    assert [[s.number for s in o.successors] for o in outcomes] == [[merged.number], [merged.number]]
    assert [o.created for o in outcomes] == [False, False]
    # A replay of an order never replaced answers as before, with no successors.
    fresh = _body(world, "LOOK-PLAIN", [("TEA-001", 1)])
    _intake(world, fresh)
    (again,) = order_intake_bulk(payloads=[fresh], actor=world.actor)
    assert again.successors == [] and again.order is not None and again.order.platform_order_id == "LOOK-PLAIN"


def test_console_search_marks_replaced_orders_and_hides_them_on_request(world: World, make_operator: Any) -> None:
    _stocked(world)
    original = _intake(world, _body(world, "LOOK-UI", [("TEA-001", 2), ("NUT-002", 1)]))
    children = order_split(order=original, groups=[{1: 2}, {2: 1}], actor=world.actor)
    client = Client()
    client.force_login(make_operator("customer_service"))
    page = client.get("/orders/", {"q": "LOOK-UI"}).content.decode()
    assert f'data-testid="retired-{original.number}"' in page
    assert all(f'data-testid="retired-{c.number}"' not in page and c.number in page for c in children)
    assert page.index(children[0].number) < page.index(f'data-testid="retired-{original.number}"')
    hidden = client.get("/orders/", {"q": "LOOK-UI", "living_only": "1"}).content.decode()
    assert original.number not in hidden
    assert all(c.number in hidden for c in children)
