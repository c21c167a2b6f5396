"""The documented order facts that review, warehouse and courier rules are written over.

Operators see this list next to the rule editor; adding a fact means adding it here and filling it
in `oms.review.selectors.order_facts_many`.
"""

from __future__ import annotations

from oms.core.rules import Fact, FactType

ORDER_FACTS: tuple[Fact, ...] = (
    Fact("paid_amount", FactType.NUMBER, "Amount the buyer paid (yuan) 实付金额"),
    Fact("payable_amount", FactType.NUMBER, "Amount payable (yuan) 应付金额"),
    Fact("goods_amount", FactType.NUMBER, "List value of the goods (yuan) 商品金额"),
    Fact("discount_amount", FactType.NUMBER, "Item + order discounts (yuan) 优惠金额"),
    Fact("line_count", FactType.NUMBER, "Number of order lines 行数"),
    Fact("total_quantity", FactType.NUMBER, "Units over all lines 总件数"),
    Fact("skus", FactType.STRINGS, "SKU codes on the order 商家编码"),
    Fact("categories", FactType.STRINGS, "Category codes on the order 类目"),
    Fact("weight_g", FactType.NUMBER, "Total weight in grams 重量"),
    Fact("volume_cm3", FactType.NUMBER, "Total volume in cm³ 体积"),
    Fact("buyer_remark", FactType.STRING, "Buyer's remark 买家备注"),
    Fact("seller_remark", FactType.STRING, "Seller's remark 卖家备注"),
    Fact("has_remark", FactType.BOOLEAN, "Buyer or seller remark present 有备注"),
    Fact("buyer_id", FactType.STRING, "Platform buyer id 买家ID"),
    Fact("buyer_phone", FactType.STRING, "Receiver phone 收件人电话"),
    Fact("blacklisted", FactType.BOOLEAN, "Buyer, phone or address on the blacklist 黑名单"),
    Fact("province", FactType.STRING, "Receiver province, full name 省份"),
    Fact("city", FactType.STRING, "Receiver city 城市"),
    Fact("district", FactType.STRING, "Receiver district 区县"),
    Fact("address", FactType.STRING, "City, district and street address as one text 详细地址"),
    Fact("address_complete", FactType.BOOLEAN, "Province, city, street address and phone all usable 地址完整"),
    Fact("channel", FactType.STRING, "Channel (shop) code 店铺"),
    Fact("platform", FactType.STRING, "Platform: tmall, jd, vip, douyin, store, distributor, manual 平台"),
    Fact("order_type", FactType.STRING, "sale, return or reissue 订单类型"),
    Fact("cod", FactType.BOOLEAN, "Cash on delivery 货到付款"),
    Fact("presale", FactType.BOOLEAN, "Presale order 预售"),
    Fact("paid_at", FactType.DATETIME, "Payment time 付款时间"),
    Fact("refund_pending", FactType.BOOLEAN, "A platform refund request is open 退款中"),
    Fact("has_unmapped_sku", FactType.BOOLEAN, "A line's platform SKU maps to no SKU 未匹配商品"),
    Fact("has_gift", FactType.BOOLEAN, "The order carries a gift line 含赠品"),
    Fact("lowest_paid_ratio", FactType.NUMBER, "Lowest paid ÷ list value over priced lines (0–1) 最低成交折扣"),
    Fact(
        "other_open_orders_other_address",
        FactType.NUMBER,
        "Same buyer's other open orders to a different address 同买家异地址未发货订单数",
    ),
    Fact("same_buyer_open_orders", FactType.NUMBER, "Same buyer's other open, unshipped orders 同买家未发货订单数"),
    Fact(
        "unmerged_mergeable_orders",
        FactType.NUMBER,
        "Other open orders this one could be merged with but is not 同买家可合未合订单数",
    ),
)

FACT_NAMES: frozenset[str] = frozenset(f.name for f in ORDER_FACTS)
