"""The operation-log action names this app records (`audit_record(action=...)`). The strings are
stored in the log: renaming one is a data migration, not a refactor."""

from __future__ import annotations

from typing import Final

ORDER_ALLOCATE: Final = "order.allocate"
ORDER_ASSIGN_COURIER: Final = "order.assign_courier"
ORDER_CANCEL_REMAINDER: Final = "order.cancel_remainder"
ORDER_DISPATCH: Final = "order.dispatch"
ORDER_SET_COURIER: Final = "order.set_courier"
ORDER_SHIP: Final = "order.ship"
ORDER_TRANSFER_WAREHOUSE: Final = "order.transfer_warehouse"
PARCEL_REJECTED: Final = "parcel.rejected"
PARCEL_SIGNED: Final = "parcel.signed"
SHIPMENT_WITHDRAW: Final = "shipment.withdraw"
STOCKOUT_CANCEL: Final = "stockout.cancel"
STOCKOUT_RESOLVE: Final = "stockout.resolve"
