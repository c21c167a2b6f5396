"""The operation-log action names this app records (`audit_record(action=...)`). The strings are
stored in the log: renaming one is a data migration, not a refactor."""

from __future__ import annotations

from typing import Final

ORDER_INTAKE: Final = "order.intake"
ORDER_PLATFORM_REVISE: Final = "order.platform_revise"
ORDER_REMARKS: Final = "order.remarks"
ORDER_TRANSITION: Final = "order.transition"
PAYMENT_RECORD: Final = "payment.record"
PAYMENT_REFUND_EXCESS: Final = "payment.refund_excess"
ORDER_LINES_REAPPORTION: Final = "order.lines_reapportion"
ORDER_REISSUE: Final = "order.reissue"
ORDER_EXCHANGE: Final = "order.exchange"
# Money of an order carried to another that stands for part of it (an exchange order paid from the return).
PAYMENT_CARRY: Final = "payment.carry"
ORDER_INVOICE_PROFILE: Final = "order.invoice_profile"
CUSTOMER_INVOICE_PROFILE: Final = "customer.invoice_profile"
CUSTOMER_UPDATE: Final = "customer.update"
