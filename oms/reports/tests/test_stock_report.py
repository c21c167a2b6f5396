"""The stock and reservations report against figures computed by hand. The stock rows are set directly to
known counters (the report only reads them), orders come through the real intake; every filter narrows the
figures as worked out below; the console page links to the stock and stockout lists; the API answers with
the same figures and refuses bad filters naming the field."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from oms.catalog.models import Category
from oms.channels.models import Channel, ChannelStock, ChannelWarehouse
from oms.core.errors import ValidationFailed
from oms.fulfillment.models import Stockout
from oms.inventory.models import StockItem
from oms.reports.models import SkuSalesDay
from oms.reports.stock import stock_filters_parse, stock_report
from oms.testing.fulfillment import World


@pytest.fixture
def stocked(world: World) -> World:
    """Channels TMALL (fed by HZ, GZ, CD) and JD (fed by GZ only); category TEA holds TEA-001 only.

    Shelves (on hand / reserved / defective / in transit): HZ TEA 10/3/1/0, HZ NUT 4/4/0/0, GZ TEA 5/0/0/4,
    GZ RICE 0/0/0/2, CD CUP 7/0/0/0.
    Channel stock (quota / sales reserved / return reserved): TMALL TEA 15/3/1, TMALL NUT 4/4/0 (sold out),
    TMALL CUP 7/0/0, JD TEA 5/2/0.
    Open stockouts: RICE×2 at GZ 2 hours old, RICE×1 at GZ 5 days old, CUP×3 at HZ 10 days old; a resolved
    TEA×9 one that does not count.
    Sales: TEA yesterday (TMALL), CUP 10 days ago (JD only), NUT 40 days ago and a cancelled NUT sale yesterday.
    """
    w = world
    tea_cat = Category.objects.create(code="TEA", name="茶叶")
    sku = w.skus
    sku["TEA-001"].category = tea_cat
    sku["TEA-001"].save(update_fields=["category"])
    jd = Channel.objects.create(code="JD", name="京东自营", platform="jd", classification="online")
    ChannelWarehouse.objects.create(channel=jd, warehouse=w.gz)
    now = timezone.now()
    for code, qty, wh, age, state in (
        ("RICE-10", 2, w.gz, timedelta(hours=2), "open"),
        ("RICE-10", 1, w.gz, timedelta(days=5), "open"),
        ("CUP-003", 3, w.hz, timedelta(days=10), "open"),
        ("TEA-001", 9, w.hz, timedelta(days=1), "resolved"),
    ):
        order = w.order([(code, qty)])
        Stockout.objects.create(
            order=order,
            line=order.lines.get(),
            sku=sku[code],
            warehouse=wh,
            quantity=qty,
            state=state,
            created_at=now - age,
        )
    # The intake of those orders reserved what it could: the counters are now set to the figures above
    # (the report only reads them).
    ChannelStock.objects.all().delete()
    StockItem.objects.all().delete()
    for wh, code, on_hand, reserved, defective, in_transit in (
        (w.hz, "TEA-001", 10, 3, 1, 0),
        (w.hz, "NUT-002", 4, 4, 0, 0),
        (w.gz, "TEA-001", 5, 0, 0, 4),
        (w.gz, "RICE-10", 0, 0, 0, 2),
        (w.cd, "CUP-003", 7, 0, 0, 0),
    ):
        StockItem.objects.create(
            warehouse=wh, sku=sku[code], on_hand=on_hand, reserved=reserved, defective=defective, in_transit=in_transit
        )
    for channel, code, quota, sales, ret in (
        (w.channel, "TEA-001", 15, 3, 1),
        (w.channel, "NUT-002", 4, 4, 0),
        (w.channel, "CUP-003", 7, 0, 0),
        (jd, "TEA-001", 5, 2, 0),
    ):
        ChannelStock.objects.create(
            channel=channel, sku=sku[code], quota=quota, sales_reserved=sales, return_reserved=ret
        )
    today = timezone.localdate()
    for channel, code, days_ago, units, cancelled in (
        (w.channel, "TEA-001", 1, 3, False),
        (jd, "CUP-003", 10, 1, False),
        (w.channel, "NUT-002", 40, 1, False),
        (w.channel, "NUT-002", 1, 2, True),
    ):
        SkuSalesDay.objects.create(
            day=today - timedelta(days=days_ago),
            channel=channel,
            sku=sku[code],
            currency="CNY",
            cancelled=cancelled,
            orders=1,
            units=units,
            gross_minor=units * 1000,
            line_discount_minor=0,
            order_discount_minor=0,
            paid_minor=units * 1000,
        )
    return w


def _report(**params: str) -> Any:
    return stock_report(filters=stock_filters_parse(params))


def test_figures_match_the_hand_computed_ones(stocked: World, django_assert_max_num_queries: Any) -> None:
    with django_assert_max_num_queries(7):
        r = _report()
    channels = {
        c.code: (c.skus, c.quota, c.sales_reserved, c.return_reserved, c.available, c.sold_out) for c in r.channels
    }
    assert channels == {"TMALL": (3, 26, 7, 1, 18, 1), "JD": (1, 5, 2, 0, 3, 0)}
    warehouses = {w.code: (w.skus, w.on_hand, w.reserved, w.sellable, w.defective, w.in_transit) for w in r.warehouses}
    assert warehouses == {"HZ01": (2, 14, 7, 7, 1, 0), "GZ01": (2, 5, 0, 5, 0, 6), "CD01": (1, 7, 0, 7, 0, 0)}
    t = r.totals
    assert (t["quota"], t["sales_reserved"], t["return_reserved"], t["available"]) == (31, 9, 1, 21)
    assert (t["on_hand"], t["in_transit"], t["stockouts"], t["stockout_units"], t["stockout_skus"]) == (26, 6, 3, 6, 2)
    assert [(s.code, s.units, s.orders, s.age_days) for s in r.stockouts] == [
        ("CUP-003", 3, 1, 10),
        ("RICE-10", 3, 2, 5),
    ]
    assert [(b.key, b.stockouts, b.units) for b in r.stockout_ages] == [
        ("lt1d", 1, 2),
        ("1to3d", 0, 0),
        ("3to7d", 1, 1),
        ("ge7d", 1, 3),
    ]
    today = timezone.localdate()
    assert [(s.code, s.units, s.last_sold) for s in r.idle] == [("NUT-002", 4, today - timedelta(days=40))]
    assert r.idle_skus == 1
    assert [(s.code, s.units) for s in r.in_transit] == [("TEA-001", 4), ("RICE-10", 2)]


def test_filters_narrow_the_figures(stocked: World) -> None:
    today = timezone.localdate()
    # JD is fed by GZ only: its warehouses are GZ; TMALL's orders hold every stockout.
    jd = _report(channel="JD")
    assert [(c.code, c.available) for c in jd.channels] == [("JD", 3)]
    assert [(w.code, w.on_hand, w.in_transit) for w in jd.warehouses] == [("GZ01", 5, 6)]
    assert jd.stockouts == [] and jd.totals["stockouts"] == 0
    # CD feeds TMALL only; its stockouts are none (they are at GZ and HZ).
    cd = _report(warehouse="CD01")
    assert [c.code for c in cd.channels] == ["TMALL"] and [w.code for w in cd.warehouses] == ["CD01"]
    assert cd.totals["stockouts"] == 0
    gz = _report(warehouse="GZ01")
    assert [(s.code, s.units, s.orders) for s in gz.stockouts] == [("RICE-10", 3, 2)]
    tea = _report(category="TEA")
    assert {c.code: c.quota for c in tea.channels} == {"TMALL": 15, "JD": 5}
    assert {w.code: w.on_hand for w in tea.warehouses} == {"HZ01": 10, "GZ01": 5}
    assert tea.stockouts == [] and tea.idle == []
    # Non-moving: CUP last sold 10 days ago (on JD). 10 days without a sale: idle; 11: it sold in the window.
    assert [(s.code, s.units) for s in _report(idle_days="10").idle] == [("CUP-003", 7), ("NUT-002", 4)]
    assert [s.code for s in _report(idle_days="11").idle] == ["NUT-002"]
    # For TMALL alone CUP never sold; the cancelled NUT sale of yesterday never counts.
    tmall = _report(channel="TMALL")
    assert [(s.code, s.last_sold) for s in tmall.idle] == [("CUP-003", None), ("NUT-002", today - timedelta(days=40))]


def test_bad_filters_are_refused_naming_the_field(stocked: World, make_operator: Any, api_client: Any) -> None:
    for params, field in (
        ({"warehouse": "NOPE"}, "warehouse"),
        ({"channel": "NOPE"}, "channel"),
        ({"category": "NOPE"}, "category"),
        ({"idle_days": "0"}, "idle_days"),
        ({"idle_days": "400"}, "idle_days"),
        ({"colour": "red"}, "query"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            stock_filters_parse(params)
        assert field in [d.field for d in caught.value.details], params
    client = api_client(make_operator("warehouse_coordinator"))
    bad = client.get("/api/v1/reports/stock", {"warehouse": "NOPE"})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "warehouse"
    browser = Client()
    browser.force_login(make_operator("warehouse_coordinator"))
    page = browser.get("/reports/stock/", {"channel": "NOPE"})
    assert page.status_code == 400 and 'data-testid="report-errors"' in page.content.decode()


def test_console_page_shows_the_figures_and_links_to_the_lists(stocked: World, make_operator: Any) -> None:
    client = Client()
    client.force_login(make_operator("warehouse_coordinator"))
    page = client.get("/reports/stock/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-chart="stock-channel-chart-data"' in html and 'data-chart="stock-age-chart-data"' in html
    assert 'href="/stockouts/?sku=RICE-10"' in html and 'href="/stock/sku/NUT-002/"' in html
    assert 'href="/stock/?warehouse=GZ01"' in html
    listed = client.get("/stockouts/?sku=RICE-10").content.decode()
    assert "RICE-10" in listed
    assert client.get("/reports/stock/", HTTP_ACCEPT_LANGUAGE="zh-hans").status_code == 200
    finance = Client()
    finance.force_login(make_operator("finance"))
    assert finance.get("/reports/stock/").status_code == 403


def test_the_api_answers_with_the_same_figures(stocked: World, make_operator: Any, api_client: Any) -> None:
    body = api_client(make_operator("warehouse_coordinator")).get("/api/v1/reports/stock", {"idle_days": "10"}).json()
    assert body["idle_days"] == 10 and body["totals"]["available"] == 21
    assert {c["code"]: c["available"] for c in body["channels"]} == {"TMALL": 18, "JD": 3}
    assert [(s["code"], s["units"]) for s in body["non_moving"]] == [("CUP-003", 7), ("NUT-002", 4)]
    assert [s["code"] for s in body["stockouts"]] == ["CUP-003", "RICE-10"]
    assert body["stockout_ages"][3] == {"from_days": 7, "to_days": None, "stockouts": 1, "units": 3}
    assert api_client(make_operator("finance")).get("/api/v1/reports/stock").status_code == 403
