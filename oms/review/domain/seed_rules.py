"""The review rules a new installation starts with. Operators edit or disable them in the console."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SeedRule:
    code: str
    name: str
    condition: str
    reason: str
    priority: int
    enabled: bool = True


SEED_REVIEW_RULES: tuple[SeedRule, ...] = (
    SeedRule(
        "remark", "有备注 Remark present", "has_remark", "Buyer or seller left a remark: read it before shipping.", 10
    ),
    SeedRule("unmapped_sku", "未匹配商品 Unmapped SKU", "has_unmapped_sku", "A line maps to no SKU of ours.", 20),
    SeedRule(
        "address",
        "地址异常 Abnormal address",
        'not address_complete or address =~ ".*(集运|转运|代收点).*"',
        "The address is incomplete, or goes to a forwarding or pickup point.",
        30,
    ),
    SeedRule(
        "finance_review",
        "待财审 Finance review",
        "paid_amount >= 5000",
        "Large order: finance must review it (待财审).",
        40,
    ),
    SeedRule("blacklist", "黑名单 Blacklisted buyer", "blacklisted", "The buyer, phone or address is blacklisted.", 50),
    SeedRule(
        "price_floor",
        "低价 Price below floor",
        "lowest_paid_ratio < 0.3",
        "A line sold below 30% of its list price.",
        60,
    ),
    SeedRule(
        "suspected_merge",
        "疑似合单 Same buyer, other address",
        "other_open_orders_other_address > 0",
        "The same buyer has another open order to a different address.",
        70,
    ),
    SeedRule("refund", "退款中 Refund requested", "refund_pending", "The buyer asked the platform for a refund.", 80),
    SeedRule(
        "not_merged",
        "同买家未合单 Same buyer, not merged",
        "unmerged_mergeable_orders > 0",
        "The same buyer has another open order to the same address that was not merged with this one.",
        75,
    ),
)
