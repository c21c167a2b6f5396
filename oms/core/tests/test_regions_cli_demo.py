from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Count

from oms.catalog.models import Sku
from oms.channels.models import Channel
from oms.cli import COMMANDS, main, resolve
from oms.core.domain.regions import distance_km, province_lookup, provinces
from oms.inventory.models import Warehouse


def test_all_34_provinces_found_by_full_short_and_code() -> None:
    assert len(provinces()) == 34
    for p in provinces():
        assert province_lookup(p.name) == province_lookup(p.short_name) == province_lookup(p.adcode) == p
    assert province_lookup("  浙江 ") is not None
    assert province_lookup("火星") is None and province_lookup("") is None


def test_distance_is_plausible() -> None:
    bj, sh, gd = (province_lookup(x) for x in ("北京", "上海", "广东"))
    assert bj and sh and gd
    assert 1000 < distance_km(bj, sh) < 1150
    assert distance_km(sh, sh) == 0
    assert distance_km(bj, gd) > distance_km(bj, sh)


def test_cli_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for words, (_cmd, help_text, _lead) in COMMANDS.items():
        assert " ".join(words) in out and help_text in out


def test_cli_resolves_and_rejects() -> None:
    assert resolve(["token", "create", "a", "b"]) == ["api_token", "create", "a", "b"]
    assert resolve(["manage", "check"]) == ["check"]
    assert resolve(["nonsense"]) is None
    assert main(["nonsense"]) == 2


def test_demo_data_loads_once(db: Any) -> None:
    from django.core.management import call_command

    call_command("load_demo_data")
    counts = (Channel.objects.count(), Warehouse.objects.count(), Sku.objects.count())
    assert counts[0] >= 4 and counts[1] >= 4 and counts[2] >= 200
    assert Warehouse.objects.values("subsidiary").distinct().count() == 2
    assert Sku.objects.filter(is_bundle=True, components__isnull=False).distinct().count() >= 10
    assert Sku.objects.filter(is_gift=True).exists()
    assert {"tmall", "jd", "vip", "store"} <= set(Channel.objects.values_list("platform", flat=True))
    from oms.fulfillment.models import Parcel
    from oms.orders.models import Order

    # Some orders left in two parcels, some are still partially shipped (部分发货).
    assert Parcel.objects.values("shipment").annotate(n=Count("id")).filter(n=2).exists()
    assert Order.objects.filter(status="partially_shipped").exists()
    call_command("load_demo_data")
    assert (Channel.objects.count(), Warehouse.objects.count(), Sku.objects.count()) == counts
