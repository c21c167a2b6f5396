"""The transition table (O3): every illegal move is refused, naming where the order is and may go."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from oms.audit.models import OperationLog
from oms.core.errors import Conflict
from oms.orders.domain.status import BUYER_STATUS, BUYER_VISIBLE, TERMINAL, TRANSITIONS, Status, transition_check
from oms.orders.models import OrderEvent
from oms.orders.services.timeline import order_transition

ALL_PAIRS = list(itertools.product(Status, Status))
ILLEGAL = [(a, b) for a, b in ALL_PAIRS if b not in TRANSITIONS[a]]
LEGAL = [(a, b) for a, b in ALL_PAIRS if b in TRANSITIONS[a]]


def test_every_status_has_a_row_and_a_buyer_view() -> None:
    assert set(TRANSITIONS) == set(Status)
    assert set(BUYER_STATUS) == set(Status)
    assert {Status.CLOSED, Status.CANCELLED, Status.INVALID} == TERMINAL
    # Review and warehouse mechanics are internal: the buyer sees them all as "待发货".
    assert {BUYER_STATUS[s] for s in (Status.PENDING_REVIEW, Status.PENDING_SPLIT, Status.PENDING_DISPATCH)} == {
        "待发货"
    }
    assert Status.NEW not in BUYER_VISIBLE and Status.INVALID not in BUYER_VISIBLE


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_illegal_transition_is_refused_naming_current_and_allowed(current: Status, target: Status) -> None:
    with pytest.raises(Conflict) as info:
        transition_check(current.value, target.value)
    err = info.value
    assert err.status == 409 and err.code == "illegal_transition"
    assert err.extra["current_status"] == current.value
    assert err.extra["allowed"] == [s.value for s in TRANSITIONS[current]]
    assert current.value in err.message


@pytest.mark.parametrize(("current", "target"), LEGAL)
def test_legal_transition_passes(current: Status, target: Status) -> None:
    transition_check(current.value, target.value)


def test_no_way_back_from_shipped_to_cancelled() -> None:
    assert Status.CANCELLED not in TRANSITIONS[Status.SHIPPED]


def test_partially_shipped_only_goes_on_to_shipped() -> None:
    # Some parcels left: the order cannot be cancelled or sent back to review, only finished (the rest ships
    # or is cancelled); the buyer sees 部分发货.
    assert TRANSITIONS[Status.PARTIALLY_SHIPPED] == (Status.SHIPPED,)
    assert Status.PARTIALLY_SHIPPED in TRANSITIONS[Status.PENDING_SHIPMENT]
    assert BUYER_STATUS[Status.PARTIALLY_SHIPPED] == "部分发货"


def test_transition_writes_timeline_and_operation_log(make_order: Any, admin_operator: Any) -> None:
    from django.db import transaction

    order = make_order()
    assert order.status == Status.PENDING_REVIEW.value
    with transaction.atomic():
        order_transition(order=order, to_status=Status.PENDING_DISPATCH.value, actor=admin_operator, reason="ok")
    event = OrderEvent.objects.filter(order=order, kind="status_changed").order_by("-id").first()
    assert event is not None
    assert (event.from_status, event.to_status, event.actor_name, event.reason) == (
        "pending_review",
        "pending_dispatch",
        "boss",
        "ok",
    )
    log = OperationLog.objects.filter(action="order.transition", object_id=str(order.pk)).get()
    assert log.before == {"status": "pending_review"} and log.after == {"status": "pending_dispatch"}


def test_refused_transition_writes_nothing(make_order: Any, admin_operator: Any) -> None:
    from django.db import transaction

    order = make_order()
    events = OrderEvent.objects.count()
    with pytest.raises(Conflict), transaction.atomic():
        order_transition(order=order, to_status=Status.SIGNED.value, actor=admin_operator)
    order.refresh_from_db()
    assert order.status == Status.PENDING_REVIEW.value and OrderEvent.objects.count() == events
