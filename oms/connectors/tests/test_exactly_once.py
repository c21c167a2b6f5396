"""Hypothesis: any sequence of changes and overlapping pulls (with repeated, overlapping and stale pages)
takes each platform order in exactly once and ends with its latest version."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oms.channels.models import Channel
from oms.connectors.models import PulledOrder, PullKind
from oms.connectors.services.pull import shop_pull
from oms.connectors.services.shops import shop_connect
from oms.connectors.simulator.server import SimulatorServer
from oms.connectors.simulator.state import Faults
from oms.connectors.simulator.taobao import SimReceiver, build_trade
from oms.connectors.tests.conftest import T0, tb_lines
from oms.orders.models import Order

_shops = itertools.count(1)

change = st.tuples(st.just("change"), st.integers(0, 5), st.integers(1, 9))
pull = st.tuples(st.just("pull"), st.sampled_from(["none", "overlap", "duplicate", "stale"]), st.just(0))
backfill = st.tuples(st.just("backfill"), st.integers(0, 60), st.integers(1, 90))
steps = st.lists(st.one_of(change, change, pull, backfill), min_size=1, max_size=14)
FAULTS = {"none": Faults(), "overlap": Faults(overlap_items=2), "duplicate": Faults(duplicate_pages=True),
          "stale": Faults(stale_versions=True)}  # fmt: skip


@pytest.mark.django_db(transaction=False)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=steps)
def test_overlapping_pulls_take_each_order_once_with_its_latest_version(
    plan: list[tuple[str, Any, int]], simulator: SimulatorServer, skus: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oms.connectors.adapters import ADAPTERS

    monkeypatch.setattr(ADAPTERS["taobao"], "page_size", 2)
    n = next(_shops)
    channel = Channel.objects.create(code=f"HY{n}", name=f"shop {n}", platform="tmall")
    sim = simulator.state.shop_add("taobao", f"hy{n}", "s3cret-hy", "tok")
    shop = shop_connect(channel=channel, platform="taobao", base_url=simulator.base_url, actor="test",
                        credentials={"app_key": f"hy{n}", "app_secret": "s3cret-hy", "access_token": "tok"},
                        pull_from=T0, overlap_s=60)  # fmt: skip
    minute = 0
    latest: dict[str, str] = {}
    for kind, a, b in plan:
        minute += 1
        now = T0 + timedelta(minutes=minute)
        if kind == "change":
            tid = f"{n}9{a}"
            address = f"文三路 {b}{minute} 号"
            native = build_trade(tid=tid, status="WAIT_SELLER_SEND_GOODS", created=T0, modified=now,
                                 lines=tb_lines(tid), pay_time=T0, receiver=SimReceiver(address=address))  # fmt: skip
            simulator.state.order_put(sim, tid, now, native)
            latest[tid] = address
        elif kind == "pull":
            sim.faults = FAULTS[a]
            shop_pull(shop=shop, kind=PullKind.NOW, now=now)
        else:
            start = T0 + timedelta(minutes=min(a, minute - 1))
            sim.faults = Faults(overlap_items=1)
            shop_pull(shop=shop, kind=PullKind.BACKFILL, start=start,
                      end=min(now, start + timedelta(minutes=b)), now=now)  # fmt: skip
        shop.refresh_from_db()
    sim.faults = Faults()
    shop_pull(shop=shop, now=T0 + timedelta(minutes=minute + 1))

    orders = list(Order.objects.filter(channel=channel))
    assert sorted(o.platform_order_id for o in orders) == sorted(latest)
    for order in orders:
        assert order.receiver_address == latest[order.platform_order_id]
    for pulled in PulledOrder.objects.filter(shop=shop):
        assert pulled.version == _current_version(simulator, sim, pulled.platform_order_id)


def _current_version(simulator: SimulatorServer, sim: Any, tid: str) -> str:
    from oms.connectors.domain.mapped import native_version

    return native_version(sim.orders[tid].current[1])
