from __future__ import annotations

from typing import Any

import pytest

from oms.audit.models import OperationLog
from oms.core.errors import Conflict, ValidationFailed
from oms.core.rules import RuleParseError
from oms.orders.models import OrderEvent
from oms.review.models import BlacklistEntry, Interception, Rule
from oms.review.services import (
    interceptions_release,
    order_force_review,
    order_review,
    order_review_dry_run,
    orders_review,
    refund_request_receive,
    rule_save,
)


def _open_codes(order: Any) -> list[str]:
    return sorted(Interception.objects.filter(order=order, state="open").values_list("reason_code", flat=True))


def test_seeded_rules_exist_and_parse(db: Any) -> None:
    codes = set(Rule.objects.filter(kind="review").values_list("code", flat=True))
    assert {
        "remark",
        "unmapped_sku",
        "address",
        "finance_review",
        "blacklist",
        "price_floor",
        "suspected_merge",
        "refund",
    } <= codes
    for rule in Rule.objects.all():
        rule.full_clean()


def test_clean_order_passes_review(paid_order: Any, admin_operator: Any) -> None:
    order = paid_order()
    assert order.status == "pending_review"
    outcome = order_review(order=order, actor=admin_operator)
    assert outcome.passed
    order.refresh_from_db()
    assert order.reviewed_at is not None
    assert OrderEvent.objects.filter(order=order, kind="reviewed").exists()
    assert OperationLog.objects.filter(action="order.review", object_id=str(order.pk)).exists()


def test_each_seeded_rule_intercepts_with_its_reason(paid_order: Any, admin_operator: Any) -> None:
    remark = paid_order(buyer_remark="周末不在家，请周一送")
    bad_address = paid_order(
        receiver={
            "name": "张三",
            "phone": "13700000000",
            "province": "浙江",
            "city": "杭州",
            "district": "",
            "address": "某集运仓 A12",
        }
    )
    unmapped = paid_order(
        lines=[{"platform_sku_code": "UNKNOWN-9", "quantity": 1, "unit_price": "20.00"}], order_discount="0.00"
    )
    cheap = paid_order(
        lines=[{"sku_code": "TEA-001", "quantity": 1, "unit_price": "100.00", "line_discount": "80.00"}],
        order_discount="0.00",
    )
    BlacklistEntry.objects.create(kind="phone", value="13900000000")
    listed = paid_order(
        receiver={
            "name": "李四",
            "phone": "13900000000",
            "province": "江苏",
            "city": "南京",
            "district": "玄武区",
            "address": "中山路 8 号",
        }
    )
    outcomes = {
        o.order.pk: o
        for o in orders_review(orders=[remark, bad_address, unmapped, cheap, listed], actor=admin_operator)
    }
    assert outcomes[remark.pk].open_codes == ["remark"]
    assert "address" in outcomes[bad_address.pk].open_codes
    assert "unmapped_sku" in outcomes[unmapped.pk].open_codes
    assert "price_floor" in outcomes[cheap.pk].open_codes
    assert "blacklist" in outcomes[listed.pk].open_codes
    assert not any(o.passed for o in outcomes.values())
    hold = Interception.objects.get(order=remark)
    assert hold.reason and hold.rule is not None and not hold.after_review


def test_release_lets_the_order_pass_and_review_does_not_raise_it_again(paid_order: Any, admin_operator: Any) -> None:
    order = paid_order(buyer_remark="发顺丰")
    order_review(order=order, actor=admin_operator)
    hold = Interception.objects.get(order=order, state="open")
    with pytest.raises(ValidationFailed):
        interceptions_release(interception_ids=[hold.pk], actor=admin_operator, note=" ")
    outcomes = interceptions_release(interception_ids=[hold.pk], actor=admin_operator, note="已看备注，可发顺丰")
    assert [o.passed for o in outcomes] == [True]
    order.refresh_from_db()
    assert order.reviewed_at is not None
    assert _open_codes(order) == []
    assert OperationLog.objects.filter(action="interception.release", reason="已看备注，可发顺丰").exists()
    with pytest.raises(Conflict):
        interceptions_release(interception_ids=[hold.pk], actor=admin_operator, note="again")


def test_open_interception_blocks_review_until_all_are_released(paid_order: Any, admin_operator: Any) -> None:
    order = paid_order(
        buyer_remark="加急",
        receiver={
            "name": "王五",
            "phone": "13600000000",
            "province": "广东",
            "city": "广州",
            "district": "",
            "address": "1号",
        },
    )
    outcome = order_review(order=order, actor=admin_operator)
    assert sorted(outcome.open_codes) == ["address", "remark"]
    first = Interception.objects.get(order=order, reason_code="remark")
    (after_first,) = interceptions_release(interception_ids=[first.pk], actor=admin_operator, note="ok")
    assert not after_first.passed
    order.refresh_from_db()
    assert order.reviewed_at is None


def test_force_review_needs_a_reason_and_releases_every_hold(paid_order: Any, admin_operator: Any) -> None:
    order = paid_order(buyer_remark="x")
    order_review(order=order, actor=admin_operator)
    with pytest.raises(ValidationFailed):
        order_force_review(order=order, actor=admin_operator, reason="")
    order_force_review(order=order, actor=admin_operator, reason="客户来电确认")
    order.refresh_from_db()
    assert order.reviewed_at is not None
    assert _open_codes(order) == []
    assert OperationLog.objects.filter(action="order.force_review", reason="客户来电确认").exists()


def test_review_of_a_reviewed_order_is_409(paid_order: Any, admin_operator: Any) -> None:
    order = paid_order()
    order_review(order=order, actor=admin_operator)
    with pytest.raises(Conflict):
        order_review(order=order, actor=admin_operator)


def test_refund_request_after_review_intercepts_once(paid_order: Any, admin_operator: Any) -> None:
    order = paid_order()
    order_review(order=order, actor=admin_operator)
    for _ in range(2):
        refund_request_receive(
            order=order, platform_refund_id="RF1", amount_minor=1000, reason="不想要了", actor=admin_operator
        )
    holds = Interception.objects.filter(order=order, reason_code="refund")
    assert holds.count() == 1
    assert holds.get().after_review


def test_suspected_merge_same_buyer_other_address(paid_order: Any, admin_operator: Any) -> None:
    buyer = {"platform_buyer_id": "same-buyer", "nickname": "小王", "phone": "13800138000"}
    first = paid_order(buyer=buyer)
    second = paid_order(
        buyer=buyer,
        receiver={
            "name": "王小明",
            "phone": "13800138000",
            "province": "上海",
            "city": "上海",
            "district": "浦东新区",
            "address": "世纪大道 1 号",
        },
    )
    outcomes = {o.order.pk: o for o in orders_review(orders=[first, second], actor=admin_operator)}
    assert outcomes[first.pk].open_codes == ["suspected_merge"]
    assert outcomes[second.pk].open_codes == ["suspected_merge"]


def test_disabled_rule_does_not_intercept(paid_order: Any, admin_operator: Any) -> None:
    Rule.objects.filter(code="remark").update(enabled=False)
    order = paid_order(buyer_remark="hello")
    assert order_review(order=order, actor=admin_operator).passed


def test_rule_save_refuses_bad_condition_and_logs_changes(db: Any, admin_operator: Any) -> None:
    with pytest.raises(RuleParseError) as err:
        rule_save(
            rule=None,
            data={"kind": "review", "code": "big", "name": "大单", "condition": "paid_amount > > 3"},
            actor=admin_operator,
        )
    assert err.value.position == 14
    rule = rule_save(
        rule=None,
        data={"kind": "review", "code": "big", "name": "大单", "condition": "paid_amount > 3"},
        actor=admin_operator,
    )
    rule_save(rule=rule, data={"condition": "paid_amount > 300"}, actor=admin_operator)
    log = OperationLog.objects.filter(action="rule.save", object_id=str(rule.pk)).order_by("id").last()
    assert log is not None
    assert log.before == {"condition": "paid_amount > 3"}
    assert log.after == {"condition": "paid_amount > 300"}


def test_dry_run_shows_every_rule_and_changes_nothing(paid_order: Any) -> None:
    order = paid_order(buyer_remark="note")
    result = order_review_dry_run(order=order, condition="paid_amount > 1")
    hits = {h.code: h.matched for h in result["hits"]}
    assert hits["remark"] is True
    assert hits["finance_review"] is False
    assert result["draft_matches"] is True
    assert result["facts"]["skus"] == ["CUP-003", "NUT-002", "TEA-001"]
    assert not Interception.objects.exists()


def test_bulk_review_uses_a_fixed_number_of_queries(paid_order: Any, admin_operator: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for n in (3, 12):
        orders = [paid_order() for _ in range(n)]
        with CaptureQueriesContext(connection) as queries:
            outcomes = orders_review(orders=orders, actor=admin_operator)
        assert len(outcomes) == n
        counts.append(len(queries))
    assert counts[0] == counts[1]
