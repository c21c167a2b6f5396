"""The raw baselines' row writer (bench/rows.py) derives the columns it does not fill from the models."""

from __future__ import annotations

import pytest

from bench.rows import insert_select, raw_table


def test_unfilled_columns_get_what_the_orm_would_write() -> None:
    filled = ("id", "order_id", "line_no", "sku_id", "quantity", "unit_price_minor", "gross_minor", "paid_minor")
    spec = raw_table("orders_orderline", filled)
    values = dict(zip(spec.default_columns, spec.defaults, strict=True))
    assert values["is_presale"] is False  # the column B1's baseline once missed
    assert values["platform_sku_code"] == ""
    assert "id" not in spec.default_columns
    row = spec.row((1, 2, 1, 3, 4, 500, 2000, 2000))
    assert len(row) == len(spec.columns)
    assert row[: len(spec.filled)] == (1, 2, 1, 3, 4, 500, 2000, 2000)


def test_a_not_null_column_without_default_stops_the_baseline() -> None:
    with pytest.raises(LookupError, match="order_id"):
        raw_table("orders_orderline", ("id", "line_no", "sku_id", "quantity", "unit_price_minor"))


def test_an_unknown_column_stops_the_baseline() -> None:
    with pytest.raises(LookupError, match="no_such_column"):
        raw_table("orders_orderline", ("order_id", "no_such_column"))
    with pytest.raises(ValueError, match="2 values"):
        raw_table("catalog_sku", ("code", "name", "created_at")).row(("A", "B"))


def test_insert_select_puts_defaults_between_the_select_and_the_rest() -> None:
    sql, params = insert_select(
        "catalog_sku", ("code", "name", "created_at"), "%s || g, 'x', now()", "FROM t WHERE a = %s", ("C", 7)
    )
    assert sql.startswith("INSERT INTO catalog_sku (code, name, created_at, ")
    assert params[0] == "C" and params[-1] == 7
    assert len(params) == sql.count("%s")
