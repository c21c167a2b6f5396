from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from oms.catalog.models import Category
from oms.channels.domain.allocation import Claim, Rule, allocate, rule_for
from oms.channels.models import AllocationRule, ChannelStock
from oms.channels.services.allocation import channel_stock_reallocate
from oms.inventory.models import Reservation
from oms.inventory.services.documents import DocLine, stock_count_create, stock_receipt_create
from oms.inventory.services.reservations import ReserveRequest, channel_reserve
from oms.inventory.tests.factories import make_channel, make_sku, make_warehouse

# ------------------------------------------------------------------------------------------- pure domain


def test_ratio_split_with_min_max_and_priority():
    stock = {"w1": 100}
    claims = [
        Claim(1, Rule("ratio", ratio_bp=6000, priority=1), ("w1",), reserved=0),
        Claim(2, Rule("ratio", ratio_bp=4000, max_quantity=30, priority=2), ("w1",), reserved=0),
        Claim(3, Rule("fixed", fixed_quantity=50, min_quantity=5, priority=3), ("w1",), reserved=0),
    ]
    assert allocate(claims, stock) == {1: 60, 2: 30, 3: 10}


def test_quota_never_below_reserved_even_when_stock_is_lost():
    claims = [
        Claim(1, Rule("ratio", ratio_bp=5000), ("w1",), reserved=8),
        Claim(2, Rule("ratio", ratio_bp=5000), ("w1",), reserved=1),
    ]
    assert allocate(claims, {"w1": 4}) == {1: 8, 2: 1}
    assert allocate(claims, {"w1": 20}) == {1: 10, 2: 10}


def test_forecast_weighted_by_recent_sales():
    claims = [
        Claim(1, Rule("forecast"), ("w1",), reserved=0, recent_sales=30),
        Claim(2, Rule("forecast"), ("w1",), reserved=0, recent_sales=10),
    ]
    assert allocate(claims, {"w1": 100}) == {1: 75, 2: 25}
    no_history = [Claim(1, Rule("forecast"), ("w1",), 0), Claim(2, Rule("forecast"), ("w1",), 0)]
    assert allocate(no_history, {"w1": 10}) == {1: 5, 2: 5}


def test_channels_only_draw_from_their_warehouses():
    claims = [
        Claim(1, Rule("ratio"), ("w1",), reserved=0, recent_sales=0),
        Claim(2, Rule("ratio"), ("w1", "w2"), reserved=0),
    ]
    assert allocate(claims, {"w1": 10, "w2": 5}) == {1: 10, 2: 5}


def test_most_specific_rule_applies():
    everything = Rule("ratio", ratio_bp=1000)
    food = Rule("ratio", ratio_bp=2000)
    snacks = Rule("ratio", ratio_bp=3000)
    one = Rule("fixed", fixed_quantity=7)
    rules = [("all", None, everything), ("category", 1, food), ("category", 2, snacks), ("sku", 99, one)]
    assert rule_for(rules, sku_id=99, category_path=[2, 1]) is one
    assert rule_for(rules, sku_id=5, category_path=[2, 1]) is snacks
    assert rule_for(rules, sku_id=5, category_path=[1]) is food
    assert rule_for(rules, sku_id=5, category_path=[]) is everything
    assert rule_for([("sku", 1, one)], sku_id=5, category_path=[]) is None


rules_st = st.builds(
    Rule,
    method=st.sampled_from(["ratio", "fixed", "forecast"]),
    ratio_bp=st.integers(0, 10_000),
    fixed_quantity=st.integers(0, 50),
    min_quantity=st.integers(0, 10),
    max_quantity=st.none() | st.integers(10, 60),
    priority=st.integers(1, 3),
)


@given(
    stock=st.fixed_dictionaries({"w1": st.integers(0, 80), "w2": st.integers(0, 80)}),
    claims=st.lists(
        st.tuples(rules_st, st.sampled_from([("w1",), ("w2",), ("w1", "w2")]), st.integers(0, 20), st.integers(0, 9)),
        min_size=1,
        max_size=5,
    ),
)
def test_allocation_invariants(stock, claims):
    cs = [Claim(i, rule, src, reserved, sales) for i, (rule, src, reserved, sales) in enumerate(claims)]
    quotas = allocate(cs, stock)
    for c in cs:
        q = quotas[c.channel_id]
        assert q >= c.reserved
        if c.rule.max_quantity is not None and c.reserved <= c.rule.max_quantity:
            assert q <= c.rule.max_quantity
    # Every unit beyond what is reserved is backed by stock the channel may sell: never more than the pools.
    for sources in {("w1",), ("w2",)}:
        only = [c for c in cs if set(c.sources) <= set(sources)]
        extra = sum(quotas[c.channel_id] for c in only)
        if all(c.reserved == 0 for c in cs):
            assert extra <= sum(stock[s] for s in sources)
    if all(c.reserved == 0 for c in cs):
        assert sum(quotas.values()) <= sum(stock.values())


# ---------------------------------------------------------------------------------------------- service


@pytest.mark.django_db
def test_service_applies_rules_safety_and_delist(admin_operator):
    wh = make_warehouse()
    tmall, jd = make_channel(warehouses=[wh]), make_channel(warehouses=[wh])
    cat = Category.objects.create(code="FOOD", name="食品")
    sku = make_sku(category=cat)
    AllocationRule.objects.create(channel=tmall, ratio_bp=7000, safety_stock=2, priority=1)
    AllocationRule.objects.create(channel=jd, ratio_bp=3000, priority=2)
    AllocationRule.objects.create(channel=jd, scope="category", category=cat, ratio_bp=2000, min_quantity=3, priority=5)
    stock_receipt_create(warehouse_id=wh.pk, lines=[DocLine(sku.pk, 10)], actor=admin_operator)
    t, j = ChannelStock.objects.get(channel=tmall, sku=sku), ChannelStock.objects.get(channel=jd, sku=sku)
    assert (t.quota, t.pushed) == (7, 5)  # safety stock kept back from the platform
    assert (j.quota, j.pushed) == (3, 3)  # category rule: 20% = 2, raised to the minimum 3
    with transaction.atomic():
        channel_reserve(requests=[ReserveRequest("order_line", 1, jd.pk, sku.pk, 1)])
    j.refresh_from_db()
    assert (j.available, j.pushed) == (2, 0)  # below the minimum: delisted
    stock_count_create(warehouse_id=wh.pk, lines=[DocLine(sku.pk, 2)], actor=admin_operator)
    t.refresh_from_db()
    j.refresh_from_db()
    assert j.quota == 1  # never below what is reserved
    assert t.quota == 1
    assert Reservation.objects.filter(state="active").count() == 1


@pytest.mark.django_db
def test_full_reallocate_is_idempotent(admin_operator):
    wh = make_warehouse()
    ch = make_channel(warehouses=[wh])
    AllocationRule.objects.create(channel=ch, ratio_bp=5000)
    skus = [make_sku() for _ in range(5)]
    stock_receipt_create(warehouse_id=wh.pk, lines=[DocLine(s.pk, 10) for s in skus], actor=admin_operator)
    AllocationRule.objects.filter(channel=ch).update(ratio_bp=8000)
    first = channel_stock_reallocate(chunk=2)
    assert first.rows_changed == 5
    assert set(ChannelStock.objects.values_list("quota", flat=True)) == {8}
    assert channel_stock_reallocate().rows_changed == 0
