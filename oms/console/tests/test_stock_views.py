from __future__ import annotations

import pytest
from django.test import Client

from oms.channels.models import AllocationRule, ChannelStock
from oms.inventory.models import StockDocument, StockItem
from oms.inventory.tests.factories import make_channel, make_sku, make_warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(make_operator):
    client = Client()
    client.force_login(make_operator("warehouse_coordinator"))
    return client


def test_receipt_from_console_and_sku_page(coordinator):
    wh = make_warehouse("HZ01")
    ch = make_channel("TMALL", warehouses=[wh])
    AllocationRule.objects.create(channel=ch)
    sku = make_sku("TEA-1")
    r = coordinator.post(
        "/stock/documents/new/",
        {"type": "receipt", "warehouse": wh.pk, "lines": "TEA-1, 12, L1, 2027-01-31\n", "note": "到货"},
    )
    assert r.status_code == 302
    assert StockItem.objects.get(sku=sku).on_hand == 12
    page = coordinator.get("/stock/sku/TEA-1/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "L1" in body and "可用库存" in body and "TMALL" in body
    assert ChannelStock.objects.get(sku=sku, channel=ch).quota == 12
    assert coordinator.get("/stock/?q=TEA").status_code == 200


def test_bad_lines_show_errors_and_change_nothing(coordinator):
    wh = make_warehouse()
    r = coordinator.post(
        "/stock/documents/new/", {"type": "receipt", "warehouse": wh.pk, "lines": "NOPE, x"}, follow=True
    )
    text = r.content.decode()
    assert "lines[0].sku" in text and "lines[0].quantity" in text
    assert not StockDocument.objects.exists()


def test_transfer_actions_and_rule_preview(coordinator):
    a, b = make_warehouse(), make_warehouse()
    ch = make_channel(warehouses=[a])
    sku = make_sku("CUP-1")
    coordinator.post("/stock/documents/new/", {"type": "receipt", "warehouse": a.pk, "lines": "CUP-1, 10"})
    coordinator.post(
        "/stock/documents/new/", {"type": "transfer", "warehouse": a.pk, "dest": b.pk, "lines": "CUP-1, 4"}
    )
    doc = StockDocument.objects.get(doc_type="transfer")
    assert coordinator.get(f"/stock/documents/{doc.pk}/").status_code == 200
    coordinator.post(f"/stock/documents/{doc.pk}/ship/")
    coordinator.post(f"/stock/documents/{doc.pk}/receive/", {})
    doc.refresh_from_db()
    assert doc.status == "received"
    assert StockItem.objects.get(sku=sku, warehouse=b).on_hand == 4
    preview = coordinator.post(
        "/stock/rules/save/",
        {"preview": "1", "channel": ch.pk, "scope": "all", "method": "ratio", "ratio_bp": "5000", "priority": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert preview.status_code == 200 and "CUP-1" in preview.content.decode()
    assert not AllocationRule.objects.exists()
    coordinator.post("/stock/rules/save/", {"channel": ch.pk, "scope": "all", "method": "ratio", "ratio_bp": "5000"})
    assert ChannelStock.objects.get(sku=sku, channel=ch).quota == 3


def test_console_permissions(make_operator):
    client = Client()
    client.force_login(make_operator("customer_service"))
    assert client.get("/stock/").status_code == 200
    assert client.post("/stock/documents/new/", {"type": "receipt", "lines": ""}).status_code == 302
    assert not StockDocument.objects.exists()
    assert client.get("/stock/rules/").status_code == 403
