"""A refund recorded after a payment was flagged settles what is owed back: the payment it names first, then
the order's others oldest first, never below 0; what it exceeds the dues by is still a refund; replays
settle nothing again."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from django.db.models import Sum
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oms.orders.domain.payments import refund_excess, refund_settle
from oms.orders.models import Order, OrderEvent, Payment, RefundSettlement
from oms.orders.services.cancel import order_cancel
from oms.orders.services.payments import payment_record
from oms.outbox.domain.signing import signature_headers
from oms.reports.selectors import cash_totals

SECRET = "alipay-settle-secret"
T0 = datetime.fromisoformat("2026-01-15T10:00:00+08:00")


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_PAYMENT_SECRET_ALIPAY", SECRET)


def callback(order: Order, amount: str, *, txn: str, status: str = "refund", **extra: str) -> Any:
    body = {"order_number": order.number, "transaction_id": txn, "trade_status": status, "amount": amount, **extra}
    raw = json.dumps(body).encode()
    headers = signature_headers(secret=SECRET, event_id=txn, timestamp=int(time.time()), body=raw)
    return Client(headers=headers).post("/api/v1/payments/callbacks/alipay", data=raw, content_type="application/json")


def pay(order: Order, amount_minor: int, txn: str, *, minutes: int, actor: Any, kind: str = "payment") -> Any:
    return payment_record(
        order=order,
        method="alipay",
        transaction_id=txn,
        amount_minor=amount_minor,
        paid_at=T0 + timedelta(minutes=minutes),
        actor=actor,
        kind=kind,
    )


def dues(order: Order) -> dict[str, tuple[int, bool]]:
    rows = Payment.objects.filter(order=order, kind="payment")
    return {p.transaction_id: (p.refund_due_minor, p.needs_refund) for p in rows}


@pytest.fixture
def three_paid_then_cancelled(make_order: Any, admin_operator: Any) -> Order:
    """Paid in three parts (recorded newest first, so oldest-first means by time paid), then cancelled."""
    order: Order = make_order(payment=None)
    pay(order, 100_00, "P-LATE", minutes=30, actor=admin_operator)
    pay(order, 100_00, "P-EARLY", minutes=10, actor=admin_operator)
    pay(order, 101_79, "P-MID", minutes=20, actor=admin_operator)
    order_cancel(order=order, actor=admin_operator, reason="买家申请取消")
    assert dues(order) == {"P-EARLY": (100_00, True), "P-MID": (101_79, True), "P-LATE": (100_00, True)}
    return order


def test_partial_then_full_refund_settles_the_due_shown_by_api_and_console(
    make_order: Any, admin_operator: Any, make_operator: Any, api_client: Any
) -> None:
    order: Order = make_order()
    order_cancel(order=order, actor=admin_operator, reason="缺货取消")
    (paid,) = Payment.objects.filter(order=order)
    assert (paid.refund_due_minor, paid.needs_refund) == (301_79, True)
    finance = api_client(make_operator("finance"))
    url = f"/api/v1/orders/{order.number}/payments"
    body = {"method": "bank_transfer", "transaction_id": "RF-1", "amount": "100.00", "kind": "refund"}
    answer = finance.post(url, data=body, content_type="application/json").json()
    shown = {p["transaction_id"]: p for p in answer["order"]["payments"]}
    assert shown[paid.transaction_id]["refund_due"] == "201.79" and shown[paid.transaction_id]["needs_refund"]
    browser = Client()
    browser.force_login(make_operator("customer_service"))
    page = browser.get(f"/orders/{order.number}/").content.decode()
    assert '<span data-testid="refund-due">201.79</span>' in page
    event = OrderEvent.objects.get(order=order, kind="refund_recorded")
    assert event.data["settled"] == [
        {"payment": f"alipay:{paid.transaction_id}", "amount_minor": 100_00, "refund_due_minor": 201_79}
    ]
    body.update(transaction_id="RF-2", amount="201.79")
    answer = finance.post(url, data=body, content_type="application/json").json()
    shown = {p["transaction_id"]: p for p in answer["order"]["payments"]}
    assert (shown[paid.transaction_id]["refund_due"], shown[paid.transaction_id]["needs_refund"]) == ("0.00", False)
    assert 'data-testid="refund-due"' not in browser.get(f"/orders/{order.number}/").content.decode()
    order.refresh_from_db()
    assert (order.refunded_minor, order.payment_status) == (301_79, "refunded")


def test_a_refund_settles_several_payments_oldest_first(three_paid_then_cancelled: Order, admin_operator: Any) -> None:
    order = three_paid_then_cancelled
    result = pay(order, 150_00, "RF-A", minutes=40, actor=admin_operator, kind="refund")
    assert [(p.transaction_id, take) for p, take in result.settled] == [("P-EARLY", 100_00), ("P-MID", 50_00)]
    assert dues(order) == {"P-EARLY": (0, False), "P-MID": (51_79, True), "P-LATE": (100_00, True)}
    pay(order, 51_80, "RF-B", minutes=41, actor=admin_operator, kind="refund")
    assert dues(order) == {"P-EARLY": (0, False), "P-MID": (0, False), "P-LATE": (99_99, True)}


def test_a_refund_settles_the_payment_it_names_first(three_paid_then_cancelled: Order) -> None:
    order = three_paid_then_cancelled
    # A provider refund under the payment's own transaction id names that payment...
    assert callback(order, "60.00", txn="P-LATE").json()["result"] == "recorded"
    assert dues(order) == {"P-EARLY": (100_00, True), "P-MID": (101_79, True), "P-LATE": (40_00, True)}
    # ...one with an id of its own names it with refund_of; beyond its due, the rest goes oldest first.
    assert callback(order, "110.00", txn="RF-X", refund_of="P-MID").json()["result"] == "recorded"
    assert dues(order) == {"P-EARLY": (91_79, True), "P-MID": (0, False), "P-LATE": (40_00, True)}


def test_a_refund_beyond_what_is_owed_is_still_recorded_in_full(make_order: Any, admin_operator: Any) -> None:
    order: Order = make_order()
    order_cancel(order=order, actor=admin_operator, reason="买家申请取消")
    assert callback(order, "400.00", txn="RF-OVER").json()["result"] == "recorded"
    (paid,) = Payment.objects.filter(order=order, kind="payment")
    assert (paid.refund_due_minor, paid.needs_refund) == (0, False)
    refund = Payment.objects.get(transaction_id="RF-OVER")
    assert refund.amount_minor == 400_00
    assert list(refund.settlements.values_list("payment", "amount_minor")) == [(paid.pk, 301_79)]
    order.refresh_from_db()
    assert order.refunded_minor == 400_00
    # A refund on an order that owes nothing back settles nothing and is recorded as before.
    other: Order = make_order()
    assert callback(other, "10.00", txn="RF-NONE").json()["result"] == "recorded"
    assert not RefundSettlement.objects.filter(refund__order=other).exists()
    other.refresh_from_db()
    assert (other.refunded_minor, other.payment_status) == (10_00, "partially_refunded")


def test_a_replayed_refund_settles_nothing_again(three_paid_then_cancelled: Order) -> None:
    order = three_paid_then_cancelled
    assert callback(order, "30.00", txn="RF-R").json()["result"] == "recorded"
    before = (dues(order), list(RefundSettlement.objects.values_list("refund", "payment", "amount_minor")))
    assert callback(order, "30.00", txn="RF-R").json()["result"] == "duplicate"
    assert callback(order, "30.00", txn="RF-R", refund_of="P-LATE").json()["result"] == "duplicate"
    assert (dues(order), list(RefundSettlement.objects.values_list("refund", "payment", "amount_minor"))) == before
    assert dues(order)["P-EARLY"] == (70_00, True)


def test_refund_settle_takes_each_due_in_turn() -> None:
    assert refund_settle(amount_minor=250, dues_minor=[100, 0, 100, 100]) == [100, 0, 100, 50]
    assert refund_settle(amount_minor=500, dues_minor=[100, 200]) == [100, 200]
    assert refund_settle(amount_minor=0, dues_minor=[100]) == [0]


@given(received=st.integers(0, 10**12), before=st.integers(0, 10**12), amount=st.integers(1, 10**12))
def test_refund_excess_is_what_goes_beyond_what_is_held(received: int, before: int, amount: int) -> None:
    excess = refund_excess(received_minor=received, refunded_before_minor=before, amount_minor=amount)
    assert 0 <= excess <= amount
    held = amount - excess
    assert before + held <= max(received, before)  # what is given back never exceeds what was taken
    assert excess == 0 or before + held == received or before >= received  # excess only once all went back


# One step: pay (after the cancel, a late payment flagged for refund), cancel (once), or refund (naming
# the i-th payment so far by refund_of, or none).
steps = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(1, 200_00), st.none()),
        st.tuples(st.just("cancel"), st.just(0), st.none()),
        st.tuples(st.just("refund"), st.integers(1, 250_00), st.one_of(st.none(), st.integers(0, 5))),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_dues_only_ever_go_down_by_what_refunds_settled(
    make_order: Any, admin_operator: Any, steps: list[tuple[str, int, int | None]]
) -> None:
    order: Order = make_order(payment=None)
    flagged: dict[int, int] = {}  # payment pk -> its due when it was flagged
    model: dict[int, int] = {}  # payment pk -> the due the rule says it has now
    paid_at: dict[int, datetime] = {}
    payments: list[Payment] = []
    received = 0
    real_refunds: list[int] = []
    for n, (step, amount, named) in enumerate(steps):
        when = T0 + timedelta(minutes=(7 * n) % 11)  # out of order in time, on purpose
        if step == "cancel":
            if order.status != "cancelled":
                order_cancel(order=order, actor=admin_operator, reason="取消")
                for p in Payment.objects.filter(order=order, kind="payment", needs_refund=True):
                    flagged.setdefault(p.pk, p.refund_due_minor)
                    model.setdefault(p.pk, p.refund_due_minor)
        elif step == "pay":
            result = payment_record(
                order=order,
                method="alipay",
                transaction_id=f"{order.number}-P{n}",
                amount_minor=amount,
                paid_at=when,
                actor="t",
            )
            payments.append(result.payment)
            received += amount
            paid_at[result.payment.pk] = when
            if result.payment.needs_refund:
                flagged[result.payment.pk] = model[result.payment.pk] = result.payment.refund_due_minor
        else:
            name = payments[named].transaction_id if named is not None and named < len(payments) else ""
            payment_record(
                order=order,
                method="alipay",
                transaction_id=f"{order.number}-R{n}",
                amount_minor=amount,
                paid_at=when,
                actor="t",
                kind="refund",
                refund_of=name,
            )
            refund = Payment.objects.get(transaction_id=f"{order.number}-R{n}")
            real_before = sum(real_refunds)
            real_refunds.append(refund.amount_minor - refund.excess_minor)
            # Cash never goes below zero: a refund gives back at most what is held, the rest is excess.
            assert refund.excess_minor == max(0, amount - max(0, received - real_before))
            assert sum(real_refunds) <= received
            left = amount - refund.excess_minor
            owing = sorted(
                (pk for pk, due in model.items() if due > 0),
                key=lambda pk: (Payment.objects.get(pk=pk).transaction_id != name, paid_at[pk], pk),
            )
            for pk in owing:
                take = min(model[pk], left)
                model[pk] -= take
                left -= take
        order.refresh_from_db()
    applied = {
        r["payment"]: r["total"]
        for r in RefundSettlement.objects.filter(payment__order=order)
        .values("payment")
        .annotate(total=Sum("amount_minor"))
    }
    for p in Payment.objects.filter(order=order, kind="payment"):
        assert 0 <= p.refund_due_minor <= p.amount_minor
        assert p.needs_refund == (p.refund_due_minor > 0)
        assert flagged.get(p.pk, 0) - applied.get(p.pk, 0) == p.refund_due_minor == model.get(p.pk, 0)
    for refund in Payment.objects.filter(order=order, kind="refund"):
        assert sum(s.amount_minor for s in refund.settlements.all()) <= refund.amount_minor
    assert sum(flagged.values()) - sum(applied.values()) == sum(
        Payment.objects.filter(order=order, kind="payment").values_list("refund_due_minor", flat=True)
    )


def test_cash_figures_count_what_is_still_owed_back(make_order: Any, admin_operator: Any, make_operator: Any) -> None:
    order: Order = make_order(payment=None)
    payment_record(order=order, method="alipay", transaction_id="CASH-P", amount_minor=301_79, paid_at=None, actor="t")
    order_cancel(order=order, actor=admin_operator, reason="买家申请取消")
    assert callback(order, "100.00", txn="CASH-RF").json()["result"] == "recorded"
    (cny,) = cash_totals()
    assert (cny.received_minor, cny.refunded_minor, cny.refund_due_minor) == (301_79, 100_00, 201_79)
    finance = make_operator("finance")
    browser = Client()
    browser.force_login(finance)
    (row,) = browser.get("/api/v1/payments/totals").json()["totals"]
    assert row["refund_due"] == "201.79"
    assert '<td class="num" data-testid="cash-refund-due">201.79</td>' in browser.get("/").content.decode()


def test_settlements_are_read_only_in_the_admin(make_order: Any, admin_operator: Any) -> None:
    order: Order = make_order()
    order_cancel(order=order, actor=admin_operator, reason="买家申请取消")
    callback(order, "10.00", txn="RF-ADMIN")
    admin = Client()
    admin.force_login(admin_operator)
    page = admin.get("/admin/orders/refundsettlement/")
    assert page.status_code == 200 and "RF-ADMIN" in page.content.decode()
    assert admin.get("/admin/orders/refundsettlement/add/").status_code == 403


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cuts=st.lists(st.integers(1, 30_178), max_size=3, unique=True),
    refunded=st.integers(0, 5_000),
    owed=st.lists(st.integers(1, 40_000), min_size=1, max_size=3),
)
def test_money_owed_back_in_parts_is_divided_over_the_payments_exactly(
    make_order: Any, admin_operator: Any, cuts: list[int], refunded: int, owed: list[int]
) -> None:
    """Part of a paid order cancelled (the rest of a partial shipment), once or more: each time the amount —
    capped by received − refunded − already owed — lands on the payments exactly, none owing more than it
    paid, and a refund of it settles it."""
    from django.db import transaction

    from oms.orders.lock_objects import order_lock
    from oms.orders.services.payments import payments_owe_back

    order: Order = make_order(payment=None)
    bounds = [0, *sorted(cuts), 30_179]
    for k, (a, b) in enumerate(pairwise(bounds)):
        pay(order, b - a, f"{order.number}-P{k}", minutes=k, actor=admin_operator)
    if refunded:
        pay(order, refunded, f"{order.number}-R0", minutes=50, actor=admin_operator, kind="refund")
    total_due = 0
    for amount in owed:
        with transaction.atomic():
            locked = order_lock(pk=order.pk)
            flagged = payments_owe_back(order=locked, amount_minor=amount)
        expected = min(amount, 30_179 - refunded - total_due)
        assert sum(share for _p, share in flagged) == expected
        total_due += expected
        rows = list(Payment.objects.filter(order=order, kind="payment"))
        assert sum(p.refund_due_minor for p in rows) == total_due
        assert all(0 <= p.refund_due_minor <= p.amount_minor for p in rows)
        assert all(p.needs_refund == (p.refund_due_minor > 0) for p in rows)
    if total_due:
        pay(order, total_due, f"{order.number}-R1", minutes=60, actor=admin_operator, kind="refund")
        assert all(due == (0, False) for due in dues(order).values())
