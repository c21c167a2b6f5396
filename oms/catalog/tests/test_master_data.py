"""Master-data validation: every refusal names the field and says what is wrong."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from oms.catalog.models import BundleComponent, Sku
from oms.channels.models import Channel
from oms.fulfillment.models import Courier
from oms.inventory.models import Subsidiary, Warehouse


def _errors(obj: Any) -> dict[str, list[str]]:
    with translation.override("en"):
        with pytest.raises(ValidationError) as err:
            obj.full_clean()
        return {field: [str(m) for m in messages] for field, messages in err.value.message_dict.items()}


def test_sku_validation_names_each_bad_field(db: Any) -> None:
    errors = _errors(Sku(code="bad code!", name="", barcode="12ab", tax_rate_bp=20_000))
    assert set(errors) == {"code", "name", "barcode", "tax_rate_bp"}
    assert "digits" in errors["barcode"][0]


def test_bundle_rules(db: Any) -> None:
    plain = Sku.objects.create(code="A", name="A")
    bundle = Sku.objects.create(code="B", name="B", is_bundle=True)
    other_bundle = Sku.objects.create(code="C", name="C", is_bundle=True)
    assert "component" in _errors(BundleComponent(bundle=bundle, component=bundle, quantity=1))
    assert "component" in _errors(BundleComponent(bundle=bundle, component=other_bundle, quantity=1))
    assert "bundle" in _errors(BundleComponent(bundle=plain, component=plain, quantity=1))
    assert "quantity" in _errors(BundleComponent(bundle=bundle, component=plain, quantity=0))
    BundleComponent(bundle=bundle, component=plain, quantity=2).full_clean()


def test_channel_classification_must_match_platform(db: Any) -> None:
    assert "classification" in _errors(Channel(code="TM", name="天猫", platform="tmall", classification="offline"))
    assert "classification" in _errors(Channel(code="ST", name="门店", platform="store", classification="online"))
    assert "currency" in _errors(Channel(code="X", name="X", platform="manual", currency="XXX"))
    Channel(code="DIST", name="经销商", platform="distributor", classification="offline").full_clean()


def test_warehouse_province_and_coverage_are_checked_and_normalised(db: Any) -> None:
    sub = Subsidiary.objects.create(code="EAST", name="华东分公司")
    errors = _errors(
        Warehouse(code="W1", name="W1", subsidiary=sub, province="火星", coverage_provinces=["浙江", "月球"])
    )
    assert "province" in errors and "月球" in errors["coverage_provinces"][0]
    wh = Warehouse(code="W1", name="杭州仓", subsidiary=sub, province="浙江省", coverage_provinces=["上海", "江苏省"])
    wh.full_clean()
    assert wh.province == "330000" and wh.coverage_provinces == ["310000", "320000"]
    assert wh.covers("上海市") and not wh.covers("广东")
    assert Warehouse(code="W2", name="全国仓", subsidiary=sub, province="广东").covers("新疆")


def test_courier_coverage_is_checked(db: Any) -> None:
    assert "coverage_provinces" in _errors(Courier(code="SF", name="顺丰", coverage_provinces=["Atlantis"]))


def test_admin_shows_validation_message_instead_of_saving(admin_operator: Any, client: Any) -> None:
    client.force_login(admin_operator)
    response = client.post(
        "/admin/channels/channel/add/",
        {"code": "TM", "name": "天猫", "platform": "tmall", "classification": "offline", "currency": "CNY"},
    )
    assert response.status_code == 200
    assert not Channel.objects.exists()
    assert "errorlist" in response.content.decode()
