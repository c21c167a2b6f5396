"""Golden native orders of JD, Douyin, Pinduoduo and Shopify, written from each platform's order model.

All four describe the same purchase, so they must map to the same money: 2 × 59.90 of TEA-001 with a 5.00
item discount, 1 × 89.00 of NUT-002, a 10.00 order discount, 8.00 shipping: the buyer pays 201.80.
"""

from __future__ import annotations

from typing import Any


def jd_order(order_id: str = "300012345678", modified: str = "2026-11-30 10:01:30", **over: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "orderId": order_id,
        "venderId": "10086",
        "orderType": "22",
        "payType": "4-在线支付",
        "orderTotalPrice": "208.80",
        "orderSellerPrice": "193.80",
        "orderPayment": "201.80",
        "freightPrice": "8.00",
        "sellerDiscount": "15.00",
        "orderState": "WAIT_SELLER_STOCK_OUT",
        "orderStateRemark": "等待出库",
        "orderRemark": "周末送货",
        "venderRemark": "",
        "orderStartTime": "2026-11-30 10:00:00",
        "paymentConfirmTime": "2026-11-30 10:01:00",
        "modified": modified,
        "pin": "jd_buyer_01",
        "open_id_buyer": "o-jd-8f1c2d",
        "consigneeInfo": {
            "fullname": "王小明",
            "mobile": "13800138000",
            "telephone": "",
            "province": "浙江",
            "city": "杭州市",
            "county": "西湖区",
            "fullAddress": "浙江杭州市西湖区文三路 100 号",
        },
        "itemInfoList": [
            {
                "skuId": "100012043978",
                "outerSkuId": "TEA-001",
                "skuName": "龙井绿茶 250g",
                "jdPrice": "59.90",
                "itemTotal": "2",
                "wareId": "100012043970",
            },
            {
                "skuId": "100012043979",
                "outerSkuId": "NUT-002",
                "skuName": "每日坚果 30包",
                "jdPrice": "89.00",
                "itemTotal": "1",
                "wareId": "100012043971",
            },
        ],
        "couponDetailList": [
            {"orderId": order_id, "skuId": "100012043978", "couponType": "30-单品促销优惠", "couponPrice": "5.00"},
            {"orderId": order_id, "skuId": "", "couponType": "100-店铺优惠", "couponPrice": "10.00"},
        ],
    }
    order.update(over)
    return order


def douyin_order(order_id: str = "6920000000000000001", update_time: int = 1796004090, **over: Any) -> dict[str, Any]:
    # 10.00 order discount divided by the platform onto the sub-orders: 5.36 and 4.64 (plus 5.00 item discount).
    order: dict[str, Any] = {
        "order_id": order_id,
        "order_status": 2,
        "order_status_desc": "备货中",
        "create_time": 1796004000,
        "update_time": update_time,
        "pay_time": 1796004060,
        "pay_type": 1,
        "order_amount": 20180,
        "pay_amount": 20180,
        "post_amount": 800,
        "promotion_amount": 1500,
        "buyer_words": "周末送货",
        "seller_words": "",
        "doudian_open_id": "1@#dyOpenId",
        "open_address_id": "#dyAddr8Kq",
        "post_receiver": "王小明",
        "post_tel": "13800138000",
        "post_addr": {
            "province": {"name": "浙江省", "id": "33"},
            "city": {"name": "杭州市", "id": "3301"},
            "town": {"name": "西湖区", "id": "330106"},
            "detail": "文三路 100 号",
        },
        "sku_order_list": [
            {
                "order_id": f"{order_id}1",
                "sku_id": "1740000001",
                "code": "TEA-001",
                "product_name": "龙井绿茶 250g",
                "goods_price": 5990,
                "item_num": 2,
                "origin_amount": 11980,
                "promotion_amount": 1036,
                "pay_amount": 10944,
            },
            {
                "order_id": f"{order_id}2",
                "sku_id": "1740000002",
                "code": "NUT-002",
                "product_name": "每日坚果 30包",
                "goods_price": 8900,
                "item_num": 1,
                "origin_amount": 8900,
                "promotion_amount": 464,
                "pay_amount": 8436,
            },
        ],
    }
    order.update(over)
    return order


def pdd_order(
    order_sn: str = "261130-012345678901234", updated_at: str = "2026-11-30 10:01:30", **over: Any
) -> dict[str, Any]:
    # Pinduoduo has no item-level discounts: the 5.00 item discount is part of the shop discount here.
    order: dict[str, Any] = {
        "order_sn": order_sn,
        "order_status": 1,
        "refund_status": 1,
        "confirm_status": 1,
        "trade_type": 0,
        "is_pre_sale": 0,
        "created_time": "2026-11-30 10:00:00",
        "pay_time": "2026-11-30 10:01:00",
        "updated_at": updated_at,
        "goods_amount": 208.8,
        "seller_discount": 10.0,
        "platform_discount": 5.0,
        "capital_free_discount": 0,
        "postage": 8,
        "pay_amount": 201.8,
        "pay_type": "WEIXIN",
        "pay_no": "4200001234202611301234567890",
        "buyer_memo": "周末送货",
        "remark": "",
        "receiver_name": "王小明",
        "receiver_phone": "13800138000",
        "province": "浙江省",
        "city": "杭州市",
        "town": "西湖区",
        "address": "文三路 100 号",
        "open_address_id": "pdd-addr-7f3e",
        "item_list": [
            {
                "goods_id": 300001,
                "sku_id": 900001,
                "outer_id": "TEA-001",
                "goods_name": "龙井绿茶 250g",
                "goods_price": 59.9,
                "goods_count": 2,
            },
            {
                "goods_id": 300002,
                "sku_id": 900002,
                "outer_id": "NUT-002",
                "goods_name": "每日坚果 30包",
                "goods_price": 89,
                "goods_count": 1,
            },
        ],
    }
    order.update(over)
    return order


def shopify_order(
    order_id: int = 5300000000001, updated_at: str = "2026-11-30T10:01:30+08:00", **over: Any
) -> dict[str, Any]:
    # discount_applications[0] is a line's own 5.00 off; [1] a 10.00 order coupon Shopify spread across lines.
    order: dict[str, Any] = {
        "id": order_id,
        "name": "#1001",
        "currency": "CNY",
        "created_at": "2026-11-30T10:00:00+08:00",
        "updated_at": updated_at,
        "processed_at": "2026-11-30T10:01:00+08:00",
        "financial_status": "paid",
        "fulfillment_status": None,
        "cancelled_at": None,
        "total_line_items_price": "208.80",
        "total_discounts": "15.00",
        "total_price": "201.80",
        "total_tax": "0.00",
        "taxes_included": True,
        "note": "周末送货",
        "payment_gateway_names": ["alipay"],
        "customer": {"id": 7100000000001, "email": "wang@example.com"},
        "discount_applications": [
            {"target_selection": "explicit", "allocation_method": "one", "value_type": "fixed_amount", "value": "5.0"},
            {"target_selection": "all", "allocation_method": "across", "value_type": "fixed_amount", "value": "10.0"},
        ],
        "line_items": [
            {
                "id": 13800000000001,
                "variant_id": 4400000000001,
                "sku": "TEA-001",
                "name": "龙井绿茶 250g",
                "price": "59.90",
                "quantity": 2,
                "discount_allocations": [
                    {"amount": "5.00", "discount_application_index": 0},
                    {"amount": "5.36", "discount_application_index": 1},
                ],
            },
            {
                "id": 13800000000002,
                "variant_id": 4400000000002,
                "sku": "NUT-002",
                "name": "每日坚果 30包",
                "price": "89.00",
                "quantity": 1,
                "discount_allocations": [{"amount": "4.64", "discount_application_index": 1}],
            },
        ],
        "shipping_lines": [{"title": "顺丰", "price": "8.00", "discounted_price": "8.00"}],
        "shipping_address": {
            "name": "王小明",
            "phone": "13800138000",
            "address1": "文三路 100 号",
            "address2": "西湖区",
            "city": "杭州市",
            "province": "Zhejiang",
            "province_code": "ZJ",
            "country_code": "CN",
            "zip": "310000",
        },
        "refunds": [],
    }
    order.update(over)
    return order
