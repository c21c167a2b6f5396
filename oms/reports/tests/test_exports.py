"""Exports of console lists: the file holds exactly the list's rows under its filters (opened and compared),
Chinese headers by default, formula cells neutralised, progress recorded; an export of nothing and a second
identical export while one runs are refused with a clear message; a failed export shows as failed and can be
retried; only the operator who asked downloads it."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from oms.core.errors import Conflict, ValidationFailed
from oms.orders.selectors import order_list
from oms.reports.exports.filters import order_filters_parse
from oms.reports.models import ExportJob
from oms.reports.services import exports as export_service
from oms.reports.services.exports import export_request, export_retry, export_run
from oms.testing.fulfillment import World


@pytest.fixture(autouse=True)
def _export_dir(settings: Any, tmp_path: Path) -> None:
    settings.OMS_EXPORTS = {**settings.OMS_EXPORTS, "DIR": str(tmp_path), "RUNNER": "inline"}


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks: Any) -> Any:
    """Runs a call and then what it scheduled after its commit (the export itself, "inline" in tests)."""

    def run(fn: Any, *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


@pytest.fixture
def orders(world: World) -> World:
    for code in ("TEA-001", "CUP-003"):
        world.receive(world.hz, code, 50)
    world.order([("TEA-001", 2)], seller_remark='=HYPERLINK("http://evil")')
    world.order([("CUP-003", 1)])
    world.order([("TEA-001", 1), ("CUP-003", 1)], placed_at="2026-01-16T09:00:00+08:00")
    return world


def _csv_rows(job: ExportJob) -> list[list[str]]:
    path = export_service.export_path(job)
    text = path.read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_csv_export_holds_the_lists_rows_with_chinese_headers(
    orders: World, make_operator: Any, after_commit: Any
) -> None:
    cs = make_operator("customer_service")
    params = {"sku": "TEA-001"}
    job = after_commit(export_request, operator=cs, list_name="orders", fmt="csv", params=params)
    job.refresh_from_db()
    assert (job.state, job.rows_written, job.total_rows, job.percent) == ("done", 2, 2, 100)
    header, *rows = _csv_rows(job)
    assert header[:3] == ["订单号", "渠道", "平台单号"]
    listed = [o.number for o in order_list(filters=order_filters_parse(params)).items]
    assert [r[0] for r in rows] == listed
    remark = rows[[r[0] for r in rows].index(listed[-1])][header.index("卖家备注")]
    assert remark == '\'=HYPERLINK("http://evil")'
    payable = header.index("应付金额")
    assert sorted(Decimal(r[payable]) for r in rows) == [Decimal("20.00"), Decimal("20.00")]


def test_xlsx_export_of_order_lines_in_english(orders: World, make_operator: Any, after_commit: Any) -> None:
    job = after_commit(
        export_request,
        operator=make_operator("customer_service"),
        list_name="order_lines",
        fmt="xlsx",
        params={},
        language="en",
    )
    job.refresh_from_db()
    sheet = load_workbook(export_service.export_path(job), read_only=True).worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[:3] == ("Order no.", "Line", "SKU")
    assert len(rows) == 4 and job.rows_written == 4
    assert sorted(r[header.index("Quantity")] for r in rows) == [1, 1, 1, 2]
    assert {r[header.index("Paid")] for r in rows} <= {10, 20}


def test_nothing_to_export_and_a_second_identical_export_are_refused(orders: World, make_operator: Any) -> None:
    cs = make_operator("customer_service")
    with pytest.raises(ValidationFailed) as empty:
        export_request(operator=cs, list_name="orders", fmt="csv", params={"sku": "RICE-10"})
    assert empty.value.code == "export_empty"
    # Queued and not yet run (the test transaction never commits), as while a worker is on it.
    first = export_request(operator=cs, list_name="orders", fmt="csv", params={"channel": "TMALL"})
    with pytest.raises(Conflict) as again:
        export_request(operator=cs, list_name="orders", fmt="csv", params={"channel": "TMALL", "cursor": "x"})
    assert again.value.code == "export_running" and again.value.extra["export_id"] == first.pk
    # Other filters, another format or another operator are other exports.
    export_request(operator=cs, list_name="orders", fmt="xlsx", params={"channel": "TMALL"})
    assert export_run(first.pk) is not None
    assert export_run(first.pk) is None  # claimed once
    export_request(operator=cs, list_name="orders", fmt="csv", params={"channel": "TMALL"})  # first is done


def test_a_failed_export_is_shown_and_can_be_retried(
    orders: World, make_operator: Any, monkeypatch: Any, settings: Any, after_commit: Any
) -> None:
    cs = make_operator("customer_service")

    def broken(*args: Any, **kwargs: Any) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(export_service, "write_rows", broken)
    job = after_commit(export_request, operator=cs, list_name="orders", fmt="csv", params={})
    job.refresh_from_db()
    assert (job.state, job.error_code) == ("failed", "write_failed")
    assert not export_service.export_path(job).exists()
    client = Client()
    client.force_login(cs)
    page = client.get("/exports/").content.decode()
    assert f'data-testid="export-retry-{job.pk}"' in page and "写入文件失败" in page
    monkeypatch.undo()
    after_commit(client.post, f"/exports/{job.pk}/retry/")
    job.refresh_from_db()
    assert (job.state, job.attempts, job.rows_written) == ("done", 2, 3)
    with pytest.raises(Conflict):
        export_retry(job=job, operator=cs)


def test_console_export_buttons_progress_and_download(orders: World, make_operator: Any, after_commit: Any) -> None:
    cs, other = make_operator("customer_service"), make_operator("customer_service")
    client = Client()
    client.force_login(cs)
    listing = client.get("/orders/", {"sku": "TEA-001"}).content.decode()
    assert 'data-testid="export-orders-xlsx"' in listing
    response = after_commit(
        client.post,
        "/exports/new/",
        {"list": "orders", "format": "xlsx", "query": "sku=TEA-001", "back": "/orders/?sku=TEA-001"},
    )
    assert response.status_code == 302 and response["Location"] == "/exports/"
    job = ExportJob.objects.get()
    page = client.get("/exports/").content.decode()
    assert f'data-testid="export-download-{job.pk}"' in page and 'value="100"' in page
    download = client.get(f"/exports/{job.pk}/download/")
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    body = b"".join(download.streaming_content)
    sheet = load_workbook(io.BytesIO(body), read_only=True).worksheets[0]
    assert len(list(sheet.iter_rows(values_only=True))) == 3
    nothing = client.post(
        "/exports/new/", {"list": "orders", "format": "csv", "query": "sku=RICE-10", "back": "/orders/"}
    )
    assert nothing["Location"] == "/orders/"
    assert "没有可导出的数据" in client.get("/orders/").content.decode()
    stranger = Client()
    stranger.force_login(other)
    assert stranger.get(f"/exports/{job.pk}/download/").status_code == 404
    warehouse = Client()
    warehouse.force_login(make_operator("warehouse_coordinator"))
    refused = warehouse.post("/exports/new/", {"list": "payments", "format": "csv", "query": "", "back": "/"})
    assert refused.status_code == 302 and ExportJob.objects.count() == 1
