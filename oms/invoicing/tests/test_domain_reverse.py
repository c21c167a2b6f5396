"""Red-letter reversal: after any sequence of returns (and charged gifts), blue − red = finally paid per line."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from oms.invoicing.domain.plan import SHIPPING_SEPARATE, Policy, SourceLine, plan_blue
from oms.invoicing.domain.reverse import Target, groups_of, increase_row, plan_adjustment, plan_whole_reversal
from oms.invoicing.domain.rows import GOODS, SHIPPING, Row, invoiced_per_line
from oms.invoicing.domain.taxes import INVOICE_TOLERANCE, LINE_TOLERANCE, TaxRate, tax_split
from oms.invoicing.tests.strategies import SHIPPING_ITEM, item, policies, source_lines


def _paid(lines: list[SourceLine], policy: Policy) -> dict[tuple[int, str], list[int]]:
    """(line, component) → [amount, units] the buyer has paid for, as the plan invoices it."""
    separate = policy.shipping == SHIPPING_SEPARATE
    out = {}
    for ln in lines:
        out[(ln.key, GOODS)] = [ln.paid_minor - (ln.shipping_minor if separate else 0), ln.quantity]
        out[(ln.key, SHIPPING)] = [ln.shipping_minor if separate else 0, 0]
    return out


def _check_red(doc: Any, policy: Policy) -> None:
    assert 1 <= len(doc.rows) <= policy.max_lines and doc.difference <= INVOICE_TOLERANCE
    for row in doc.rows:
        assert row.amount_minor <= 0 and row.quantity <= 0
        assert row.excl_minor + row.tax_minor == row.amount_minor
        assert sum(s.amount_minor for s in row.shares) == row.amount_minor
        assert row.difference <= LINE_TOLERANCE


@settings(max_examples=150)
@given(lines=source_lines(max_lines=20), policy=policies(), data=st.data())
def test_after_every_return_blue_minus_red_is_what_each_line_finally_paid(
    lines: list[SourceLine], policy: Policy, data: Any
) -> None:
    invoices: list[list[Row]] = [list(d.rows) for d in plan_blue(lines, policy)]
    paid = _paid(lines, policy)
    items = {ln.key: ln.item for ln in lines}
    for _step in range(data.draw(st.integers(min_value=1, max_value=4))):
        targets: dict[tuple[int, str], Target] = {}
        for ln in data.draw(st.lists(st.sampled_from(lines), max_size=len(lines), unique_by=lambda x: x.key)):
            amount, units = paid[(ln.key, GOODS)]
            # Mostly down (a return re-apportions), sometimes up (a kept gift now charged).
            new_amount = data.draw(st.integers(min_value=0, max_value=amount + data.draw(st.sampled_from([0, 0, 800]))))
            new_units = data.draw(st.integers(min_value=0, max_value=units))
            targets[(ln.key, GOODS)] = Target(new_amount, new_units)
            paid[(ln.key, GOODS)] = [new_amount, new_units]
            if paid[(ln.key, SHIPPING)][0] and data.draw(st.booleans()):
                targets[(ln.key, SHIPPING)] = Target(0)
                paid[(ln.key, SHIPPING)] = [0, 0]
        adjustment = plan_adjustment([groups_of(rows) for rows in invoices], targets, policy)
        for red in adjustment.reds:
            _check_red(red, policy)
            assert red.against is not None
            invoices[red.against].extend(red.rows)
            # Telescoped: a group a red row touched states what a fresh row of its remaining amount would.
            for row in red.rows:
                first = row.shares[0]
                (group,) = [
                    g
                    for g in groups_of(invoices[red.against])
                    if g.part == first.part and (first.key, first.component) in g.shares and g.kind == row.kind
                ]
                split = tax_split(group.amount_minor, group.item.rate)
                assert (group.excl_minor, group.tax_minor) == (split.excl_minor, split.tax_minor)
        for inc in adjustment.increases:
            parts = [
                s.part
                for rows in invoices
                for r in rows
                for s in r.shares
                if (s.key, s.component) == (inc.key, inc.component)
            ]
            invoices.append(
                [
                    increase_row(
                        items[inc.key] if inc.component == GOODS else SHIPPING_ITEM, inc, max(parts, default=0) + 1
                    )
                ]
            )
        held = invoiced_per_line(r for rows in invoices for r in rows)
        assert {k: v for k, v in held.items() if v} == {k: v[0] for k, v in paid.items() if v[0]}
        for rows in invoices:
            for group in groups_of(rows):
                assert group.amount_minor >= 0 and group.quantity >= 0
                assert all(a >= 0 and u >= 0 for a, u in group.shares.values())
    # Cancelling afterwards reverses every invoice to exactly nothing: amount, amount excluding tax, tax, units.
    for rows in invoices:
        for red in plan_whole_reversal(groups_of(rows), policy):
            _check_red(red, policy)
            rows.extend(red.rows)
        for group in groups_of(rows):
            assert (group.amount_minor, group.excl_minor, group.tax_minor, group.quantity) == (0, 0, 0, 0)


def test_worked_example_partial_return_then_refund_of_shipping() -> None:
    """2 × 100.00 at 13 % + 1 × 50.00 at 9 %, shipping 10.00 (6.67 + 3.33); one 100.00 unit comes back and the
    shipping is refunded with it."""
    policy = Policy(shipping_item=SHIPPING_ITEM)
    lines = [SourceLine(1, item("13"), 2, 10000, 20667, 667), SourceLine(2, item("9"), 1, 5000, 5333, 333)]
    (blue,) = plan_blue(lines, policy)
    assert [(r.kind, r.amount_minor, r.excl_minor, r.tax_minor) for r in blue.rows] == [
        ("goods", 20000, 17699, 2301),
        ("goods", 5000, 4587, 413),
        ("shipping", 1000, 917, 83),
    ]
    adjustment = plan_adjustment(
        [groups_of(list(blue.rows))],
        {(1, GOODS): Target(10000, 1), (1, SHIPPING): Target(0), (2, SHIPPING): Target(0)},
        policy,
    )
    (red,) = adjustment.reds
    assert [(r.kind, r.quantity, r.amount_minor, r.excl_minor, r.tax_minor) for r in red.rows] == [
        ("goods", -1, -10000, -17699 + 8850, -2301 + 1150),
        ("shipping", 0, -1000, -917, -83),
    ]
    assert adjustment.increases == []
    assert TaxRate("13").bp == 1300
