from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from oms.inventory.domain.batches import BatchLevel, plan_batch_issue
from oms.inventory.domain.reservation import LineDemand, bundle_units, plan_grants, pushed_figure


def test_plan_grants_first_come_first_served_whole_bundles():
    free = {(1, 10): 5, (1, 11): 3}
    demands = [
        LineDemand(1, ((10, 1),), 2),
        LineDemand(1, ((10, 2), (11, 1)), 5),  # bundle: 2×sku10 + 1×sku11 → only 1 fits after the first line
        LineDemand(1, ((10, 1),), 9),
    ]
    assert plan_grants(free, demands) == [2, 1, 1]


@given(
    free=st.dictionaries(st.tuples(st.integers(1, 2), st.integers(1, 3)), st.integers(-2, 20), max_size=6),
    demands=st.lists(
        st.builds(
            LineDemand,
            st.integers(1, 2),
            st.lists(
                st.tuples(st.integers(1, 3), st.integers(1, 3)), min_size=1, max_size=2, unique_by=lambda t: t[0]
            ).map(tuple),
            st.integers(0, 10),
        ),
        max_size=8,
    ),
)
def test_plan_grants_never_exceeds_free(free, demands):
    grants = plan_grants(free, demands)
    used: dict[tuple[int, int], int] = {}
    for demand, g in zip(demands, grants, strict=True):
        assert 0 <= g <= demand.units
        for sku, per in demand.components:
            used[(demand.target_id, sku)] = used.get((demand.target_id, sku), 0) + g * per
    for key, units in used.items():
        assert units <= max(free.get(key, 0), 0)


def test_bundle_units_and_pushed_figure():
    assert bundle_units({1: 7, 2: 2}, [(1, 3), (2, 1)]) == 2
    assert bundle_units({1: 7}, [(1, 3), (2, 1)]) == 0
    assert pushed_figure(available=10, safety_stock=2, min_quantity=0, max_quantity=None) == 8
    assert pushed_figure(available=10, safety_stock=0, min_quantity=0, max_quantity=5) == 5
    assert pushed_figure(available=3, safety_stock=1, min_quantity=3, max_quantity=None) == 0  # delisted below min
    assert pushed_figure(available=-4, safety_stock=0, min_quantity=0, max_quantity=None) == 0


def test_batches_leave_first_expiry_first_then_unbatched():
    levels = [
        BatchLevel(1, 5, dt.date(2027, 5, 1), 1),
        BatchLevel(2, 5, dt.date(2027, 1, 1), 2),
        BatchLevel(3, 5, None, 0),
    ]
    assert plan_batch_issue(levels, 12) == [(2, 5), (1, 5), (3, 2)]
    assert plan_batch_issue(levels, 17) == [(2, 5), (1, 5), (3, 5), (None, 2)]
