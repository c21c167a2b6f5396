"""Parsing console form posts into what the services take (no database writes, one selector read at most)."""

from __future__ import annotations

from collections.abc import Mapping

from oms.catalog.selectors import sku_by_code
from oms.channels.models import AllocationRule, RuleMethod, RuleScope


def int_field(value: str | None) -> int:
    """A whole number from a form field; blank or not a number reads as 0 (the service validates ranges)."""
    try:
        return int(value or 0)
    except ValueError:
        return 0


def allocation_rule_from_post(post: Mapping[str, str], rule: AllocationRule | None = None) -> AllocationRule:
    """An unsaved allocation rule (a new one, or ``rule`` with the posted changes): the scope decides which
    of category and SKU (by code) applies; the service validates the rest."""
    rule = rule or AllocationRule()
    rule.channel_id = int_field(post.get("channel"))
    rule.scope = post.get("scope", RuleScope.ALL)
    rule.category_id = int_field(post.get("category")) or None if rule.scope == RuleScope.CATEGORY else None
    rule.sku = sku_by_code(post.get("sku", "").strip()) if rule.scope == RuleScope.SKU else None
    rule.method = post.get("method", RuleMethod.RATIO)
    rule.ratio_bp = int_field(post.get("ratio_bp"))
    rule.fixed_quantity = int_field(post.get("fixed_quantity"))
    rule.forecast_days = int_field(post.get("forecast_days")) or 30
    rule.min_quantity = int_field(post.get("min_quantity"))
    rule.max_quantity = int_field(post.get("max_quantity")) if post.get("max_quantity") else None
    rule.safety_stock = int_field(post.get("safety_stock"))
    rule.priority = int_field(post.get("priority")) or 100
    rule.is_active = post.get("is_active", "on") == "on"
    return rule
