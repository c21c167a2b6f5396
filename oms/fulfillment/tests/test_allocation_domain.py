"""The pure allocation planner: examples for each strategy and Hypothesis properties — never a warehouse
lacking the stock, always one warehouse when one can serve the whole order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from oms.fulfillment.domain.allocation import (
    AllocationRequest,
    LineNeed,
    Outcome,
    WarehouseDirective,
    WarehouseOption,
    can_serve,
    order_demand,
    plan_allocation,
    plan_take,
)

HZ = WarehouseOption(1, "HZ01", "330000", priority=10)  # Hangzhou, nationwide
GZ = WarehouseOption(2, "GZ01", "440000", priority=10)  # Guangzhou, nationwide
CD = WarehouseOption(3, "CD01", "510000", coverage_provinces=("510000", "500000"))  # Chengdu, south-west only
SH = WarehouseOption(4, "SH01", "310000", coverage_cities=("上海市",), priority=5)
ALL = [HZ, GZ, CD, SH]


def req(
    lines: list[tuple[int, int, int]], province: str = "330000", city: str = "杭州市", **kw: object
) -> AllocationRequest:
    return AllocationRequest(
        order_id=1,
        province=province,
        city=city,
        lines=tuple(LineNeed(line_id, ((sku, 1),), qty) for line_id, sku, qty in lines),
        **kw,  # type: ignore[arg-type]
    )


def test_whole_order_goes_to_the_nearest_warehouse_that_holds_it() -> None:
    free = {(1, 100): 5, (2, 100): 5, (1, 200): 1, (2, 200): 1}
    plan = plan_allocation(req([(11, 100, 2), (12, 200, 1)], province="440000", city="广州市"), ALL, free)
    assert plan.outcome == Outcome.SINGLE and plan.warehouse_id == GZ.id
    assert "GZ01" in plan.reason
    plan = plan_allocation(req([(11, 100, 2), (12, 200, 1)]), ALL, free)
    assert plan.warehouse_id == HZ.id


def test_stock_first_beats_distance_only_when_the_near_one_cannot_serve() -> None:
    free = {(1, 100): 1, (2, 100): 9}
    plan = plan_allocation(req([(11, 100, 3)]), ALL, free)
    assert plan.outcome == Outcome.SINGLE and plan.warehouse_id == GZ.id


def test_coverage_limits_eligibility_by_province_and_city() -> None:
    free = {(3, 100): 9, (4, 100): 9}
    # CD01 covers Sichuan and Chongqing only; SH01 only the city of Shanghai.
    assert plan_allocation(req([(11, 100, 1)]), ALL, free).outcome == Outcome.SHORT
    plan = plan_allocation(req([(11, 100, 1)], province="310000", city="上海"), ALL, free)
    assert plan.warehouse_id == SH.id
    plan = plan_allocation(req([(11, 100, 1)], province="510000", city="成都市"), ALL, free)
    assert plan.warehouse_id == CD.id


def test_channel_assignment_limits_eligibility() -> None:
    free = {(1, 100): 9, (2, 100): 9}
    plan = plan_allocation(req([(11, 100, 1)], channel_warehouses=frozenset({2})), ALL, free)
    assert plan.warehouse_id == GZ.id and plan.eligible == (GZ.id,)


def test_rule_preference_wins_when_the_preferred_warehouse_can_serve() -> None:
    free = {(1, 100): 9, (2, 100): 9}
    rule = WarehouseDirective(7, "JD-SOUTH", prefer=("GZ01",))
    plan = plan_allocation(req([(11, 100, 1)], directives=(rule,)), ALL, free)
    assert (plan.warehouse_id, plan.rule_id, plan.rule_code) == (GZ.id, 7, "JD-SOUTH")
    # Preferred but empty: the ordinary strategies decide, and no rule is credited.
    plan = plan_allocation(req([(11, 100, 1)], directives=(rule,)), ALL, {(1, 100): 9})
    assert plan.warehouse_id == HZ.id and plan.rule_id is None


def test_designation_and_exclusion() -> None:
    free = {(1, 100): 9, (2, 100): 9}
    only_gz = WarehouseDirective(1, "SKU-GZ", prefer=("GZ01",), only=True)
    plan = plan_allocation(req([(11, 100, 1)], directives=(only_gz,)), ALL, {(1, 100): 9, (2, 100): 0})
    assert plan.outcome == Outcome.SHORT and plan.warehouse_id == GZ.id  # never HZ01, even though HZ01 has it
    no_hz = WarehouseDirective(2, "NO-HZ", exclude=("HZ01",))
    assert plan_allocation(req([(11, 100, 1)], directives=(no_hz,)), ALL, free).warehouse_id == GZ.id
    none = WarehouseDirective(3, "ONLY-CD", prefer=("CD01",), only=True)
    plan = plan_allocation(req([(11, 100, 1)], directives=(none,)), ALL, free)
    assert plan.outcome == Outcome.NONE and plan.rule_code == "ONLY-CD"


def test_split_plan_when_no_single_warehouse_holds_everything() -> None:
    free = {(1, 100): 5, (2, 200): 5, (2, 300): 5}
    plan = plan_allocation(req([(11, 100, 1), (12, 200, 1), (13, 300, 1)]), ALL, free)
    assert plan.outcome == Outcome.SPLIT
    # Fewest packages: GZ01 takes the two lines it holds, HZ01 the other.
    assert [(g.warehouse_id, g.line_ids) for g in plan.groups] == [(GZ.id, (12, 13)), (HZ.id, (11,))]


def test_short_everywhere_goes_whole_to_the_warehouse_with_most_and_names_the_shortfall() -> None:
    free = {(1, 100): 1, (2, 100): 3}
    plan = plan_allocation(req([(11, 100, 5), (12, 200, 1)]), ALL, free)
    assert plan.outcome == Outcome.SHORT and plan.warehouse_id == GZ.id
    assert {(s.line_id, s.quantity) for s in plan.shortfalls} == {(11, 2), (12, 1)}


def test_cost_tie_break() -> None:
    free = {(1, 100): 9, (2, 100): 9}
    plan = plan_allocation(req([(11, 100, 1)]), ALL, free, costs={1: 900, 2: 500}, tie_breaks=("cost", "distance"))
    assert plan.warehouse_id == GZ.id


def test_bundle_components_count_together() -> None:
    bundle = LineNeed(11, ((100, 2), (200, 1)), 2)  # needs 4 × sku 100 and 2 × sku 200
    loose = LineNeed(12, ((100, 1),), 1)
    request = AllocationRequest(1, "330000", "杭州市", (bundle, loose))
    assert order_demand(request.lines) == {100: 5, 200: 2}
    free = {(1, 100): 4, (1, 200): 2, (2, 100): 5, (2, 200): 2}
    assert plan_allocation(request, ALL, free).warehouse_id == GZ.id


# ------------------------------------------------------------------------------------------- properties

warehouses_st = st.lists(
    st.builds(
        lambda i, prov, prio, cover: WarehouseOption(
            i, f"W{i}", prov, coverage_provinces=(("330000",) if cover else ()), priority=prio
        ),
        st.integers(1, 6),
        st.sampled_from(["330000", "440000", "510000", "110000"]),
        st.integers(1, 50),
        st.booleans(),
    ),
    min_size=1,
    max_size=5,
    unique_by=lambda w: w.id,
)
lines_st = st.lists(
    st.tuples(st.sampled_from([100, 200, 300]), st.integers(1, 4)), min_size=1, max_size=4, unique_by=lambda t: t[0]
)
free_st = st.dictionaries(st.tuples(st.integers(1, 6), st.sampled_from([100, 200, 300])), st.integers(0, 8))


@given(warehouses_st, lines_st, free_st, st.sampled_from(["330000", "440000"]))
def test_never_a_warehouse_lacking_the_stock_and_one_warehouse_when_one_can_serve(
    warehouses: list[WarehouseOption], lines: list[tuple[int, int]], free: dict[tuple[int, int], int], province: str
) -> None:
    request = req([(i + 1, sku, qty) for i, (sku, qty) in enumerate(lines)], province=province)
    plan = plan_allocation(request, warehouses, free)
    eligible = [w for w in warehouses if w.covers(province, "")]
    one_can = any(can_serve(free, w.id, request.lines) for w in eligible)
    if one_can:
        assert plan.outcome == Outcome.SINGLE
        assert can_serve(free, plan.warehouse_id or 0, request.lines)
    elif not eligible:
        assert plan.outcome == Outcome.NONE
    else:
        assert plan.outcome in (Outcome.SPLIT, Outcome.SHORT)
    # Whatever the outcome, every unit planned for a warehouse (short units aside) is there.
    left = dict(free)
    plan_take(left, request, plan)
    touched = {(g.warehouse_id, sku) for g in plan.groups for sku, _q in lines}
    assert all(left.get(k, 0) >= 0 for k in touched)
    assert all(g.warehouse_id in {w.id for w in eligible} for g in plan.groups)
    planned = sorted(i for g in plan.groups for i in g.line_ids)
    assert planned == ([] if plan.outcome == Outcome.NONE else [ln.line_id for ln in request.lines])
