"""Fixtures for the connector tests: a simulator on 127.0.0.1 in a thread, a connected shop, SKUs."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from oms.catalog.models import Sku
from oms.channels.models import Channel
from oms.connectors.domain.mapped import CHINA_TZ
from oms.connectors.models import Shop
from oms.connectors.services.shops import shop_connect
from oms.connectors.simulator.server import SimulatorServer
from oms.connectors.simulator.state import SimShop
from oms.connectors.simulator.taobao import SimLine, build_trade

_seq = itertools.count(1)
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=CHINA_TZ)


@pytest.fixture(scope="session")
def simulator() -> Iterator[SimulatorServer]:
    server = SimulatorServer().start()
    yield server
    server.stop()


@pytest.fixture
def skus(db: Any) -> list[Sku]:
    return [
        Sku.objects.create(code="TEA-001", name="龙井绿茶 250g", tax_rate_bp=900),
        Sku.objects.create(code="NUT-002", name="每日坚果 30包", tax_rate_bp=900),
        Sku.objects.create(code="CUP-003", name="保温杯", tax_rate_bp=1300),
    ]


@pytest.fixture
def tb_shop(db: Any, simulator: SimulatorServer, skus: list[Sku]) -> tuple[Shop, SimShop]:
    """A Tmall channel connected through TOP to a fresh shop of the simulator."""
    n = next(_seq)
    channel = Channel.objects.create(code=f"TM{n}", name=f"天猫旗舰店 {n}", platform="tmall")
    key, secret, token = f"key{n}", f"secret-{n}-xyz", f"token-{n}"
    sim_shop = simulator.state.shop_add("taobao", key, secret, token)
    shop = shop_connect(
        channel=channel, platform="taobao", base_url=simulator.base_url, actor="test",
        credentials={"app_key": key, "app_secret": secret, "access_token": token}, pull_from=T0,
    )  # fmt: skip
    return shop, sim_shop


def tb_lines(tid: str) -> list[SimLine]:
    return [
        SimLine(f"{tid}01", "5001", "TEA-001", "龙井绿茶 250g", 5990, 2, discount_minor=500),
        SimLine(f"{tid}02", "5002", "NUT-002", "每日坚果 30包", 8900, 1),
    ]


@pytest.fixture
def put_trade(simulator: SimulatorServer) -> Callable[..., dict[str, Any]]:
    """Add a version of a trade to a simulator shop (modified `minutes` after T0)."""

    def put(sim_shop: SimShop, tid: str, minutes: float, **fields: Any) -> dict[str, Any]:
        modified = T0 + timedelta(minutes=minutes)
        fields.setdefault("status", "WAIT_SELLER_SEND_GOODS")
        fields.setdefault("lines", tb_lines(tid))
        if fields["status"] != "WAIT_BUYER_PAY":
            fields.setdefault("pay_time", T0)
        native = build_trade(tid=tid, created=T0, modified=modified, **fields)
        simulator.state.order_put(sim_shop, tid, modified, native)
        return native

    return put
