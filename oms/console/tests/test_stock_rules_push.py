"""Console: editing and deleting allocation rules (preview first, operation log), and platform stock pushes."""

from __future__ import annotations

import pytest
from django.test import Client

from oms.audit.models import OperationLog
from oms.channels.models import AllocationRule, ChannelStock, StockPushCursor
from oms.channels.services.allocation import channel_stock_reallocate
from oms.inventory.tests.factories import make_channel, make_sku, make_warehouse, put_stock
from oms.outbox.models import OutboxMessage, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(make_operator):
    client = Client()
    client.force_login(make_operator("warehouse_coordinator"))
    return client


@pytest.fixture
def stocked():
    wh = make_warehouse()
    ch = make_channel("TMALL1", warehouses=[wh])
    rule = AllocationRule.objects.create(channel=ch, ratio_bp=10_000)
    sku = make_sku("TEA-1")
    put_stock(wh, sku, 10)
    channel_stock_reallocate(sku_ids=[sku.pk])
    return ch, rule, sku


def _form(ch, **changes):
    data = {"channel": ch.pk, "scope": "all", "method": "ratio", "ratio_bp": "10000", "priority": "100"}
    data.update(changes)
    return data


def test_edit_previews_then_saves_and_logs(coordinator, stocked):
    ch, rule, sku = stocked
    page = coordinator.get(f"/stock/rules/{rule.pk}/edit/")
    assert page.status_code == 200 and 'value="10000"' in page.content.decode()
    assert f"/stock/rules/{rule.pk}/edit/" in coordinator.get("/stock/rules/").content.decode()

    preview = coordinator.post(
        f"/stock/rules/{rule.pk}/edit/", {**_form(ch, ratio_bp="3000"), "preview": "1"}, HTTP_HX_REQUEST="true"
    )
    body = preview.content.decode()
    assert preview.status_code == 200 and "TEA-1" in body and "<strong>3</strong>" in body
    rule.refresh_from_db()
    assert rule.ratio_bp == 10_000 and ChannelStock.objects.get(channel=ch, sku=sku).quota == 10

    saved = coordinator.post(f"/stock/rules/{rule.pk}/edit/", _form(ch, ratio_bp="3000"))
    assert saved.status_code == 302
    rule.refresh_from_db()
    assert rule.ratio_bp == 3000 and AllocationRule.objects.count() == 1
    assert ChannelStock.objects.get(channel=ch, sku=sku).quota == 3
    log = OperationLog.objects.filter(action="channels.allocation_rule.save").latest("id")
    assert log.before["ratio_bp"] == 10_000 and log.after["ratio_bp"] == 3000


def test_bad_edit_names_the_field_and_changes_nothing(coordinator, stocked):
    ch, rule, _sku = stocked
    r = coordinator.post(f"/stock/rules/{rule.pk}/edit/", _form(ch, min_quantity="5", max_quantity="2"), follow=True)
    assert "max_quantity" in r.content.decode()
    rule.refresh_from_db()
    assert rule.max_quantity is None and not OperationLog.objects.filter(action__startswith="channels.allocation")


def test_delete_asks_first_shows_the_quotas_without_the_rule_then_deletes(coordinator, stocked):
    ch, rule, sku = stocked
    confirm = coordinator.get(f"/stock/rules/{rule.pk}/delete/")
    body = confirm.content.decode()
    assert confirm.status_code == 200 and "TEA-1" in body and 'data-testid="confirm-delete"' in body
    assert "配额会立即重新分配" in body  # the console speaks Chinese by default
    assert AllocationRule.objects.filter(pk=rule.pk).exists()

    r = coordinator.post(f"/stock/rules/{rule.pk}/delete/", {"reason": "季末"})
    assert r.status_code == 302 and not AllocationRule.objects.exists()
    assert ChannelStock.objects.get(channel=ch, sku=sku).quota == 0
    log = OperationLog.objects.get(action="channels.allocation_rule.delete")
    assert log.before["ratio_bp"] == 10_000 and log.reason == "季末"
    assert coordinator.post(f"/stock/rules/{rule.pk}/delete/").status_code == 302  # gone: a message, no error


def test_edit_and_delete_need_their_own_permissions(make_operator, stocked):
    _ch, rule, _sku = stocked
    client = Client()
    client.force_login(make_operator("customer_service"))
    assert client.get(f"/stock/rules/{rule.pk}/edit/").status_code == 403
    assert client.post(f"/stock/rules/{rule.pk}/delete/").status_code == 403
    assert client.post("/stock/push/", {"channel": "TMALL1"}).status_code == 403
    assert AllocationRule.objects.filter(pk=rule.pk).exists() and not StockPushCursor.objects.exists()


def test_stock_page_shows_pushes_and_push_now_writes_the_outbox(coordinator, stocked):
    page = coordinator.get("/stock/").content.decode()
    assert 'data-testid="stock-pushes"' in page and "TMALL1" in page
    assert "平台库存回传" in page
    assert "/stock/push/" not in page  # no endpoint receives the channel's pushes yet: nothing to push to
    WebhookEndpoint.objects.create(name="tmall", url="http://127.0.0.1:9/", secret="x" * 16, topics=["platform.*"])
    page = coordinator.get("/stock/").content.decode()
    section = page.split('data-testid="stock-pushes"')[1].split("</section>")[0]
    assert '<td class="num">1</td>' in section  # one SKU pending
    r = coordinator.post("/stock/push/", {"channel": "TMALL1"}, follow=True)
    assert "TMALL1" in r.content.decode()
    assert OutboxMessage.objects.get().payload["items"] == [{"sku": "TEA-1", "quantity": 10, "available": 10}]
    assert StockPushCursor.objects.get().last_skus == 1
    assert OperationLog.objects.filter(action="channels.stock_push").exists()
    section = coordinator.get("/stock/").content.decode().split('data-testid="stock-pushes"')[1]
    assert '<td class="num">0</td>' in section.split("</section>")[0]
