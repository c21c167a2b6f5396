"""The operation-log action names this app records (`audit_record(action=...)`). The strings are
stored in the log: renaming one is a data migration, not a refactor."""

from __future__ import annotations

from typing import Final

STOCK_COUNT: Final = "stock.count"
STOCK_DEFECTIVE: Final = "stock.defective"
STOCK_RECEIPT: Final = "stock.receipt"
STOCK_RETURN_CREATE: Final = "stock.return.create"
STOCK_RETURN_RECEIVE: Final = "stock.return.receive"
STOCK_RETURN_SHIP: Final = "stock.return.ship"
STOCK_TRANSFER_CREATE: Final = "stock.transfer.create"
STOCK_TRANSFER_RECEIVE: Final = "stock.transfer.receive"
STOCK_TRANSFER_SHIP: Final = "stock.transfer.ship"

# Cancelling a reserved document, by its type (a DocumentType value).
STOCK_CANCEL_BY_TYPE: Final = {
    "receipt": "stock.receipt.cancel",
    "adjustment": "stock.adjustment.cancel",
    "defective": "stock.defective.cancel",
    "transfer": "stock.transfer.cancel",
    "return": "stock.return.cancel",
}
