"""The deadlock retry: re-runs the whole outermost transaction, never half of one."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import OperationalError, connection, transaction

from oms.core import db_retry
from oms.core.db_retry import backoff_s, deadlocked, is_retryable, retry, retry_on_deadlock, run_atomic


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def _wrapped(sqlstate: str) -> OperationalError:
    """What Django raises: its own error class with the driver's error as the cause."""
    try:
        try:
            raise _DriverError(sqlstate)
        except _DriverError as inner:
            raise OperationalError(str(inner)) from inner
    except OperationalError as outer:
        return outer


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    pauses: list[float] = []
    monkeypatch.setattr(db_retry.time, "sleep", pauses.append)
    return pauses


def test_deadlock_and_serialization_failures_are_retryable_others_not() -> None:
    assert is_retryable(_wrapped("40P01")) and is_retryable(_wrapped("40001"))
    assert not is_retryable(_wrapped("23505")) and not is_retryable(OperationalError("no cause"))


def test_backoff_is_jittered_and_capped() -> None:
    assert backoff_s(1, 0.0) == 0.0
    assert backoff_s(1, 0.999) < db_retry.BASE_DELAY_S
    assert backoff_s(30, 0.999) < db_retry.MAX_DELAY_S
    assert backoff_s(3, 0.5) == pytest.approx(0.5 * db_retry.BASE_DELAY_S * 4)


@pytest.mark.django_db
def test_a_deadlocked_transaction_is_run_again_from_its_start(no_sleep: list[float]) -> None:
    runs: list[int] = []

    @retry_on_deadlock
    @transaction.atomic(durable=True)
    def work() -> str:
        runs.append(1)
        if len(runs) < 3:
            raise _wrapped("40P01")
        return "done"

    assert work() == "done"
    assert len(runs) == 3 and len(no_sleep) == 2


@pytest.mark.django_db
def test_it_gives_up_after_the_attempts_and_other_errors_pass_at_once() -> None:
    runs: list[str] = []

    @retry_on_deadlock(attempts=2)
    def always_deadlocks() -> None:
        runs.append("d")
        raise _wrapped("40001")

    @retry_on_deadlock
    def constraint() -> None:
        runs.append("c")
        raise _wrapped("23505")

    with pytest.raises(OperationalError):
        always_deadlocks()
    with pytest.raises(OperationalError):
        constraint()
    assert runs == ["d", "d", "c"]


@pytest.mark.django_db
def test_inside_an_open_transaction_it_runs_once_and_lets_the_outermost_caller_decide() -> None:
    runs: list[int] = []

    @retry_on_deadlock
    def inner() -> None:
        runs.append(1)
        raise _wrapped("40P01")

    with pytest.raises(OperationalError), transaction.atomic():
        inner()
    assert runs == [1]


@pytest.mark.django_db
def test_run_atomic_opens_the_transaction_and_rolls_back_each_failed_attempt() -> None:
    from oms.catalog.models import Sku

    runs: list[int] = []

    def work() -> int:
        runs.append(1)
        Sku.objects.create(code=f"RETRY-{len(runs)}", name="x")
        if len(runs) == 1:
            raise _wrapped("40P01")
        return Sku.objects.filter(code__startswith="RETRY-").count()

    assert run_atomic(work) == 1  # the first attempt's row was rolled back with it
    assert list(Sku.objects.filter(code__startswith="RETRY-").values_list("code", flat=True)) == ["RETRY-2"]
    with pytest.raises(RuntimeError), transaction.atomic():
        run_atomic(lambda: 1)  # durable: never inside another transaction


# ---------------------------------------------------------------------------------------------- PostgreSQL


def _two_skus_in_opposite_orders(attempts: int) -> tuple[list[BaseException], list[int]]:
    """Two threads each reserve two SKUs in separate calls, in opposite orders, after both hold their first
    lock: PostgreSQL must abort one of them (first attempt only; a re-run goes straight through)."""
    from oms.inventory.models import StockItem
    from oms.inventory.services.reservations import WarehouseReserveRequest, warehouse_reserve
    from oms.inventory.tests.factories import make_sku, make_warehouse, put_stock

    wh = make_warehouse()
    a, b = make_sku(), make_sku()
    put_stock(wh, a, 10)
    put_stock(wh, b, 10)
    both_hold_first = threading.Barrier(2, timeout=10)
    runs = [0, 0]
    errors: list[BaseException] = []

    def reserve(line: int, order: list[Any]) -> None:
        @retry_on_deadlock(attempts=attempts)
        @transaction.atomic(durable=True)
        def run() -> None:
            runs[line] += 1
            first, second = order
            warehouse_reserve(requests=[WarehouseReserveRequest("order_line", line, wh.pk, first.pk, 1)])
            if runs[line] == 1:
                both_hold_first.wait()
            warehouse_reserve(requests=[WarehouseReserveRequest("order_line", line, wh.pk, second.pk, 1)])

        try:
            run()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=reserve, args=(0, [a, b])),
        threading.Thread(target=reserve, args=(1, [b, a])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    if not errors:
        assert StockItem.objects.get(warehouse=wh, sku=a).reserved == 2
        assert StockItem.objects.get(warehouse=wh, sku=b).reserved == 2
    return errors, runs


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_without_a_retry_postgres_aborts_one_side_of_the_deadlock() -> None:
    errors, runs = _two_skus_in_opposite_orders(attempts=1)
    assert len(errors) == 1 and is_retryable(errors[0])
    assert runs == [1, 1]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_with_the_retry_both_transactions_complete() -> None:
    from oms.inventory.services.verify import stock_verify

    errors, runs = _two_skus_in_opposite_orders(attempts=db_retry.ATTEMPTS)
    assert errors == []
    assert sorted(runs) == [1, 2]  # the side PostgreSQL aborted ran again, once
    assert stock_verify().drift == []


def test_retry_reruns_only_what_the_predicate_accepts_and_calls_before_retry_between_runs() -> None:
    runs: list[int] = []
    between: list[int] = []

    def flaky() -> str:
        runs.append(len(runs) + 1)
        if len(runs) < 3:
            raise _wrapped("40P01")
        return "done"

    assert retry(flaky, attempts=3, when=deadlocked, before_retry=lambda n, _e: between.append(n)) == "done"
    assert runs == [1, 2, 3] and between == [1, 2]


def test_retry_gives_up_after_its_attempts_and_never_retries_what_the_predicate_refuses() -> None:
    runs: list[str] = []

    def always(error: Exception) -> Any:
        def run() -> None:
            runs.append(type(error).__name__)
            raise error

        return run

    with pytest.raises(OperationalError):
        retry(always(_wrapped("40001")), attempts=2, when=deadlocked)
    assert len(runs) == 2
    runs.clear()
    with pytest.raises(ValueError, match="not a race"):
        retry(always(ValueError("not a race")), attempts=5, when=deadlocked)
    assert runs == ["ValueError"]
