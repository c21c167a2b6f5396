"""Red-letter reversal (红冲): bringing what was invoiced for each order line back to what the buyer finally paid.

A blue invoice is never edited. When a line's paid amount goes down (a return re-apportions it, a refund,
a cancellation) red rows against the blue invoices that hold it take exactly the difference back; when it goes
up (a gift now charged after a threshold was lost) a supplementary blue invoice adds the difference. So for
every line and component, blue − red = finally paid, to the fen.

What a blue invoice still holds is its rows plus the red rows against it, grouped per piece of money (a goods
row with its discount row and earlier reds: one group per line part; its shipping row: one group). A decrease
is taken from the newest invoice first and, within it, from the last part; never more than a group holds, in
money or in units. A red row's amount and tax are *telescoped*: the group after it is divided by the one rule
(`tax_split`) and the red row is that minus what the group held, so a group brought to 0 is cancelled to the
fen in amount, amount excluding tax and tax, and a group partly reversed states exactly what a fresh blue row
of its remaining amount would. A red row's tax difference is at most three rows' (≤ 1.7 fen, inside 0.06
yuan); red rows are packed into red documents against their blue one by the same limits as blue ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from oms.core.errors import ValidationFailed
from oms.invoicing.domain.plan import Policy, pack, row_make
from oms.invoicing.domain.rows import GOODS, ROW_GOODS, ROW_SHIPPING, SHIPPING, Document, Item, Row, Share
from oms.invoicing.domain.taxes import tax_split


@dataclass
class Group:
    """One piece of money a blue invoice holds, after the red rows against it."""

    kind: str  # ROW_GOODS or ROW_SHIPPING
    item: Item
    part: int
    amount_minor: int = 0
    excl_minor: int = 0
    tax_minor: int = 0
    quantity: int = 0
    shares: dict[tuple[int, str], list[int]] = field(default_factory=dict)  # (line, component) → [amount, units]


def groups_of(rows: Sequence[Row]) -> list[Group]:
    """The groups of one blue invoice, from its rows and every red row against it (in any order)."""
    groups: dict[tuple[str, int, int], Group] = {}
    for row in rows:
        first = row.shares[0]
        kind = ROW_SHIPPING if first.component == SHIPPING else ROW_GOODS
        gkey = (kind, first.key if kind == ROW_GOODS else 0, first.part)
        group = groups.setdefault(gkey, Group(kind, row.item, first.part))
        group.amount_minor += row.amount_minor
        group.excl_minor += row.excl_minor
        group.tax_minor += row.tax_minor
        group.quantity += row.quantity
        for share in row.shares:
            held = group.shares.setdefault((share.key, share.component), [0, 0])
            held[0] += share.amount_minor
            held[1] += share.quantity
    return [g for _k, g in sorted(groups.items(), key=lambda kv: (kv[0][0] == ROW_SHIPPING, kv[0][1], kv[0][2]))]


@dataclass(frozen=True)
class Target:
    amount_minor: int  # what the buyer finally paid for this line's component
    quantity: int = 0  # units the buyer keeps (goods)


@dataclass(frozen=True)
class Increase:
    """A line's component paid more than is invoiced: a supplementary blue row of this much."""

    key: int
    component: str
    amount_minor: int
    quantity: int


@dataclass(frozen=True)
class Adjustment:
    reds: list[Document]  # each names (``against``) the position of the blue invoice it reverses
    increases: list[Increase]


def _held(invoices: Sequence[list[Group]]) -> dict[tuple[int, str], list[int]]:
    out: dict[tuple[int, str], list[int]] = {}
    for groups in invoices:
        for group in groups:
            for k, (amount, units) in group.shares.items():
                held = out.setdefault(k, [0, 0])
                held[0] += amount
                held[1] += units
    return out


def plan_adjustment(
    invoices: Sequence[list[Group]], targets: Mapping[tuple[int, str], Target], policy: Policy
) -> Adjustment:
    """Red rows (and increases) that bring each (line, component) named in ``targets`` from what ``invoices``
    hold (oldest first) to its target. A (line, component) not named is left as it is."""
    held = _held(invoices)
    takes: dict[tuple[int, int], dict[tuple[int, str], list[int]]] = {}  # (invoice, group) → share → [amount, units]
    increases: list[Increase] = []
    for k, target in sorted(targets.items()):
        if target.amount_minor < 0 or target.quantity < 0:
            raise ValidationFailed(f"Line {k[0]}: a target is never negative.", code="bad_target")
        amount, units = held.get(k, [0, 0])
        if target.amount_minor > amount:
            increases.append(Increase(k[0], k[1], target.amount_minor - amount, max(target.quantity - units, 0)))
            continue
        left, units_left = amount - target.amount_minor, max(units - target.quantity, 0)
        for i in reversed(range(len(invoices))):
            for g in reversed(range(len(invoices[i]))):
                share = invoices[i][g].shares.get(k)
                if share is None or (left == 0 and units_left == 0):
                    continue
                take, take_units = min(left, share[0]), min(units_left, share[1])
                if take or take_units:
                    takes.setdefault((i, g), {})[k] = [take, take_units]
                    left, units_left = left - take, units_left - take_units
    reds: list[Document] = []
    for i in range(len(invoices)):
        rows = [_red_row(invoices[i][g], taken) for (inv, g), taken in sorted(takes.items()) if inv == i]
        reds += pack([(row,) for row in rows], policy, against=i)
    return Adjustment(reds, increases)


def _red_row(group: Group, taken: Mapping[tuple[int, str], list[int]]) -> Row:
    after = group.amount_minor - sum(t[0] for t in taken.values())
    units = sum(t[1] for t in taken.values())
    split = tax_split(after, group.item.rate)
    shares = tuple(Share(k[0], k[1], group.part, -t[0], -t[1]) for k, t in sorted(taken.items()))
    return Row(
        group.kind,
        group.item,
        -units,
        after - group.amount_minor,
        split.excl_minor - group.excl_minor,
        split.tax_minor - group.tax_minor,
        shares,
    )


def plan_whole_reversal(groups: Sequence[Group], policy: Policy, *, against: int = 0) -> list[Document]:
    """Red documents cancelling everything a blue invoice still holds (a cancellation, a correction of the
    buyer's details): every group back to 0 in amount, amount excluding tax and tax."""
    rows = [
        _red_row(g, {k: [amount, units] for k, (amount, units) in g.shares.items()})
        for g in groups
        if g.amount_minor or g.quantity
    ]
    return pack([(row,) for row in rows], policy, against=against)


def increase_row(item: Item, increase: Increase, part: int) -> Row:
    """The supplementary blue row of an increase (one part: it is a difference, far under any limit)."""
    kind = ROW_GOODS if increase.component == GOODS else ROW_SHIPPING
    share = Share(increase.key, increase.component, part, increase.amount_minor, increase.quantity)
    return row_make(kind, item, increase.quantity, increase.amount_minor, (share,))


__all__ = [
    "Adjustment",
    "Group",
    "Increase",
    "Target",
    "groups_of",
    "increase_row",
    "plan_adjustment",
    "plan_whole_reversal",
    "tax_split",
]
