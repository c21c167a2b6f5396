from __future__ import annotations

from typing import Any

from oms.testing.fulfillment import World


def _stock(world: World) -> None:
    for code in ("TEA-001", "NUT-002", "CUP-003"):
        world.receive(world.hz, code, 20)


def test_split_merge_lineage_over_the_api(world: World, make_operator: Any, api_client: Any) -> None:
    _stock(world)
    reviewer = api_client(make_operator("order_reviewer"))
    order = world.order([("TEA-001", 5), ("NUT-002", 1)])
    bad = reviewer.post(
        f"/api/v1/orders/{order.number}/split", {"groups": [{"1": 5, "2": 1}, {}]}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert {d["code"] for d in bad.json()["error"]["details"]} == {"empty_group"}
    response = reviewer.post(
        f"/api/v1/orders/{order.number}/split",
        {"groups": [{"1": 2}, {"1": 3, "2": 1}]},
        content_type="application/json",
    )
    assert response.status_code == 200
    children = [c["number"] for c in response.json()]
    lineage = reviewer.get(f"/api/v1/orders/{children[0]}/lineage").json()
    assert lineage["split_merge_status"] == "split_child"
    assert {n["number"] for n in lineage["nodes"]} == {order.number, *children}
    assert [n["current"] for n in lineage["nodes"] if n["number"] == children[0]] == [True]

    buyer = {"platform_buyer_id": "api-buyer", "phone": "13900139000"}
    a = world.order([("CUP-003", 1)], buyer=buyer)
    b = world.order([("CUP-003", 2)], buyer=buyer)
    groups = reviewer.get("/api/v1/orders/merge-suggestions").json()
    assert [sorted(o["number"] for o in g) for g in groups] == [sorted([a.number, b.number])]
    merged = reviewer.post("/api/v1/orders/merge", {"orders": [a.number, b.number]}, content_type="application/json")
    assert merged.status_code == 200
    again = reviewer.post("/api/v1/orders/merge", {"orders": [a.number, b.number]}, content_type="application/json")
    assert again.status_code == 409
    back = reviewer.post(f"/api/v1/orders/{merged.json()['number']}/unmerge", {}, content_type="application/json")
    assert back.status_code == 200
    assert len(back.json()) == 2


def test_split_needs_permission(world: World, make_operator: Any, api_client: Any) -> None:
    _stock(world)
    order = world.order([("TEA-001", 2)])
    cs = api_client(make_operator("customer_service"))
    response = cs.post(
        f"/api/v1/orders/{order.number}/split", {"groups": [{"1": 1}, {"1": 1}]}, content_type="application/json"
    )
    assert response.status_code == 403
