"""What a report is asked for, already parsed: a period of local days and the filters (pure, no Django)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

# What a sales report can be broken down by (the table under the chart).
BREAKDOWNS = ("day", "channel", "province", "sku", "category")
# Breakdowns and filters that need the per-SKU figures (which know nothing of shipping, payments or provinces).
LINE_LEVEL = frozenset({"sku", "category"})


@dataclass(frozen=True)
class ReportFilters:
    day_from: date
    day_to: date
    channel: str = ""
    channel_id: int | None = None
    province: str = ""
    sku: str = ""
    sku_id: int | None = None
    category: str = ""
    category_id: int | None = None
    currency: str = "CNY"
    by: str = "day"

    @property
    def line_level(self) -> bool:
        """Figures come from the per-SKU rollup: a SKU or category is filtered on or broken down by."""
        return bool(self.sku_id or self.category_id) or self.by in LINE_LEVEL

    def narrowed(self, **changes: object) -> ReportFilters:
        return replace(self, **changes)  # type: ignore[arg-type]

    def query(self) -> dict[str, str]:
        """The filters as query-string parameters (what the console links and the API accept)."""
        params = {
            "from": self.day_from.isoformat(),
            "to": self.day_to.isoformat(),
            "channel": self.channel,
            "province": self.province,
            "sku": self.sku,
            "category": self.category,
            "currency": self.currency,
            "by": self.by,
        }
        return {k: v for k, v in params.items() if v}
