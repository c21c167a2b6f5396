"""Payment status (O4) is derived from the payment records, never set by hand."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

# Payment rows of this method are bookkeeping, not money: an order made by a split or merge carries its share
# of what the buyer paid (or was refunded) on the retired original(s), whose own rows keep the cash. An order's
# paid status counts them; cash figures across orders never do.
CARRIED_METHOD = "carried"


class PaymentStatus(StrEnum):
    UNPAID = "unpaid"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


PAYMENT_STATUS_LABELS: dict[PaymentStatus, tuple[str, str]] = {
    PaymentStatus.UNPAID: ("未支付", "Unpaid"),
    PaymentStatus.PARTIALLY_PAID: ("部分支付", "Partially paid"),
    PaymentStatus.PAID: ("已支付", "Paid"),
    PaymentStatus.PARTIALLY_REFUNDED: ("部分退款", "Partially refunded"),
    PaymentStatus.REFUNDED: ("已退款", "Refunded"),
}


def derive_payment_status(*, payable_minor: int, received_minor: int, refunded_minor: int) -> PaymentStatus:
    """From the sums of successful payments and refunds. Overpayment still reads as paid (the
    surplus is a refund case for finance, not a different status)."""
    if refunded_minor > 0:
        return PaymentStatus.REFUNDED if refunded_minor >= received_minor else PaymentStatus.PARTIALLY_REFUNDED
    if received_minor <= 0:
        return PaymentStatus.PAID if payable_minor == 0 else PaymentStatus.UNPAID
    if received_minor < payable_minor:
        return PaymentStatus.PARTIALLY_PAID
    return PaymentStatus.PAID


def refund_settle(*, amount_minor: int, dues_minor: Sequence[int]) -> list[int]:
    """What a refund pays off of each amount owed back, taken in the order given (the payment the refund
    names first, then the oldest): each in full before the next, never more than it is owed. What is left
    of the refund settles nothing; it is still a refund, just not one anybody was owed."""
    left = max(amount_minor, 0)
    applied: list[int] = []
    for due in dues_minor:
        take = min(max(due, 0), left)
        applied.append(take)
        left -= take
    return applied


def refund_excess(*, received_minor: int, refunded_before_minor: int, amount_minor: int) -> int:
    """How much of a refund of ``amount_minor`` goes beyond what the order still holds (received less what
    earlier refunds gave back of it, their own excess not counted): money that was never taken cannot be
    given back, so that part is an anomaly, not a refund. Between 0 and the amount."""
    holds = max(received_minor - refunded_before_minor, 0)
    return min(max(amount_minor - holds, 0), max(amount_minor, 0))


def refunded_in_full(payment_status: str) -> bool:
    """An order whose money all went back (or more) must not be reviewed, given a courier or dispatched."""
    return payment_status == PaymentStatus.REFUNDED
