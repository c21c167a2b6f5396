"""In Chromium: the dashboard's and the sales report's charts are drawn by the application's own ECharts (not a
blank canvas), and no script comes from anywhere but the application."""

from __future__ import annotations

from typing import Any

import pytest

from oms.reports.services.rollups import rollups_refresh
from oms.testing.fulfillment import World

pytestmark = pytest.mark.browser

PAINTED = """(el) => {
  const canvas = el.querySelector('canvas');
  if (!canvas) { return 0; }
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) { painted += 1; } }
  return painted;
}"""


def test_dashboard_and_report_charts_are_drawn(
    transactional_db: Any, world: World, make_operator: Any, login: Any, live_server: Any
) -> None:
    from django.utils import timezone

    today = timezone.localdate().isoformat()
    world.receive(world.hz, "TEA-001", 20)
    world.order(
        [("TEA-001", 2)],
        placed_at=f"{today}T08:00:00+08:00",
        payment={"method": "alipay", "transaction_id": "BROWSER-1", "paid_at": f"{today}T08:01:00+08:00"},
    )
    rollups_refresh()
    make_operator("finance", "customer_service", username="charts", password="browser-test-pass")
    page = login("charts", "browser-test-pass")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{live_server.url}/")
    for testid in ("dashboard-sales-chart", "dashboard-stage-chart"):
        chart = page.wait_for_selector(f"[data-testid={testid}][data-drawn='1'] canvas")
        assert chart is not None
        assert page.eval_on_selector(f"[data-testid={testid}]", PAINTED) > 2_000, testid
    # The series hold the day's figures: 20.00 payable and one order today.
    series = page.evaluate(
        "() => echarts.getInstanceByDom(document.querySelector('[data-testid=dashboard-sales-chart]'))"
        ".getOption().series.map(s => s.data[s.data.length - 1])"
    )
    assert series == ["20.00", 1]
    page.goto(f"{live_server.url}/reports/sales/?by=channel")
    page.wait_for_selector("[data-testid=sales-breakdown-chart][data-drawn='1'] canvas")
    assert page.eval_on_selector("[data-testid=sales-day-chart]", PAINTED) > 2_000
    assert page.eval_on_selector("[data-testid=sales-breakdown-chart]", PAINTED) > 2_000
    assert all(url.startswith(live_server.url) for url in requests), [u for u in requests if live_server.url not in u]
