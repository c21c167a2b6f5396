"""The refund on return (L4, 重摊重算): the worked examples exactly, and Hypothesis over any promotions and returns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.aftersales.domain.recalculate import (
    GIFT_RULES,
    SHIPPING_RULES,
    LineFacts,
    LineVersion,
    OrderFacts,
    Policy,
    Recalculation,
    recalculate,
)
from oms.core.errors import ValidationFailed
from oms.orders.domain.money_plan import LineMoneyIn, plan_order_money
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
)

RECALC = Policy("recalculate")
PROPORTIONAL = Policy("proportional")


def bought(
    lines: Sequence[tuple[int, int]] | Sequence[tuple[int, int, int]],
    rules: Sequence[Rule] = (),
    *,
    unnamed: int = 0,
    shipping: int = 0,
    received: int | None = None,
) -> OrderFacts:
    """An order as intake plans it (promotions, then the unnamed discount and shipping), fully paid."""
    units = [Units(ln[0], ln[1], ln[2] if len(ln) > 2 else 0) for ln in lines]  # type: ignore[misc]
    plan = plan_promotions(rules, units)
    money = plan_order_money(
        [
            LineMoneyIn(u.unit_price_minor, u.quantity, u.own_discount_minor + d)
            for u, d in zip(units, plan.item_discounts, strict=True)
        ],
        order_discount_minor=unnamed,
        shipping_minor=shipping,
        promotion_shares=plan.order_shares,
    )
    return OrderFacts(
        lines=tuple(
            LineFacts(u.unit_price_minor, u.quantity, u.own_discount_minor, m.shipping_minor)
            for u, m in zip(units, money.lines, strict=True)
        ),
        rules=tuple(rules),
        unnamed_discount_minor=unnamed,
        received_minor=money.payable_minor if received is None else received,
        refunded_minor=0,
        current=tuple(
            LineVersion(u.quantity, m.paid_minor, m.shipping_minor) for u, m in zip(units, money.lines, strict=True)
        ),
    )


def after(facts: OrderFacts, result: Recalculation) -> OrderFacts:
    return OrderFacts(
        facts.lines,
        facts.rules,
        facts.unnamed_discount_minor,
        facts.received_minor,
        facts.refunded_minor + result.refund_minor,
        result.lines_after,
    )


def codes(result: Recalculation) -> list[str]:
    return [s.code for s in result.steps]


# ---- the worked examples


def test_man_300_jian_50_lost_when_the_kept_goods_fall_below_300() -> None:
    order = bought([(24000, 1), (10000, 1)], [Rule(THRESHOLD_OFF, "满300减50", (0, 1), tiers=(Tier(30000, 5000),))])
    assert sum(v.paid_minor for v in order.current) == 29000
    result = recalculate(order, [0, 1], RECALC)
    assert result.refund_minor == 5000  # 290.00 − 240.00
    lost = next(s for s in result.steps if s.code == "promotion_lost")
    assert lost.params == {
        "name": "满300减50", "kind": "threshold_off", "funder": "merchant", "basis": "amount",
        "kept_basis": 24000, "before": 5000, "after": 0, "threshold": 30000,
    }  # fmt: skip
    assert result.steps[-1].params == {"net_paid": 29000, "kept_cost": 24000, "refund": 5000}
    assert result.lines_after == (LineVersion(1, 24000, 0), LineVersion(0, 0, 0))
    # Proportional: the returned line's apportioned paid amount, 100.00 − 14.71.
    assert recalculate(order, [0, 1], PROPORTIONAL).refund_minor == 8529


def test_man_2_jian_9_zhe_by_units() -> None:
    rule = Rule(THRESHOLD_PERCENT, "满2件9折", (0, 1), basis="quantity", tiers=(Tier(2, 1000),))
    order = bought([(10000, 1), (8000, 1)], [rule])
    assert [v.paid_minor for v in order.current] == [9000, 7200]
    assert recalculate(order, [0, 1], RECALC).refund_minor == 6200  # 162.00 − 100.00
    assert recalculate(order, [0, 1], PROPORTIONAL).refund_minor == 7200


def test_di_er_jian_ban_jia() -> None:
    order = bought([(10000, 2)], [Rule(MULTI_BUY, "第二件半价", (0,), nth=2, pay_bp=5000)])
    assert order.current[0].paid_minor == 15000
    assert recalculate(order, [1], RECALC).refund_minor == 5000  # the kept unit is no longer half price
    assert recalculate(order, [1], PROPORTIONAL).refund_minor == 7500


def test_man_199_zeng_gift_charged_or_must_come_back() -> None:
    rule = Rule(GIFT, "满199赠试用装", (0,), gift_lines=(1,), tiers=(Tier(19900, 0),), gift_value_minor=1500)
    order = bought([(19900, 1), (0, 1)], [rule])
    charged = recalculate(order, [1, 0], RECALC)
    assert charged.refund_minor == 18400 and "gift_charged" in codes(charged)
    assert charged.lines_after[1] == LineVersion(1, 1500, 0)
    strict = recalculate(order, [1, 0], Policy("recalculate", gift="must_return"))
    assert [s.code for s in strict.blocking] == ["gift_must_return"] and strict.refund_minor == 19900
    both = recalculate(order, [1, 1], RECALC)
    assert both.refund_minor == 19900 and both.blocking == ()
    assert recalculate(order, [1, 0], PROPORTIONAL).refund_minor == 19900


def test_a_coupon_with_a_threshold() -> None:
    order = bought([(15000, 1), (8000, 1)], [Rule(COUPON, "店铺券 满200减20", (0, 1), tiers=(Tier(20000, 2000),))])
    assert [v.paid_minor for v in order.current] == [13696, 7304]
    assert recalculate(order, [0, 1], RECALC).refund_minor == 6000  # 210.00 − 150.00
    assert recalculate(order, [0, 1], PROPORTIONAL).refund_minor == 7304


def test_a_tier_drops_to_the_one_still_met() -> None:
    rule = Rule(THRESHOLD_OFF, "满200减20 满300减50", (0,), tiers=(Tier(20000, 2000), Tier(30000, 5000)))
    order = bought([(10000, 3)], [rule])
    result = recalculate(order, [1], RECALC)
    assert result.refund_minor == 7000  # 250.00 − (200.00 − 20.00)
    dropped = next(s for s in result.steps if s.code == "promotion_tier_dropped")
    assert (dropped.params["threshold"], dropped.params["threshold_now"], dropped.params["after"]) == (
        30000,
        20000,
        2000,
    )


def test_shipping_comes_back_only_with_everything_by_default() -> None:
    order = bought([(5000, 2)], shipping=800)
    assert recalculate(order, [1], RECALC).refund_minor == 5000
    assert recalculate(order, [2], RECALC).refund_minor == 10800
    assert recalculate(order, [2], Policy("recalculate", shipping="never")).refund_minor == 10000
    assert recalculate(order, [1], Policy("proportional", shipping="proportional")).refund_minor == 5400


def test_a_second_return_uses_what_the_first_left() -> None:
    order = bought(
        [(24000, 1), (10000, 1), (5000, 1)], [Rule(THRESHOLD_OFF, "满300减50", (0, 1, 2), tiers=(Tier(30000, 5000),))]
    )
    first = recalculate(order, [0, 0, 1], RECALC)
    assert first.refund_minor == 5000  # kept 340.00 still meets 300: 340.00 − 50.00 = 290.00 kept
    second = recalculate(after(order, first), [0, 1, 0], RECALC)
    assert second.refund_minor == 5000  # kept 240.00 no longer meets 300: 290.00 − 240.00
    assert first.refund_minor + second.refund_minor + second.kept_charge_minor == order.received_minor
    assert second.kept_charge_minor == 24000


def test_returning_more_than_is_left_is_refused_naming_the_line() -> None:
    order = bought([(1000, 2), (500, 1)])
    with pytest.raises(ValidationFailed) as caught:
        recalculate(order, [3, 0], RECALC)
    assert [(d.field, d.code) for d in caught.value.details] == [("lines[0].quantity", "more_than_delivered")]
    first = recalculate(order, [0, 1], RECALC)
    with pytest.raises(ValidationFailed):
        recalculate(after(order, first), [0, 1], RECALC)


# ---- Hypothesis: any order with any promotions, any sequence of partial returns, both policies


@st.composite
def orders(draw: Any) -> OrderFacts:
    n = draw(st.integers(1, 4))
    lines = []
    for _ in range(n):
        price = draw(st.integers(0, 50_000))
        qty = draw(st.integers(1, 5))
        lines.append((price, qty, draw(st.integers(0, price * qty // 4))))
    positions = st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True).map(tuple)
    money = st.integers(0, 60_000)
    kinds = st.one_of(
        st.builds(
            lambda ls, t1, v1, t2, v2: Rule(THRESHOLD_OFF, "满减", ls, tiers=(Tier(t1, v1), Tier(t1 + t2, v1 + v2))),
            positions,
            money,
            st.integers(0, 20_000),
            money,
            st.integers(0, 20_000),
        ),
        st.builds(
            lambda ls, t, v, cap: Rule(PER_EVERY_OFF, "每满减", ls, tiers=(Tier(t, v),), cap_minor=cap),
            positions,
            st.integers(1, 30_000),
            st.integers(0, 5_000),
            st.none() | money,
        ),
        st.builds(
            lambda ls, q, bp: Rule(THRESHOLD_PERCENT, "满折", ls, basis="quantity", tiers=(Tier(q, bp),)),
            positions,
            st.integers(1, 6),
            st.integers(1, 10_000),
        ),
        st.builds(
            lambda ls, t, v: Rule(COUPON, "券", ls, tiers=(Tier(t, v),)), positions, money, st.integers(0, 20_000)
        ),
        st.builds(
            lambda ls, nth, bp: Rule(MULTI_BUY, "第N件M折", ls, nth=nth, pay_bp=bp),
            positions,
            st.integers(2, 3),
            st.integers(0, 10_000),
        ),
        st.builds(lambda ls, cut: Rule(PRICE_CUT, "直降", ls, unit_cut_minor=cut), positions, st.integers(0, 5_000)),
    )
    rules = draw(st.lists(kinds, max_size=4))
    if n > 1 and draw(st.booleans()):
        gift = n - 1
        rules.append(Rule(GIFT, "满赠", tuple(range(n - 1)), gift_lines=(gift,), tiers=(Tier(draw(money), 0),),
                          gift_value_minor=draw(st.integers(0, 5_000))))  # fmt: skip
    units = [Units(p, q, d) for p, q, d in lines]
    plan = plan_promotions(rules, units)
    room = sum(
        p * q - d - item - share
        for (p, q, d), item, share in zip(lines, plan.item_discounts, plan.order_shares, strict=True)
    )
    return bought(lines, rules, unnamed=draw(st.integers(0, max(room, 0))), shipping=draw(st.integers(0, 2_000)))


@settings(max_examples=300, deadline=None)
@given(
    orders(),
    st.sampled_from(["recalculate", "proportional"]),
    st.sampled_from(SHIPPING_RULES),
    st.sampled_from(GIFT_RULES),
    st.data(),
)
def test_refunds_never_negative_never_above_what_is_left_and_add_up_to_the_cent(
    order: OrderFacts, method: str, shipping: str, gift: str, data: Any
) -> None:
    policy = Policy(method, shipping, gift)
    facts = order
    refunds = 0
    for _ in range(data.draw(st.integers(1, 3))):
        returning = [data.draw(st.integers(0, cur.quantity)) for cur in facts.current]
        result = recalculate(facts, returning, policy)
        left = facts.received_minor - facts.refunded_minor
        assert 0 <= result.refund_minor <= left
        assert result.refund_minor + result.kept_charge_minor == left
        # 重摊: the kept lines' new figures add up exactly to what the buyer has paid for what they keep.
        assert sum(v.paid_minor for v in result.lines_after) == result.kept_charge_minor
        assert [v.quantity for v in result.lines_after] == [
            c.quantity - r for c, r in zip(facts.current, returning, strict=True)
        ]
        assert all(0 <= v.shipping_minor <= v.paid_minor for v in result.lines_after)
        # A line with nothing left holds no goods money: at most shipping not refunded when nothing is kept.
        assert all(v.paid_minor == v.shipping_minor for v in result.lines_after if v.quantity == 0)
        if any(v.quantity for v in result.lines_after):
            assert all(v.paid_minor == 0 for v in result.lines_after if v.quantity == 0)
        refunds += result.refund_minor
        facts = after(facts, result)
    # Refunds + what the buyer finally paid for the kept units = what was received, to the cent.
    assert refunds + sum(v.paid_minor for v in facts.current) == order.received_minor


@settings(max_examples=200, deadline=None)
@given(orders(), st.sampled_from(SHIPPING_RULES))
def test_returning_nothing_refunds_nothing_and_everything_refunds_everything(order: OrderFacts, shipping: str) -> None:
    nothing = [0] * len(order.lines)
    everything = [c.quantity for c in order.current]
    for method in ("recalculate", "proportional"):
        policy = Policy(method, shipping)
        # Re-pricing everything the buyer keeps under the recorded promotions gives back exactly what intake planned.
        assert recalculate(order, nothing, policy).refund_minor == 0
        full = recalculate(order, everything, policy).refund_minor
        shipping_total = sum(ln.shipping_minor for ln in order.lines)
        assert full == order.received_minor - (shipping_total if shipping == "never" else 0)


def test_the_explanation_renders_in_the_operators_language() -> None:
    from django.utils import translation

    from oms.aftersales.domain.recalculate import steps_as_data
    from oms.aftersales.explain import explain_render

    order = bought([(24000, 1), (10000, 1)], [Rule(THRESHOLD_OFF, "满300减50", (0, 1), tiers=(Tier(30000, 5000),))])
    stored = steps_as_data(recalculate(order, [0, 1], RECALC).steps)
    with translation.override("en"):
        english = explain_render(stored, "CNY")
    assert "满300减50 no longer met: kept 240.00 < 300.00 → discount 0.00 (was 50.00)" in english
    assert english[-1] == "Refund 290.00 − 240.00 = 50.00"
    with translation.override("zh-hans"):
        chinese = explain_render(stored, "CNY")
    assert chinese[-1] == "退款 290.00 − 240.00 = 50.00"
    assert "满300减50 不再满足：保留 240.00 < 300.00 → 优惠 0.00（原 50.00）" in chinese
