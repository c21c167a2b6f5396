"""File import: CSV and XLSX, per-order all-or-nothing, row-level report, re-runs import nothing twice."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from openpyxl import Workbook

from oms.orders.models import Order, OrderLine
from oms.orders.services.file_import import orders_import_file

HEADER = [
    "渠道", "平台订单号", "下单时间", "买家ID", "收货人", "收货人手机", "省", "市", "区", "详细地址",
    "订单优惠", "运费", "应付金额", "支付方式", "付款时间",
    "商家编码", "商品名称", "数量", "单价", "商品优惠", "参与活动",
]  # fmt: skip
ROWS = [
    ["TMALL", "TB1001", "2026-01-15 10:00:00", "tb-a", "张三", "13800138000", "浙江省", "杭州市", "西湖区", "文三路1号",
     "10.00", "8.00", "117.80", "alipay", "2026-01-15 10:01:00", "TEA-001", "龙井", "2", "59.90", "", ""],
    ["TMALL", "TB1001", "", "", "", "", "", "", "", "", "", "", "", "", "", "GIFT-01", "试用装", "1", "0", "", ""],
    # A bad order: unknown SKU on its second line and a bad phone on its first row.
    ["TMALL", "TB1002", "2026-01-15 11:00:00", "tb-b", "李四", "12345", "广东", "广州市", "", "天河路2号",
     "", "", "", "", "", "NUT-002", "坚果", "1", "89.00", "5.00", "满减"],
    ["TMALL", "TB1002", "", "", "", "", "", "", "", "", "", "", "", "", "", "NOPE-9", "?", "1", "1.00", "", ""],
    ["TMALL", "TB1003", "2026-01-15 12:00:00", "tb-a", "张三", "13800138000", "浙江", "杭州市", "", "文三路1号",
     "", "", "", "", "", "CUP-003", "保温杯", "3", "33.33", "", ""],
]  # fmt: skip


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def xlsx_bytes(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        typed: list[Any] = []
        for h, v in zip(HEADER, row, strict=True):
            # Spreadsheets type their cells: prices as floats, quantities and phones as numbers.
            if v and h in ("单价", "订单优惠", "运费", "应付金额", "商品优惠"):
                typed.append(float(v))
            elif v and h in ("数量", "收货人手机"):
                typed.append(int(v))
            else:
                typed.append(v)
        sheet.append(typed)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("name", "make"), [("orders.csv", csv_bytes), ("orders.xlsx", xlsx_bytes)])
def test_import_takes_good_orders_and_reports_bad_rows(
    tmall: Any, skus: Any, admin_operator: Any, name: str, make: Any
) -> None:
    summary = orders_import_file(stream=io.BytesIO(make(ROWS)), filename=name, actor=admin_operator)
    assert summary.as_dict() == {"rows": 5, "orders": 3, "created": 2, "existing": 0, "failed": 1}, summary.report
    assert set(Order.objects.values_list("platform_order_id", flat=True)) == {"TB1001", "TB1003"}
    assert OrderLine.objects.filter(order__platform_order_id="TB1002").count() == 0
    report = {(r.row, r.column) for r in summary.report}
    assert report == {(4, "receiver_phone"), (5, "sku_code")}
    first = Order.objects.get(platform_order_id="TB1001")
    assert (first.payable_minor, first.payment_status, first.status) == (11780, "paid", "pending_review")
    cup = OrderLine.objects.get(order__platform_order_id="TB1003")
    assert (cup.unit_price_minor, cup.quantity) == (3333, 3)
    # Re-running the same file imports nothing twice.
    again = orders_import_file(stream=io.BytesIO(make(ROWS)), filename=name, actor=admin_operator)
    assert again.as_dict() == {"rows": 5, "orders": 3, "created": 0, "existing": 2, "failed": 1}
    assert Order.objects.count() == 2


def test_changed_order_in_a_rerun_is_reported_not_overwritten(tmall: Any, skus: Any, admin_operator: Any) -> None:
    orders_import_file(stream=io.BytesIO(csv_bytes(ROWS[4:])), filename="a.csv", actor=admin_operator)
    changed = [[*ROWS[4][:18], "34.00", "", ""]]
    summary = orders_import_file(stream=io.BytesIO(csv_bytes(changed)), filename="a.csv", actor=admin_operator)
    assert summary.failed == 1 and summary.report[0].column == "unit_price"
    assert "33.33" in summary.report[0].message and "34.00" in summary.report[0].message
    assert OrderLine.objects.get().unit_price_minor == 3333


def test_import_command_writes_the_report(tmall: Any, skus: Any, tmp_path: Path, capsys: Any) -> None:
    source = tmp_path / "orders.csv"
    source.write_bytes(csv_bytes(ROWS))
    call_command("import_orders", str(source), "--no-progress")
    out = capsys.readouterr().out
    assert "5 rows, 3 orders: 2 imported, 0 already imported, 1 refused." in out
    report = list(csv.reader((tmp_path / "orders.errors.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert report[0] == ["row", "platform_order_id", "column", "message"] and len(report) == 3


def test_unsupported_file_type(db: Any, admin_operator: Any) -> None:
    with pytest.raises(ValueError, match="Unsupported"):
        orders_import_file(stream=io.BytesIO(b""), filename="x.pdf", actor=admin_operator)
