"""Playwright against the live server: upload an order file in the console, follow the job to its end, read
the counts and the refused order's row in the report (in Chinese)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from oms.orders.models import ImportJob, Order

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = pytest.mark.browser

CSV = (
    "渠道,平台订单号,收货人,收货人手机,省,市,详细地址,商家编码,数量,单价\n"
    "TMALL,BRW-1,王小明,13800138000,浙江,杭州市,文三路 1 号,TEA-001,2,59.90\n"
    "TMALL,BRW-1,王小明,13800138000,浙江,杭州市,文三路 1 号,CUP-003,1,33.33\n"
    "TMALL,BRW-2,李四,13900139000,浙江,杭州市,文一路 2 号,NO-SUCH-SKU,1,10.00\n"
)


def test_upload_and_follow_the_import_job(
    browser_page: Any, live_server: Any, tmall: Any, skus: Any, tmp_path: Path
) -> None:
    file = tmp_path / "订单导出.csv"
    file.write_text(CSV, encoding="utf-8")
    p = browser_page
    p.goto(f"{live_server.url}/orders/import/")
    p.set_input_files("[data-testid=import-file]", str(file))
    p.click("[data-testid=import-submit]")
    p.wait_for_selector("[data-testid=import-job][data-state=done]")
    summary = p.inner_text("[data-testid=import-summary]")
    assert "3 行，2 个订单" in summary and "导入 1" in summary and "被拒 1" in summary
    report = p.inner_text("[data-testid=import-report]")
    assert "BRW-2" in report and "4" in report  # the refused order's file row
    assert Order.objects.filter(platform_order_id="BRW-1").count() == 1
    assert ImportJob.objects.get().state == "done"
    p.goto(f"{live_server.url}/orders/import/")
    assert "订单导出.csv" in p.inner_text("[data-testid=import-jobs]")
