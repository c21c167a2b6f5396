"""Playwright against the live server: connect a Tmall shop to the simulator, pull now, see its orders."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

import pytest

from oms.channels.models import Channel
from oms.connectors.domain.mapped import CHINA_TZ
from oms.connectors.models import Shop
from oms.connectors.simulator.server import SimulatorServer
from oms.connectors.simulator.taobao import build_trade
from oms.connectors.tests.conftest import tb_lines

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = pytest.mark.browser


def test_connect_a_shop_pull_and_see_its_orders(
    browser_page: Any, live_server: Any, simulator: SimulatorServer, skus: Any
) -> None:
    channel = Channel.objects.create(code="TMALL-PW", name="天猫旗舰店", platform="tmall")
    sim = simulator.state.shop_add("taobao", "pw-key", "pw-secret-123", "pw-token")
    at = datetime.now(CHINA_TZ) - timedelta(minutes=10)
    for tid in ("880001", "880002"):
        native = build_trade(
            tid=tid, status="WAIT_SELLER_SEND_GOODS", created=at, modified=at, lines=tb_lines(tid), pay_time=at
        )
        simulator.state.order_put(sim, tid, at, native)
    p = browser_page
    p.goto(f"{live_server.url}/shops/")
    p.click("[data-testid=connect-shop]")
    p.select_option("select[name=channel]", value=str(channel.pk))
    p.select_option("select[name=platform]", value="taobao")
    p.fill("input[name=base_url]", simulator.base_url)
    p.fill("input[name=app_key]", "pw-key")
    p.fill("input[name=app_secret]", "pw-secret-123")
    p.fill("input[name=access_token]", "pw-token")
    p.click("[data-testid=save-shop]")
    p.wait_for_selector("[data-testid=pull-now]")
    assert "pw-secret-123" not in p.content()
    p.click("[data-testid=pull-now]")
    p.wait_for_selector("[data-testid=pulled-orders] >> text=880002")
    assert p.inner_text("[data-testid=shop-status]") == "已连接"
    rows = p.locator("[data-testid=pulled-orders] tbody tr")
    assert rows.count() == 2
    rows.first.locator("a").click()
    p.wait_for_selector("[data-testid=order-number]")
    assert p.inner_text("[data-testid=order-status]") == "待审核"
    assert Shop.objects.get(channel=channel).status == "ok"
