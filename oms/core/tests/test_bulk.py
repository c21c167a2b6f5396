"""The bulk writers: the same rows land as with Django's own bulk methods, one statement each on PostgreSQL,
values of any text quoted safely, too-long values refused rather than cut."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.audit.models import OperationLog
from oms.catalog.models import Sku
from oms.core.bulk import bulk_insert, bulk_insert_columns, bulk_set, ids_in
from oms.core.rules import ConditionMemo, compile_condition, condition_matches, condition_symbols
from oms.review.domain.facts import ORDER_FACTS

pytestmark = pytest.mark.django_db

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


def test_insert_sets_auto_fields_keys_and_every_value() -> None:
    # Now (the operation log refuses back-dated rows on PostgreSQL), to the microsecond.
    at = dt.datetime.now(tz=dt.UTC).replace(microsecond=123456)
    logs = [
        OperationLog(
            at=at,
            actor_name='a "quoted", {braced} \\ name',
            action="order.allocate",
            object_type="orders.order",
            object_id=str(i),
            before=None if i else {"status": "pending_review"},
            after={"warehouse_id": i, "rule": "华南走广州", "short": [1, None], "ok": True},
            reason="NULL" if i == 1 else "",
        )
        for i in range(3)
    ]
    with CaptureQueriesContext(connection) as ctx:
        bulk_insert(logs, returning=True)
    if connection.vendor == "postgresql":
        assert len(ctx.captured_queries) == 1
    assert all(log.pk for log in logs)
    rows = {r.object_id: r for r in OperationLog.objects.filter(pk__in=[log.pk for log in logs])}
    assert rows["0"].before == {"status": "pending_review"} and rows["1"].before is None
    assert rows["2"].after == {"warehouse_id": 2, "rule": "华南走广州", "short": [1, None], "ok": True}
    assert rows["1"].reason == "NULL" and rows["0"].reason == ""
    assert {r.actor_name for r in rows.values()} == {'a "quoted", {braced} \\ name'}
    assert {r.at for r in rows.values()} == {at} and {r.actor_id for r in rows.values()} == {None}

    skus = bulk_insert([Sku(code=f"BULK-{i}", name="x", is_gift=i == 1, weight_g=i * 10) for i in range(2)])
    saved = {s.code: s for s in Sku.objects.filter(code__startswith="BULK-")}
    assert saved["BULK-1"].is_gift and not saved["BULK-0"].is_gift and saved["BULK-1"].weight_g == 10
    assert all(s.created_at is not None for s in saved.values()) and len(skus) == 2


@settings(max_examples=40, deadline=None)
@given(names=st.lists(TEXT.filter(lambda s: s.strip() == s), min_size=1, max_size=6))
def test_any_text_round_trips(names: list[str]) -> None:
    with transaction.atomic():
        logs = bulk_insert([OperationLog(action="t", reason=n, actor_name=n[:150]) for n in names], returning=True)
        by_pk = dict(OperationLog.objects.filter(pk__in=[x.pk for x in logs]).values_list("pk", "reason"))
        assert [by_pk[x.pk] for x in logs] == names
        transaction.set_rollback(True)


@settings(max_examples=30, deadline=None)
@given(weights=st.lists(st.integers(0, 1_000_000), min_size=1, max_size=8), names=st.lists(TEXT, min_size=8))
def test_set_writes_each_row_its_own_values(weights: list[int], names: list[str]) -> None:
    with transaction.atomic():
        skus = [Sku.objects.create(code=f"SET-{i}", name="before") for i in range(len(weights))]
        for sku, weight, name in zip(skus, weights, names, strict=False):
            sku.weight_g = weight
            sku.name = name.strip()[:200]
            sku.is_active = weight % 2 == 0
        with CaptureQueriesContext(connection) as ctx:
            bulk_set(skus, ["weight_g", "name", "is_active"])
        if connection.vendor == "postgresql":
            assert len(ctx.captured_queries) == 1
        got = {s.pk: (s.weight_g, s.name, s.is_active) for s in Sku.objects.filter(code__startswith="SET-")}
        assert got == {s.pk: (s.weight_g, s.name, s.is_active) for s in skus}
        transaction.set_rollback(True)


@pytest.mark.postgres
def test_too_long_text_is_refused_not_cut() -> None:
    with pytest.raises(DataError), transaction.atomic():
        bulk_insert([OperationLog(action="x" * 65)])
    assert not OperationLog.objects.filter(action__startswith="xxx").exists()


def test_nothing_to_write_sends_nothing() -> None:
    with CaptureQueriesContext(connection) as ctx:
        bulk_insert([])
        bulk_set([], ["name"])
    assert ctx.captured_queries == []


@settings(max_examples=60, deadline=None)
@given(
    remark=st.booleans(),
    amount=st.floats(0, 10_000, allow_nan=False),
    province=st.sampled_from(["广东省", "浙江省", ""]),
    seen=st.lists(st.tuples(st.booleans(), st.floats(0, 10_000, allow_nan=False)), max_size=5),
)
def test_condition_memo_gives_the_same_verdicts(
    remark: bool, amount: float, province: str, seen: list[tuple[bool, float]]
) -> None:
    """The memo answers each distinct set of read facts once; its verdicts are the evaluator's own."""
    conditions = [
        compile_condition(text, ORDER_FACTS)
        for text in (
            "has_remark",
            "paid_amount >= 5000 and not has_remark",
            'province in ["广东省", "广西壮族自治区"]',
            "[s for s in skus if s == province]",
            "paid_at < $now",
        )
    ]
    memo = ConditionMemo()
    base = {"skus": ["广东省"], "paid_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}
    for r, a in [*seen, (remark, amount)]:
        facts = {**base, "has_remark": r, "paid_amount": a, "province": province}
        for condition in conditions:
            assert memo.matches(condition, facts) == condition_matches(condition, facts)
    assert condition_symbols(conditions[1]) == ("has_remark", "paid_amount")
    assert condition_symbols(conditions[4]) is None


def test_in_array_filters_like_in_with_one_parameter() -> None:
    skus = [Sku.objects.create(code=f"ARR-{i}", name="x") for i in range(5)]
    wanted = [skus[0].pk, skus[3].pk, skus[3].pk, 10**12]
    with CaptureQueriesContext(connection) as ctx:
        got = sorted(Sku.objects.filter(ids_in("pk", wanted)).values_list("pk", flat=True))
    assert got == sorted({skus[0].pk, skus[3].pk})
    if connection.vendor == "postgresql":
        assert "ANY(" in ctx.captured_queries[0]["sql"]
    assert list(Sku.objects.filter(ids_in("pk", []))) == []
    assert Sku.objects.filter(ids_in("category_id", [1, 2])).count() == 0


def test_insert_columns_takes_lists_constants_and_defaults() -> None:
    with CaptureQueriesContext(connection) as ctx:
        bulk_insert_columns(
            OperationLog,
            3,
            {
                "action": "order.allocate",
                "object_id": ["1", "2", "3"],
                "after": [{"w": 1}, None, {"w": "华东"}],
                "reason": 'said "so", {1,2}',
            },
        )
        bulk_insert_columns(Sku, 2, {"code": ["COL-1", "COL-2"], "name": "x", "is_gift": [True, False]})
        bulk_insert_columns(OperationLog, 0, {"action": "never"})
    if connection.vendor == "postgresql":
        assert len(ctx.captured_queries) == 2
    rows = {r.object_id: r for r in OperationLog.objects.filter(action="order.allocate")}
    assert set(rows) == {"1", "2", "3"} and rows["3"].after == {"w": "华东"} and rows["2"].after is None
    assert {r.reason for r in rows.values()} == {'said "so", {1,2}'} and all(r.at for r in rows.values())
    assert {r.actor_name for r in rows.values()} == {""} and not OperationLog.objects.filter(action="never").exists()
    skus = {s.code: s for s in Sku.objects.filter(code__startswith="COL-")}
    assert skus["COL-1"].is_gift and not skus["COL-2"].is_gift and skus["COL-2"].is_active
    assert all(s.created_at is not None for s in skus.values())
    with pytest.raises(ValueError, match="no_such_field"):
        bulk_insert_columns(Sku, 1, {"no_such_field": 1})
