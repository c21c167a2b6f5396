"""Test data made through the real services (Zulip style): master data rows plus stock receipts."""

from __future__ import annotations

import itertools

from oms.catalog.models import BundleComponent, Category, Sku
from oms.channels.models import Channel, ChannelWarehouse, Classification, Platform
from oms.inventory.models import MoveKind, Subsidiary, Warehouse
from oms.inventory.services.ledger import MoveSpec, ledger_post

_seq = itertools.count(1)


def make_warehouse(code: str | None = None) -> Warehouse:
    sub, _ = Subsidiary.objects.get_or_create(code="SUB", defaults={"name": "分公司"})
    n = next(_seq)
    return Warehouse.objects.create(code=code or f"WH{n}", name=f"仓{n}", subsidiary=sub, province="330000")


def make_channel(code: str | None = None, warehouses: list[Warehouse] | None = None) -> Channel:
    n = next(_seq)
    channel = Channel.objects.create(
        code=code or f"CH{n}", name=f"店{n}", platform=Platform.TMALL, classification=Classification.ONLINE
    )
    for wh in warehouses or []:
        ChannelWarehouse.objects.create(channel=channel, warehouse=wh)
    return channel


def make_sku(code: str | None = None, category: Category | None = None) -> Sku:
    n = next(_seq)
    return Sku.objects.create(code=code or f"SKU{n}", name=f"商品{n}", category=category)


def make_bundle(parts: list[tuple[Sku, int]], code: str | None = None) -> Sku:
    n = next(_seq)
    bundle = Sku.objects.create(code=code or f"BUNDLE{n}", name=f"组合{n}", is_bundle=True)
    for sku, qty in parts:
        BundleComponent.objects.create(bundle=bundle, component=sku, quantity=qty)
    return bundle


def put_stock(warehouse: Warehouse, sku: Sku, quantity: int) -> None:
    """Stock on the shelf without a document (a ledger move all the same), for tests of reservations."""
    ledger_post(
        moves=[
            MoveSpec(
                warehouse_id=warehouse.pk,
                sku_id=sku.pk,
                kind=MoveKind.RECEIPT,
                ref_type="test",
                ref_id=0,
                on_hand=quantity,
            )
        ]
    )
