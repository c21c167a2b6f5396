"""Exchanges (换货): the price difference under both policies (the README's worked example at a higher price),
money conserved to the cent (Hypothesis), and end to end: the exchange order made after inspection, paid from the
return, linked both ways in the lineage graph, the buyer paying the difference or refunded the rest."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.aftersales.domain import states
from oms.aftersales.domain.exchange import Replacement, price_exchange
from oms.aftersales.domain.recalculate import SHIPPING_RULES, OrderFacts, Policy
from oms.aftersales.models import Case, ChannelPolicy
from oms.aftersales.services.cases import (
    CaseRequest,
    case_act,
    case_create,
    case_inspect,
    case_preview,
    case_receive,
    case_refund,
)
from oms.aftersales.services.exchange import ReplacementRequest
from oms.aftersales.tests.test_recalculate import bought, orders
from oms.channels.models import ChannelStock
from oms.core.errors import ValidationFailed
from oms.inventory.services.verify import stock_verify
from oms.orders.domain.promotions import THRESHOLD_OFF, Rule, Tier
from oms.orders.models import Order, OrderLineVersion, Payment
from oms.orders.selectors import order_living_successors
from oms.orders.services.payments import payment_record
from oms.splitmerge.selectors import order_lineage

MAN300 = Rule(THRESHOLD_OFF, "满300减50", (0, 1), tiers=(Tier(30000, 5000),))


@pytest.mark.parametrize(
    ("price", "method", "refund", "owed"),
    [
        (13000, "recalculate", 0, 3000),  # 240.00 + 130.00 = 370.00 − 50.00 = 320.00; paid 290.00 → pays 30.00
        (13000, "proportional", 0, 3000),  # keeps the returned unit's 14.71 discount: 115.29 − 85.29
        (10000, "recalculate", 0, 0),  # the same price: nothing changes hands
        (10000, "proportional", 0, 0),
        (5000, "recalculate", 0, 0),  # 240.00 + 50.00 < 300.00: 满300减50 lost, 290.00 is what was paid
        (5000, "proportional", 5000, 0),  # the list prices' difference back
        (1000, "recalculate", 4000, 0),  # 250.00 without the discount: 40.00 back
    ],
)
def test_the_price_difference_of_an_exchange(price: int, method: str, refund: int, owed: int) -> None:
    order = bought([(24000, 1), (10000, 1)], [MAN300])
    x = price_exchange(order, [0, 1], [Replacement(1, price, 1)], Policy(method))
    assert (x.refund_minor, x.owed_minor) == (refund, owed)
    assert sum(v.paid_minor for v in x.lines_after) + x.carried_minor + x.refund_minor == 29000
    assert x.carried_minor + x.owed_minor == sum(x.replacement_paid)
    assert x.steps[-1].code == "exchange_difference"


def test_an_exchange_names_a_returned_line() -> None:
    order = bought([(24000, 1), (10000, 1)], [MAN300])
    with pytest.raises(ValidationFailed) as caught:
        price_exchange(order, [0, 1], [Replacement(0, 100, 1), Replacement(1, 100, 0)], Policy())
    assert {d.field for d in caught.value.details} == {"replacements[0].replaces", "replacements[1].quantity"}


@settings(max_examples=200, deadline=None)
@given(orders(), st.sampled_from(["recalculate", "proportional"]), st.sampled_from(SHIPPING_RULES), st.data())
def test_exchanges_conserve_money_to_the_cent(order: OrderFacts, method: str, shipping: str, data: Any) -> None:
    returning = [data.draw(st.integers(0, cur.quantity)) for cur in order.current]
    if not any(returning):
        returning[0] = order.current[0].quantity
    replaced = [i for i, r in enumerate(returning) if r]
    replacements = [
        Replacement(
            data.draw(st.sampled_from(replaced)), data.draw(st.integers(0, 60_000)), data.draw(st.integers(1, 3))
        )
        for _ in range(data.draw(st.integers(1, 3)))
    ]
    x = price_exchange(order, returning, replacements, Policy(method, shipping))
    paid = order.received_minor - order.refunded_minor
    assert min(x.refund_minor, x.owed_minor, x.carried_minor) >= 0 and not (x.refund_minor and x.owed_minor)
    assert x.refund_minor <= paid
    # What was paid goes to the kept lines, the replacements and the buyer, to the cent; the replacements are paid
    # by what is carried and what the buyer pays.
    assert sum(v.paid_minor for v in x.lines_after) + x.carried_minor + x.refund_minor == paid
    assert x.carried_minor + x.owed_minor == sum(x.replacement_paid)
    assert all(p >= 0 for p in x.replacement_paid)
    assert all(0 <= v.shipping_minor <= v.paid_minor for v in x.lines_after)


# ---- end to end


def exchange_nuts(price: str | None = "130.00", sku: str = "CUP-003", **kw: Any) -> CaseRequest:
    minor = None if price is None else int(price.replace(".", ""))
    return CaseRequest(
        kind="exchange",
        reason_code="wrong_item",
        units={2: 1},
        replacements=(ReplacementRequest(replaces=2, sku_code=sku, quantity=1, unit_price_minor=minor),),
        **kw,
    )


def _through_inspection(case: Case, actor: Any) -> Case:
    case = case_act(case, states.APPROVE, actor=actor)
    case_receive(case, units={2: 1}, actor=actor)
    return case_inspect(case, good={2: 1}, defective={}, actor=actor)


def test_an_exchange_at_a_higher_price_makes_an_order_the_buyer_pays_the_difference_on(
    shipped: Any, admin_operator: Any
) -> None:
    order = shipped()
    ChannelStock.objects.filter(channel=order.channel, sku__code="CUP-003").update(quota=5)
    assert case_preview(order=order, req=exchange_nuts(), actor=admin_operator).owed_minor == 3000
    case, _ = case_create(order=order, req=exchange_nuts(), actor=admin_operator)
    assert (case.refund_minor, case.owed_minor) == (0, 3000)
    case = _through_inspection(case, admin_operator)
    # Nothing to pay back: the case is done once its exchange order is made.
    assert case.status == states.REFUNDED
    made = Order.objects.get(pk=case.linked_order_id)
    assert made.number.startswith("EX") and made.order_type == "exchange"
    assert (made.payable_minor, made.received_minor, made.status) == (11243, 8243, "pending_payment")
    (line,) = made.lines.all()
    assert (line.sku.code, line.quantity, line.unit_price_minor, line.paid_minor) == ("CUP-003", 1, 13000, 11243)
    assert made.platform_order_ids == order.platform_order_ids
    order.refresh_from_db()
    assert (order.received_minor, order.refunded_minor) == (29000, 8243)
    kept = OrderLineVersion.objects.get(line__order=order, line__line_no=1)
    assert kept.paid_minor == 20757 == order.received_minor - order.refunded_minor
    # The buyer pays the difference: the exchange order goes on to review.
    payment_record(
        order=made, method="alipay", transaction_id="EX-PAY", amount_minor=3000, paid_at=None, actor=admin_operator
    )
    made.refresh_from_db()
    assert (made.payment_status, made.status) == ("paid", "pending_review")
    # Linked both ways in the lineage graph; the original is not retired by it.
    graph = order_lineage(order=made)
    assert graph.edges[0]["parent"] == order.number and graph.edges[0]["kind"] == "exchange"
    assert order.number in order_lineage(order=order).nodes and made.number in order_lineage(order=order).nodes
    assert order_living_successors(order_ids=[order.pk]) == {}
    assert stock_verify().ok


def test_an_exchange_at_a_lower_price_refunds_the_rest(shipped: Any, admin_operator: Any) -> None:
    order = shipped()
    ChannelPolicy.objects.create(channel=order.channel, method="proportional")
    case, _ = case_create(order=order, req=exchange_nuts("50.00"), actor=admin_operator)
    assert (case.refund_minor, case.owed_minor) == (5000, 0)
    case = _through_inspection(case, admin_operator)
    assert case.status == states.REFUNDING
    made = Order.objects.get(pk=case.linked_order_id)
    assert (made.payable_minor, made.received_minor, made.status) == (3529, 3529, "pending_review")
    assert Payment.objects.get(order=order, kind="payment").refund_due_minor == 5000
    case = case_refund(case, method="alipay", transaction_id="RF-EX", actor=admin_operator)
    assert case.status == states.REFUNDED
    order.refresh_from_db()
    # 290.00 = 205.71 kept + 35.29 carried to the exchange + 50.00 back.
    assert (order.received_minor, order.refunded_minor) == (29000, 8529)


def test_the_same_sku_defaults_to_its_price_and_bad_replacements_are_refused(shipped: Any, admin_operator: Any) -> None:
    order = shipped()
    same = case_preview(order=order, req=exchange_nuts(None, sku="NUT-002"), actor=admin_operator)
    assert (same.refund_minor, getattr(same, "owed_minor", None)) == (0, 0)
    bad = CaseRequest(
        kind="exchange",
        reason_code="wrong_item",
        units={2: 1},
        replacements=(
            ReplacementRequest(replaces=1, sku_code="NOPE", quantity=1, unit_price_minor=100),
            ReplacementRequest(replaces=2, sku_code="CUP-003", quantity=1),
        ),
    )
    with pytest.raises(ValidationFailed) as caught:
        case_create(order=order, req=bad, actor=admin_operator)
    assert {(d.field, d.code) for d in caught.value.details} == {
        ("replacements[0].replaces", "not_returned"),
        ("replacements[0].sku", "unknown_sku"),
        ("replacements[1].unit_price", "required"),
    }
    with pytest.raises(ValidationFailed) as caught:
        case_create(
            order=order, req=CaseRequest(kind="exchange", reason_code="quality", units={2: 1}), actor=admin_operator
        )
    assert Case.objects.count() == 0


def test_a_reissue_is_linked_in_the_lineage_graph(shipped: Any, admin_operator: Any) -> None:
    order = shipped()
    req = CaseRequest(kind="reissue", reason_code="missing_item", units={2: 1})
    case, _ = case_create(order=order, req=req, actor=admin_operator)
    case = case_act(case, states.APPROVE, actor=admin_operator)
    graph = order_lineage(order=order)
    assert [(e["parent"], e["child"], e["kind"]) for e in graph.edges] == [
        (order.number, case.linked_order.number, "reissue")
    ]
    assert order_living_successors(order_ids=[order.pk]) == {}
