"""Pure rules of split and merge: who may be merged with whom, how remarks and invoices combine.
The money of a split (lines, promotions, payments carried) is planned in `oms.orders.domain.split`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class MergeView:
    """What merging looks at in one order."""

    number: str
    channel_id: int
    customer_id: int | None
    receiver: tuple[str, ...]
    is_cod: bool
    is_presale: bool
    currency: str
    invoice: tuple[str, str, str, str]  # kind, title, tax id, email
    buyer_remark: str
    seller_remark: str


def merge_key(o: MergeView) -> tuple[object, ...]:
    """Orders merge only when they share channel, buyer, receiver (name, phone, full address) and the
    cash-on-delivery flag: one parcel, one buyer, one way to pay at the door."""
    return (o.channel_id, o.customer_id, o.receiver, o.is_cod, o.currency)


def merge_problems(orders: Sequence[MergeView]) -> list[str]:
    problems: list[str] = []
    if len(orders) < 2:
        problems.append("Merging needs at least two orders.")
    if len({o.number for o in orders}) != len(orders):
        problems.append("An order cannot be merged with itself.")
    if not orders:
        return problems
    first = orders[0]
    for o in orders[1:]:
        if o.channel_id != first.channel_id:
            problems.append(f"{o.number} is from another channel than {first.number}.")
        if o.customer_id != first.customer_id:
            problems.append(f"{o.number} has another buyer than {first.number}.")
        if o.receiver != first.receiver:
            problems.append(f"{o.number} ships to another receiver or address than {first.number}.")
        if o.is_cod != first.is_cod:
            problems.append(f"{o.number} and {first.number} differ in cash on delivery.")
        if o.is_presale != first.is_presale:
            problems.append(f"{o.number} and {first.number}: presale orders merge only with presale orders.")
        if o.currency != first.currency:
            problems.append(f"{o.number} is in another currency than {first.number}.")
    return problems


def invoice_conflict(orders: Sequence[MergeView]) -> bool:
    """True when the orders ask for different invoices (an order asking for none does not conflict)."""
    wanted = {o.invoice for o in orders if o.invoice[0] != "none"}
    return len(wanted) > 1


def merged_remark(parts: Sequence[tuple[str, str]], limit: int = 500) -> str:
    """Remarks of merged orders, each marked with the order it came from (S5): 【SO1】… 【SO2】…"""
    text = " ".join(f"【{number}】{remark.strip()}" for number, remark in parts if remark.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"
