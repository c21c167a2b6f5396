"""Promotions as data on the order (L1): rules at intake, exact shares, stated amounts checked, platform figures."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.core.errors import ValidationFailed
from oms.orders.domain.promotions import (
    COUPON,
    GIFT,
    MULTI_BUY,
    PER_EVERY_OFF,
    PRICE_CUT,
    THRESHOLD_OFF,
    THRESHOLD_PERCENT,
    Rule,
    Tier,
    Units,
    plan_promotions,
    rule_as_dict,
    rule_from_dict,
)
from oms.orders.models import Order, OrderLine
from oms.orders.services.file_import import orders_import_file
from oms.orders.services.intake import order_intake
from oms.testing.orders import order_payload


def two_lines(**overrides: Any) -> dict[str, Any]:
    body = order_payload(
        order_discount="0.00",
        shipping="0.00",
        payment={"method": "alipay", "transaction_id": f"T{id(overrides)}"},
        lines=[
            {"sku_code": "TEA-001", "quantity": 1, "unit_price": "240.00", "platform_line_id": "A"},
            {"sku_code": "NUT-002", "quantity": 1, "unit_price": "100.00", "platform_line_id": "B"},
        ],
    )
    body.update(overrides)
    return body


def test_threshold_off_is_divided_over_its_lines_and_stored(tmall: Any, skus: Any, admin_operator: Any) -> None:
    promo = {"kind": "threshold_off", "name": "满300减50", "funder": "platform", "threshold": "300.00", "off": "50.00"}
    order = order_intake(payload=two_lines(promotions=[{**promo, "amount": "50.00"}]), actor=admin_operator).order
    assert order is not None
    lines = list(OrderLine.objects.filter(order=order).order_by("line_no"))
    # 50.00 over 240 : 100 → 35.29 / 14.71 (the 尾差 cent by largest remainder)
    assert [ln.order_discount_minor for ln in lines] == [3529, 1471]
    assert [ln.paid_minor for ln in lines] == [20471, 8529]
    assert (order.order_discount_minor, order.payable_minor) == (5000, 29000)
    (stored,) = order.promotions
    assert stored["kind"] == "threshold_off" and stored["funder"] == "platform" and stored["amount_minor"] == 5000
    assert stored["shares"] == {"0": 3529, "1": 1471} and stored["tiers"] == [[30000, 5000]]
    assert lines[0].promotions == [
        {"code": "", "name": "满300减50", "kind": "threshold_off", "amount_minor": 3529, "rule": 0}
    ]


def test_a_stated_amount_the_rule_does_not_give_is_refused(tmall: Any, skus: Any, admin_operator: Any) -> None:
    promo = {"kind": "threshold_off", "name": "满300减50", "threshold": "300.00", "off": "50.00", "amount": "60.00"}
    with pytest.raises(ValidationFailed) as caught:
        order_intake(payload=two_lines(promotions=[promo]), actor=admin_operator)
    (detail,) = caught.value.details
    assert (detail.field, detail.code) == ("promotions[0].amount", "promotion_amount_mismatch")
    assert "60.00" in detail.message and "50.00" in detail.message
    assert Order.objects.count() == 0


def test_bad_promotions_are_named_field_by_field(tmall: Any, skus: Any, admin_operator: Any) -> None:
    promotions = [
        {"kind": "bogus", "name": "x"},
        {"kind": "threshold_percent", "name": "满2件9折", "basis": "quantity", "threshold": 2, "percent_off": "abc"},
        {"kind": "coupon", "name": "券", "off": "5.00", "lines": [7]},
        {"kind": "multi_buy", "name": "第二件半价", "nth": 1, "pay_percent": "50"},
    ]
    with pytest.raises(ValidationFailed) as caught:
        order_intake(payload=two_lines(promotions=promotions), actor=admin_operator)
    fields = {(d.field, d.code) for d in caught.value.details}
    assert fields == {
        ("promotions[0].kind", "choice"),
        ("promotions[1].percent_off", "type"),
        ("promotions[2].lines[0]", "unknown_line"),
        ("promotions[3].nth", "type"),
    }


def test_platform_per_line_figures_are_kept_and_a_mismatch_flagged(tmall: Any, skus: Any, admin_operator: Any) -> None:
    promo = {"kind": "threshold_off", "name": "满300减50", "threshold": "300.00", "off": "50.00"}
    body = two_lines(promotions=[promo])
    body["lines"][0]["platform_paid"] = "204.71"
    body["lines"][1]["platform_paid"] = "85.29"
    order = order_intake(payload=body, actor=admin_operator).order
    assert order is not None and not order.has_platform_mismatch
    body = two_lines(promotions=[promo])
    body["lines"][0]["platform_paid"] = "204.70"
    body["lines"][1]["platform_paid"] = "85.30"
    other = order_intake(payload=body, actor=admin_operator).order
    assert other is not None and other.has_platform_mismatch
    assert list(OrderLine.objects.filter(order=other).values_list("platform_paid_minor", "paid_minor")) == [
        (20470, 20471),
        (8530, 8529),
    ]


def test_orders_without_promotions_keep_their_fingerprint(tmall: Any, skus: Any, admin_operator: Any) -> None:
    body = order_payload()
    order = order_intake(payload=body, actor=admin_operator).order
    assert order is not None and order.promotions == [] and "promotions" not in (order.intake_snapshot or {})
    assert all("platform_paid_minor" not in ln for ln in (order.intake_snapshot or {})["lines"])


def test_the_api_takes_promotions_and_shows_them(make_operator: Any, api_client: Any, tmall: Any, skus: Any) -> None:
    client = api_client(make_operator("customer_service", username="kefu"))
    body = two_lines(
        promotions=[
            {"kind": "coupon", "name": "店铺券 满200减20", "lines": ["A"], "threshold": "200.00", "off": "20.00"},
        ]
    )
    response = client.post("/api/v1/orders", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    out = response.json()
    assert out["promotions"] == [
        {
            "kind": "coupon",
            "name": "店铺券 满200减20",
            "code": "",
            "funder": "merchant",
            "line_nos": [1],
            "amount": "20.00",
            "per_line": {"1": "20.00"},
        }
    ]
    assert [ln["paid"] for ln in out["lines"]] == ["220.00", "100.00"]


def test_a_file_takes_promotions_as_json(tmall: Any, skus: Any, admin_operator: Any) -> None:
    promo = json.dumps([{"kind": "price_cut", "name": "直降10元", "unit_cut": "10.00"}], ensure_ascii=False)
    header = "渠道,平台订单号,收货人,收货人手机,省,市,详细地址,商家编码,数量,单价,订单活动,分摊后实付\n"
    quoted = promo.replace('"', '""')
    row = f'TMALL,TBF1,张三,13800138000,浙江,杭州市,文三路1号,TEA-001,2,59.90,"{quoted}",99.80\n'
    summary = orders_import_file(stream=io.BytesIO((header + row).encode()), filename="p.csv", actor=admin_operator)
    assert summary.created == 1, summary.report
    line = OrderLine.objects.get(order__platform_order_id="TBF1")
    assert (line.line_discount_minor, line.paid_minor, line.platform_paid_minor) == (2000, 9980, 9980)


# ---- the domain: what each kind is worth


def u(price: int, qty: int) -> Units:
    return Units(price, qty)


def test_each_kind_is_worth_what_its_rule_says() -> None:
    lines = [u(15000, 2), u(9900, 1), u(0, 1)]
    rules = [
        Rule(THRESHOLD_OFF, "满200减20 满300减50", (0, 1), tiers=(Tier(20000, 2000), Tier(30000, 5000))),
        Rule(PER_EVERY_OFF, "每满100减10", (0,), tiers=(Tier(10000, 1000),), cap_minor=2500),
        Rule(THRESHOLD_PERCENT, "满2件9折", (0,), basis="quantity", tiers=(Tier(2, 1000),)),
        Rule(COUPON, "券", (1,), tiers=(Tier(5000, 500),)),
        Rule(GIFT, "满199赠", (0, 1), gift_lines=(2,), tiers=(Tier(19900, 0),), gift_value_minor=1500),
    ]
    plan = plan_promotions(rules, lines)
    assert [r.amount_minor for r in plan.rules] == [5000, 2500, 3000, 500, 0]
    assert plan.rules[0].tier == 1 and plan.rules[4].tier == 0
    assert sum(plan.order_shares) == 5000 + 2500 + 3000 + 500
    half = plan_promotions([Rule(MULTI_BUY, "第二件半价", (0,), nth=2, pay_bp=5000)], [u(9999, 3)])
    assert half.item_discounts == (5000,)  # one discounted unit: 49.995 off, rounded half up
    cut = plan_promotions([Rule(PRICE_CUT, "直降", (0,), unit_cut_minor=700)], [u(500, 2)])
    assert cut.item_discounts == (1000,)  # never more than the line is worth


rules_strategy = st.lists(
    st.one_of(
        st.builds(
            lambda t, v: Rule(THRESHOLD_OFF, "mj", (0, 1, 2), tiers=(Tier(t, v),)),
            st.integers(0, 50_000),
            st.integers(0, 50_000),
        ),
        st.builds(lambda v: Rule(COUPON, "c", (1,), tiers=(Tier(0, v),)), st.integers(0, 30_000)),
        st.builds(
            lambda bp: Rule(THRESHOLD_PERCENT, "mz", (0, 2), basis="quantity", tiers=(Tier(2, bp),)),
            st.integers(1, 10_000),
        ),
        st.builds(lambda cut: Rule(PRICE_CUT, "zj", (2,), unit_cut_minor=cut), st.integers(0, 5_000)),
        st.builds(
            lambda n, bp: Rule(MULTI_BUY, "mb", (0,), nth=n, pay_bp=bp), st.integers(2, 4), st.integers(0, 10_000)
        ),
    ),
    max_size=6,
)


@given(rules_strategy, st.lists(st.tuples(st.integers(0, 50_000), st.integers(1, 6)), min_size=3, max_size=3))
def test_shares_add_up_and_no_line_goes_below_nothing(rules: list[Rule], raw: list[tuple[int, int]]) -> None:
    lines = [u(p, q) for p, q in raw]
    plan = plan_promotions(rules, lines)
    for i, ln in enumerate(lines):
        assert 0 <= plan.item_discounts[i] + plan.order_shares[i] <= ln.unit_price_minor * ln.quantity
    for rule, share in zip(rules, plan.rules, strict=True):
        assert sum(share.per_line.values()) == share.amount_minor >= 0
        assert set(share.per_line) <= set(rule.lines) | set(rule.gift_lines)
        assert rule_from_dict(json.loads(json.dumps(rule_as_dict(rule)))) == rule
