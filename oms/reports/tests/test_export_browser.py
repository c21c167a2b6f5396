"""In Chromium: export the order list as filtered, follow the export to its download, open the file."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from oms.testing.fulfillment import World

pytestmark = pytest.mark.browser


def test_export_the_filtered_order_list_and_download_it(
    transactional_db: Any,
    world: World,
    make_operator: Any,
    login: Any,
    live_server: Any,
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.OMS_EXPORTS = {**settings.OMS_EXPORTS, "DIR": str(tmp_path / "exports"), "RUNNER": "inline"}
    world.receive(world.hz, "TEA-001", 20)
    world.receive(world.hz, "CUP-003", 20)
    tea = world.order([("TEA-001", 2)])
    world.order([("CUP-003", 1)])
    make_operator("customer_service", username="exporter", password="browser-test-pass")
    page = login("exporter", "browser-test-pass")
    page.goto(f"{live_server.url}/orders/?sku=TEA-001")
    page.click("[data-testid=export-orders-csv]")
    page.wait_for_url(f"{live_server.url}/exports/")
    link = page.wait_for_selector("[data-testid^=export-download-]")
    assert link is not None
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header[0] == "订单号"
    assert [r[0] for r in rows] == [tea.number]
