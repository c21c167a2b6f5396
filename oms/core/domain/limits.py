"""Upper limits on quantities and money, per field: far above anything real, far below where the
64-bit columns (and the platforms' APIs) overflow. A value above its limit is refused by the service or
domain reader that takes it in, as a field error with code ``too_large`` (the API answers 422), and
nothing is written. The README's "Limits" table lists them; change them here only.
"""

from __future__ import annotations

# Stock (units).
MAX_ORDER_LINE_QUANTITY = 100_000  # one order line
MAX_DOCUMENT_LINE_QUANTITY = 10_000_000  # one line of a receipt, count, transfer, return or defective mark
MAX_STOCK_UNITS = 1_000_000_000  # what one warehouse may hold of one SKU (on hand + defective)
MAX_CHANNEL_QUANTITY = 1_000_000_000  # a channel rule's fixed quota, minimum, maximum and safety stock

# Money (minor units, 分).
MAX_UNIT_PRICE_MINOR = 10**10  # ¥100,000,000 per unit
MAX_SHIPPING_MINOR = 10**8  # ¥1,000,000 of shipping on one order
MAX_AMOUNT_MINOR = 10**12  # any other amount: an order's totals and discounts, a payment, a refund


def over_limit(value: int, limit: int) -> bool:
    return value > limit
