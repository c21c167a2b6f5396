"""Import orders from CSV or XLSX files as merchants export them from platform back-ends (one row per line).

Rows are grouped into orders by (channel, platform order id); order-level columns are read from the
order's first row. Each order goes through the same bulk intake as the API, so an order is taken in
whole or not at all, a bad order never blocks the others, and re-running a file imports nothing twice
(identical orders come back as "existing"). Every refused order yields report rows naming the file
row, the column and the problem.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from oms.core.actors import Actor
from oms.core.domain.cells import row_safe
from oms.core.domain.money import format_minor
from oms.orders.services.intake import order_intake_bulk

# column -> accepted headers (English first, then what Chinese back-ends call it)
ORDER_COLUMNS: dict[str, tuple[str, ...]] = {
    "channel": ("channel", "渠道", "店铺编码"),
    "platform_order_id": ("platform_order_id", "平台订单号", "订单编号"),
    "type": ("type", "订单类型"),
    "currency": ("currency", "币种"),
    "placed_at": ("placed_at", "下单时间"),
    "buyer_id": ("buyer_id", "买家ID", "买家账号"),
    "buyer_nickname": ("buyer_nickname", "买家昵称"),
    "receiver_name": ("receiver_name", "收货人"),
    "receiver_phone": ("receiver_phone", "收货人手机", "联系电话"),
    "province": ("province", "省"),
    "city": ("city", "市"),
    "district": ("district", "区"),
    "address": ("address", "详细地址"),
    "postcode": ("postcode", "邮编"),
    "buyer_remark": ("buyer_remark", "买家留言"),
    "seller_remark": ("seller_remark", "卖家备注"),
    "invoice_kind": ("invoice_kind", "发票类型"),
    "invoice_title": ("invoice_title", "发票抬头"),
    "invoice_tax_id": ("invoice_tax_id", "纳税人识别号"),
    "invoice_email": ("invoice_email", "发票邮箱"),
    "presale": ("presale", "预售"),
    "cod": ("cod", "货到付款"),
    "order_discount": ("order_discount", "订单优惠"),
    "shipping": ("shipping", "运费"),
    "payable": ("payable", "应付金额"),
    "payment_method": ("payment_method", "支付方式"),
    "transaction_id": ("transaction_id", "支付流水号"),
    "paid_amount": ("paid_amount", "实付金额"),
    "paid_at": ("paid_at", "付款时间"),
    "promotions": ("promotions", "订单活动"),
}
LINE_COLUMNS: dict[str, tuple[str, ...]] = {
    "platform_line_id": ("platform_line_id", "子订单号"),
    "sku_code": ("sku_code", "商家编码"),
    "platform_sku_code": ("platform_sku_code", "平台SKU"),
    "item_name": ("item_name", "商品名称"),
    "quantity": ("quantity", "数量"),
    "unit_price": ("unit_price", "单价"),
    "line_discount": ("line_discount", "商品优惠"),
    "promotion": ("promotion", "参与活动"),
    "is_gift": ("is_gift", "赠品"),
    "platform_paid": ("platform_paid", "分摊后实付"),
}
HEADER_ALIASES = {
    alias: key for cols in (ORDER_COLUMNS, LINE_COLUMNS) for key, names in cols.items() for alias in names
}
# intake field path -> the file column a merchant should fix
_FIELD_TO_COLUMN = {
    "platform_order_id": "platform_order_id",
    "receiver.name": "receiver_name",
    "receiver.phone": "receiver_phone",
    "receiver.province": "province",
    "receiver.city": "city",
    "receiver.district": "district",
    "receiver.address": "address",
    "receiver.postcode": "postcode",
    "buyer.platform_buyer_id": "buyer_id",
    "invoice.kind": "invoice_kind",
    "invoice.title": "invoice_title",
    "invoice.tax_id": "invoice_tax_id",
    "invoice.email": "invoice_email",
    "totals.payable": "payable",
    "payment.method": "payment_method",
    "payment.amount": "paid_amount",
    "payment.paid_at": "paid_at",
}
_LINE_FIELD_TO_COLUMN = {"name": "item_name", "promotions[0].amount": "line_discount"}


@dataclass
class ReportRow:
    row: int
    platform_order_id: str
    column: str
    message: str


@dataclass
class ImportSummary:
    rows: int = 0
    orders: int = 0
    created: int = 0
    existing: int = 0
    failed: int = 0
    report: list[ReportRow] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("rows", "orders", "created", "existing", "failed")}


@dataclass
class _Group:
    rows: list[int]
    cells: list[dict[str, str]]


def _cell_text(value: Any) -> str:
    """Spreadsheet cells arrive typed: a price is a float, a phone an int. Turn them back into the text
    the merchant typed (the shortest repr of a float is exactly that), never into float money."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = format(Decimal(repr(value)), "f")
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


class UnreadableFile(ValueError):
    """The upload is not a readable CSV (UTF-8) or XLSX file: every caller shows this message, no traceback."""


def _rows_csv(stream: IO[bytes]) -> Iterator[list[str]]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        yield from csv.reader(text)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UnreadableFile(f"The CSV file could not be read (save it as UTF-8 CSV): {exc}") from None


def _rows_xlsx(stream: IO[bytes]) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:
        raise UnreadableFile(f"The file is not a readable XLSX workbook ({type(exc).__name__}).") from None
    try:
        sheet = book.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell_text(v) for v in values]
    except UnreadableFile:
        raise
    except Exception as exc:
        raise UnreadableFile(f"The XLSX workbook is damaged or truncated ({type(exc).__name__}).") from None
    finally:
        book.close()


def _whole_number(text: str) -> int | str:
    """A quantity cell as an integer (the intake takes JSON integers only); anything else stays text and
    is refused by the intake with the cell's row and column."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else text


def read_rows(stream: IO[bytes], filename: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(file row number, {column: text}) for every non-empty data row; unknown headers are ignored."""
    return read_table(stream, filename, HEADER_ALIASES)


def read_table(stream: IO[bytes], filename: str, aliases: dict[str, str]) -> Iterator[tuple[int, dict[str, str]]]:
    """A CSV or XLSX file's data rows as (file row number, {column: text}): ``aliases`` maps each accepted
    header to its column; unknown headers are ignored, empty rows skipped. `UnreadableFile` or ValueError
    (an unsupported file type) for a file that cannot be read."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        rows: Iterable[list[str]] = _rows_csv(stream)
    elif suffix in (".xlsx", ".xlsm"):
        rows = _rows_xlsx(stream)
    else:
        raise ValueError(f"Unsupported file type {suffix!r}: use .csv or .xlsx.")
    iterator = iter(rows)
    header = next(iterator, None)
    if header is None:
        return
    keys = [aliases.get(h.strip(), "") for h in header]
    for number, values in enumerate(iterator, start=2):
        cells = {k: (v or "").strip() for k, v in zip(keys, values, strict=False) if k}
        if any(cells.values()):
            yield number, cells


class _Spill:
    """The file's rows grouped into orders without holding the file in memory: the rows go to a temporary
    SQLite file on disk as they are read (only each order's key and first row stay in memory), then come
    back one order at a time, orders in the order of their first row, rows in file order."""

    def __init__(self, rows: Iterable[tuple[int, dict[str, str]]]) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="oms-import-")
        self._db = sqlite3.connect(str(Path(self._dir.name) / "rows.sqlite3"))
        self._db.execute("CREATE TABLE r (grp INTEGER, row INTEGER, cells TEXT)")
        first: dict[tuple[str, str], int] = {}
        batch: list[tuple[int, int, str]] = []
        self.rows = 0
        for number, cells in rows:
            key = (cells.get("channel", ""), cells.get("platform_order_id", ""))
            batch.append((first.setdefault(key, number), number, json.dumps(cells, ensure_ascii=False)))
            self.rows += 1
            if len(batch) >= 5000:
                self._db.executemany("INSERT INTO r VALUES (?, ?, ?)", batch)
                batch.clear()
        self._db.executemany("INSERT INTO r VALUES (?, ?, ?)", batch)
        self._db.execute("CREATE INDEX r_grp ON r (grp, row)")
        self.orders = len(first)

    def groups(self) -> Iterator[_Group]:
        group: _Group | None = None
        current = None
        for grp, number, cells in self._db.execute("SELECT grp, row, cells FROM r ORDER BY grp, row"):
            if grp != current:
                if group is not None:
                    yield group
                group, current = _Group([], []), grp
            assert group is not None
            group.rows.append(number)
            group.cells.append(json.loads(cells))
        if group is not None:
            yield group

    def close(self) -> None:
        self._db.close()
        self._dir.cleanup()


def _json_cell(text: str) -> Any:
    """A cell holding JSON (the order's promotions); left as text when it is not, so intake names the field."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _payload(group: _Group) -> dict[str, Any]:
    first = group.cells[0]

    def g(key: str) -> str:
        return first.get(key, "")

    payload: dict[str, Any] = {
        "channel": g("channel"),
        "platform_order_id": g("platform_order_id"),
        "type": g("type") or "sale",
        "placed_at": g("placed_at") or None,
        "receiver": {
            "name": g("receiver_name"),
            "phone": g("receiver_phone"),
            "province": g("province"),
            "city": g("city"),
            "district": g("district"),
            "address": g("address"),
            "postcode": g("postcode"),
        },
        "buyer_remark": g("buyer_remark"),
        "seller_remark": g("seller_remark"),
        "invoice": {
            "kind": g("invoice_kind") or "none",
            "title": g("invoice_title"),
            "tax_id": g("invoice_tax_id"),
            "email": g("invoice_email"),
        },
        "presale": g("presale"),
        "cod": g("cod"),
        "order_discount": g("order_discount") or "0",
        "shipping": g("shipping") or "0",
        "lines": [],
    }
    if g("currency"):
        payload["currency"] = g("currency")
    if g("promotions"):
        payload["promotions"] = _json_cell(g("promotions"))
    if g("buyer_id"):
        payload["buyer"] = {"platform_buyer_id": g("buyer_id"), "nickname": g("buyer_nickname")}
    if g("payable"):
        payload["totals"] = {"payable": g("payable")}
    if g("payment_method"):
        payload["payment"] = {
            "method": g("payment_method"),
            "transaction_id": g("transaction_id"),
            "amount": g("paid_amount") or None,
            "paid_at": g("paid_at") or None,
        }
    for cells in group.cells:
        line: dict[str, Any] = {
            "platform_line_id": cells.get("platform_line_id", ""),
            "sku_code": cells.get("sku_code", ""),
            "platform_sku_code": cells.get("platform_sku_code", ""),
            "name": cells.get("item_name", ""),
            "quantity": _whole_number(cells.get("quantity", "")),
            "unit_price": cells.get("unit_price", ""),
            "is_gift": cells.get("is_gift", ""),
        }
        if cells.get("platform_paid"):
            line["platform_paid"] = cells["platform_paid"]
        discount = cells.get("line_discount", "")
        promotion = cells.get("promotion", "")
        if promotion and discount:
            line["promotions"] = [{"name": promotion, "amount": discount, "kind": "discount"}]
        elif discount:
            line["line_discount"] = discount
        payload["lines"].append(line)
    return payload


def _report_rows(group: _Group, platform_order_id: str, details: list[dict[str, Any]], message: str) -> list[ReportRow]:
    if not details:
        return [ReportRow(group.rows[0], platform_order_id, "", message)]
    out = []
    for d in details:
        path = str(d.get("field", ""))
        row, column = group.rows[0], _FIELD_TO_COLUMN.get(path, path)
        if path.startswith("lines[") and "]" in path:
            index = int(path[6 : path.index("]")])
            rest = path[path.index("]") + 2 :]
            row = group.rows[index] if index < len(group.rows) else row
            column = _LINE_FIELD_TO_COLUMN.get(rest, rest)
        out.append(ReportRow(row, platform_order_id, column, str(d.get("message", ""))))
    return out


def _difference(d: dict[str, Any], currency: str) -> dict[str, str]:
    """A 409 difference as a report line: money back in decimal form, column without the unit suffix."""
    field_path, old, new = str(d["field"]), d["existing"], d["incoming"]
    if field_path.endswith("_minor"):
        field_path = field_path.removesuffix("_minor")
        old, new = (format_minor(v, currency) if isinstance(v, int) else v for v in (old, new))
    return {"field": field_path, "message": f"already imported as {old!r}; the file now says {new!r}"}


def orders_import_file(
    *,
    stream: IO[bytes],
    filename: str,
    actor: Actor,
    chunk: int = 500,
    progress: bool = False,
    on_progress: Callable[[ImportSummary, int], None] | None = None,
) -> ImportSummary:
    """Import every order in the file; returns counts and the row-level error report. Memory stays
    bounded by ``chunk`` orders whatever the file's size (rows are grouped on disk). ``on_progress`` is
    called with the summary so far and the orders done after every chunk (and once with 0 when the file
    has been read)."""
    summary = ImportSummary()
    spill = _Spill(read_rows(stream, filename))
    try:
        summary.rows, summary.orders = spill.rows, spill.orders
        if on_progress is not None:
            on_progress(summary, 0)
        bar = tqdm(total=summary.orders, unit="order", disable=not progress, desc="import")
        done = 0
        for part in _chunks(spill.groups(), chunk):
            outcomes = order_intake_bulk(payloads=[_payload(g) for g in part], actor=actor)
            for group, outcome in zip(part, outcomes, strict=True):
                if outcome.error is not None:
                    summary.failed += 1
                    err = outcome.error.as_dict()
                    details = err.get("details") or err.get("differences") or []
                    if err.get("differences"):
                        details = [_difference(d, group.cells[0].get("currency") or "CNY") for d in details]
                    summary.report += _report_rows(
                        group, group.cells[0].get("platform_order_id", ""), details, err["message"]
                    )
                elif outcome.created:
                    summary.created += 1
                else:
                    summary.existing += 1
            done += len(part)
            bar.update(len(part))
            if on_progress is not None:
                on_progress(summary, done)
        bar.close()
    finally:
        spill.close()
    return summary


def _chunks(groups: Iterator[_Group], size: int) -> Iterator[list[_Group]]:
    part: list[_Group] = []
    for group in groups:
        part.append(group)
        if len(part) >= size:
            yield part
            part = []
    if part:
        yield part


REPORT_HEADER = ["row", "platform_order_id", "column", "message"]


def report_write_csv(*, report: list[ReportRow], stream: IO[str]) -> None:
    """The error report as CSV; every cell through `row_safe` (the file's text comes from the input)."""
    writer = csv.writer(stream)
    writer.writerow(REPORT_HEADER)
    for r in report:
        writer.writerow(row_safe([r.row, r.platform_order_id, r.column, r.message]))


def report_write_xlsx(*, report: list[ReportRow], path: str) -> None:
    """The error report as XLSX (write-only workbook); every cell through `row_safe`."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("errors")
    sheet.append(REPORT_HEADER)
    for r in report:
        sheet.append(row_safe([r.row, r.platform_order_id, r.column, r.message]))
    book.save(path)
