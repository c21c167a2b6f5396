"""Golden TOP trades (fields as the TOP Trade/Order models define them) mapped to exact intake payloads."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import pytest

from oms.connectors.domain.mapped import CHINA_TZ, LineShare, MappedRefund, MappingError, Phase, RefundState
from oms.connectors.domain.taobao import map_trade

# Two sub-orders: 2 × 59.90 with a 5.00 item discount, 1 × 89.00; a 10.00 shop coupon (满减) apportioned by
# the platform as 5.36 / 4.64 (part_mjz_discount); shipping 8.00; buyer pays 201.80.
PAID_TRADE: dict[str, Any] = {
    "tid": 3267451922345678,
    "status": "WAIT_SELLER_SEND_GOODS",
    "type": "fixed",
    "created": "2026-11-30 10:00:00",
    "modified": "2026-11-30 10:01:30",
    "pay_time": "2026-11-30 10:01:00",
    "total_fee": "208.80",
    "discount_fee": "10.00",
    "post_fee": "8.00",
    "payment": "201.80",
    "alipay_no": "2026113022001156781234567890",
    "buyer_nick": "t**1",
    "buyer_open_uid": "AAHk5d-EAAeGwJedwSHpu3Xp",
    "buyer_message": "周末送货",
    "seller_memo": "送试用装",
    "receiver_name": "王小明",
    "receiver_mobile": "13800138000",
    "receiver_state": "浙江省",
    "receiver_city": "杭州市",
    "receiver_district": "西湖区",
    "receiver_address": "文三路 100 号",
    "receiver_zip": "310000",
    "invoice_name": "杭州某某科技有限公司",
    "buyer_tax_no": "91330100MA2B3C4D5E",
    "orders": {
        "order": [
            {
                "oid": 3267451922345679,
                "num_iid": 600000000001,
                "sku_id": "4800000000011",
                "outer_sku_id": "TEA-001",
                "title": "龙井绿茶 250g",
                "price": "59.90",
                "num": 2,
                "total_fee": "114.80",
                "discount_fee": "5.00",
                "adjust_fee": "0.00",
                "payment": "114.80",
                "part_mjz_discount": "5.36",
                "divide_order_fee": "109.44",
                "refund_status": "NO_REFUND",
            },
            {
                "oid": 3267451922345680,
                "num_iid": 600000000002,
                "sku_id": "4800000000022",
                "outer_iid": "NUT-002",
                "title": "每日坚果 30包",
                "price": "89.00",
                "num": 1,
                "discount_fee": "0.00",
                "adjust_fee": "0.00",
                "payment": "89.00",
                "part_mjz_discount": "4.64",
                "divide_order_fee": "84.36",
                "refund_status": "NO_REFUND",
            },
        ]
    },
}


def test_a_paid_multi_line_trade_maps_to_the_exact_intake_payload() -> None:
    mapped = map_trade(copy.deepcopy(PAID_TRADE))
    assert mapped.platform_order_id == "3267451922345678"
    assert mapped.phase is Phase.PAID and mapped.native_status == "WAIT_SELLER_SEND_GOODS"
    assert mapped.modified_at == datetime(2026, 11, 30, 10, 1, 30, tzinfo=CHINA_TZ)
    assert mapped.payload == {
        "platform_order_id": "3267451922345678",
        "type": "sale",
        "currency": "CNY",
        "placed_at": "2026-11-30T10:00:00+08:00",
        "buyer": {"platform_buyer_id": "AAHk5d-EAAeGwJedwSHpu3Xp", "nickname": "t**1"},
        "receiver": {
            "name": "王小明",
            "phone": "13800138000",
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "address": "文三路 100 号",
            "postcode": "310000",
        },
        "buyer_remark": "周末送货",
        "seller_remark": "送试用装",
        "invoice": {"kind": "company", "title": "杭州某某科技有限公司", "tax_id": "91330100MA2B3C4D5E"},
        "presale": False,
        "cod": False,
        "order_discount": "10.00",
        "shipping": "8.00",
        "payment": {
            "method": "alipay",
            "transaction_id": "2026113022001156781234567890",
            "amount": "201.80",
            "paid_at": "2026-11-30T10:01:00+08:00",
        },
        "lines": [
            {
                "platform_line_id": "3267451922345679",
                "platform_sku_code": "4800000000011",
                "sku_code": "TEA-001",
                "name": "龙井绿茶 250g",
                "quantity": 2,
                "unit_price": "59.90",
                "line_discount": "5.00",
            },
            {
                "platform_line_id": "3267451922345680",
                "platform_sku_code": "4800000000022",
                "sku_code": "NUT-002",
                "name": "每日坚果 30包",
                "quantity": 1,
                "unit_price": "89.00",
                "line_discount": "0.00",
            },
        ],
        "totals": {"payable": "201.80"},
    }
    assert mapped.line_shares == (LineShare("3267451922345679", 10944), LineShare("3267451922345680", 8436))
    assert mapped.refunds == () and not mapped.receiver_masked
    assert mapped.buyer_token == "AAHk5d-EAAeGwJedwSHpu3Xp"


def test_presale_with_only_the_deposit_paid_is_unpaid_with_the_deposit_as_payment() -> None:
    trade = copy.deepcopy(PAID_TRADE)
    trade |= {"type": "step", "status": "WAIT_BUYER_PAY", "step_trade_status": "FRONT_PAID_FINAL_NOPAID",
              "step_paid_fee": "50.00"}  # fmt: skip
    mapped = map_trade(trade)
    assert mapped.phase is Phase.UNPAID and mapped.payload["presale"] is True
    assert mapped.payload["payment"]["amount"] == "50.00"


def test_cash_on_delivery_has_no_payment_and_the_cod_flag() -> None:
    trade = copy.deepcopy(PAID_TRADE) | {"type": "cod", "status": "WAIT_SELLER_SEND_GOODS"}
    del trade["pay_time"]
    mapped = map_trade(trade)
    assert mapped.payload["cod"] is True and mapped.payload["payment"] is None


def test_a_masked_receiver_is_flagged_and_its_oaid_is_the_receiver_token() -> None:
    trade = copy.deepcopy(PAID_TRADE) | {
        "receiver_name": "王**", "receiver_mobile": "138****8000", "receiver_address": "文三路***", "oaid": "1Qk7a9x"
    }  # fmt: skip
    mapped = map_trade(trade)
    assert mapped.receiver_masked and mapped.receiver_token == "1Qk7a9x"


def test_sub_order_refunds_map_with_their_state_and_the_line_paid_amount() -> None:
    trade = copy.deepcopy(PAID_TRADE)
    subs = trade["orders"]["order"]
    subs[0] |= {"refund_id": 88001, "refund_status": "WAIT_SELLER_AGREE"}
    subs[1] |= {"refund_id": 88002, "refund_status": "SUCCESS", "refund_fee": "20.00"}
    assert map_trade(trade).refunds == (
        MappedRefund("88001", "3267451922345679", 10944, RefundState.OPEN, "WAIT_SELLER_AGREE"),
        MappedRefund("88002", "3267451922345680", 2000, RefundState.SUCCESS, "SUCCESS"),
    )


def test_closed_and_shipped_statuses_map_to_their_phases() -> None:
    for status, phase in [("TRADE_CLOSED", Phase.CLOSED), ("WAIT_BUYER_CONFIRM_GOODS", Phase.SHIPPED),
                          ("TRADE_FINISHED", Phase.DONE), ("TRADE_NO_CREATE_PAY", Phase.UNPAID)]:  # fmt: skip
        assert map_trade(copy.deepcopy(PAID_TRADE) | {"status": status}).phase is phase


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"tid": None}, "required", "tid"),
        ({"status": "SOMETHING_NEW"}, "unknown_status", "status"),
        ({"payment": "201.805"}, "too_many_decimals", "payment"),
        ({"payment": 201.8}, "float_amount", "payment"),
        ({"orders": {"order": []}}, "required", "orders.order"),
        ({"modified": "yesterday"}, "bad_datetime", "modified"),
        ({"receiver_city": ""}, "required", "receiver_city"),
    ],
)
def test_a_bad_trade_names_the_native_field(change: dict[str, Any], code: str, field: str) -> None:
    trade = copy.deepcopy(PAID_TRADE) | change
    with pytest.raises(MappingError) as caught:
        map_trade(trade)
    assert (caught.value.code, caught.value.field) == (code, field)


def test_a_bad_sub_order_is_named_with_its_index() -> None:
    trade = copy.deepcopy(PAID_TRADE)
    trade["orders"]["order"][1]["num"] = 0
    with pytest.raises(MappingError) as caught:
        map_trade(trade)
    assert caught.value.field == "orders.order[1].num"
