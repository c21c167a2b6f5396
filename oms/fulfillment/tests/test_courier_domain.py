"""The pure courier chooser and the cost table; the rule parameter format."""

from __future__ import annotations

import pytest

from oms.core.errors import ValidationFailed
from oms.fulfillment.domain.courier import (
    CourierDirective,
    CourierOption,
    CourierRequest,
    Rate,
    choose_courier,
    rate_for,
    shipping_cost,
)
from oms.fulfillment.domain.rule_params import rule_params_errors, rule_params_validate, warehouse_directive

SF = CourierOption(1, "SF", supports_cod=True, max_weight_g=50_000, remark_keywords=("顺丰",))
ZTO = CourierOption(2, "ZTO", max_weight_g=30_000)
EMS = CourierOption(3, "EMS", supports_cod=True, coverage_provinces=("540000", "650000"))
COURIERS = [SF, ZTO, EMS]
RATES = [Rate(1, None, "", 1000, 1200, 400), Rate(2, None, "", 1000, 600, 200), Rate(2, 9, "650000", 1000, 2000, 900)]


def req(**kw: object) -> CourierRequest:
    base: dict[str, object] = {
        "order_id": 1,
        "warehouse_id": 5,
        "warehouse_code": "HZ01",
        "province": "330000",
        "weight_g": 1400,
        "cod": False,
        "remarks": "",
    }
    base.update(kw)
    return CourierRequest(**base)  # type: ignore[arg-type]


def test_cost_table_most_specific_rate_and_started_kilograms() -> None:
    assert shipping_cost(RATES[0], 1000) == 1200
    assert shipping_cost(RATES[0], 1001) == 1600
    assert shipping_cost(RATES[0], 3000) == 2000
    assert rate_for(RATES, 2, 9, "650000") == RATES[2]
    assert rate_for(RATES, 2, 9, "330000") == RATES[1]
    assert rate_for(RATES, 3, 5, "330000") is None


def test_cheapest_capable_courier_by_default() -> None:
    choice = choose_courier(req(), COURIERS, RATES)
    assert choice.courier_id == ZTO.id and choice.cost_minor == 800 and choice.rule_id is None


def test_cod_and_weight_and_coverage_filter_couriers() -> None:
    assert choose_courier(req(cod=True), COURIERS, RATES).courier_id == SF.id
    assert choose_courier(req(weight_g=40_000), COURIERS, RATES).courier_id == SF.id
    assert choose_courier(req(weight_g=60_000), COURIERS, RATES).courier_id is None


def test_remark_keyword_beats_cost_and_rules() -> None:
    rule = CourierDirective(4, "CHEAP", couriers=("ZTO",))
    choice = choose_courier(req(remarks="麻烦发顺丰", directives=(rule,)), COURIERS, RATES)
    assert choice.courier_id == SF.id and "顺丰" in choice.reason


def test_rules_by_priority_with_exclusions_and_warehouse_scope() -> None:
    gz_only = CourierDirective(1, "GZ-SF", couriers=("SF",), warehouses=("GZ01",))
    no_zto = CourierDirective(2, "NO-ZTO", exclude=("ZTO",))
    choice = choose_courier(req(directives=(gz_only, no_zto)), COURIERS, RATES)
    # GZ-SF does not apply from HZ01; ZTO is excluded; EMS does not cover Zhejiang: SF, cheapest left.
    assert choice.courier_id == SF.id and choice.rule_id is None
    choice = choose_courier(req(warehouse_code="GZ01", directives=(gz_only,)), COURIERS, RATES)
    assert (choice.courier_id, choice.rule_code) == (SF.id, "GZ-SF")


def test_designated_courier_is_mandatory() -> None:
    designated = CourierDirective(1, "JD-PLATFORM", couriers=("EMS",), designated=True)
    choice = choose_courier(req(province="650000", directives=(designated,)), COURIERS, RATES)
    assert choice.courier_id == EMS.id and choice.rule_code == "JD-PLATFORM"
    # EMS does not reach Zhejiang: hold the order rather than send it with someone else.
    choice = choose_courier(req(directives=(designated,)), COURIERS, RATES)
    assert choice.courier_id is None and choice.rule_code == "JD-PLATFORM"


def test_rule_params_format_is_checked() -> None:
    assert rule_params_errors("warehouse", {"warehouse": "HZ01"}) == []
    assert rule_params_errors("courier", {"couriers": ["SF", "ZTO"], "warehouses": ["HZ01"]}) == []
    assert rule_params_errors("review", {"anything": 1}) == []
    assert [e.field for e in rule_params_errors("warehouse", {"warehous": "HZ01"})] == ["params.warehous"]
    assert [e.field for e in rule_params_errors("warehouse", {"warehouses": "HZ01"})] == ["params.warehouses"]
    assert [e.field for e in rule_params_errors("warehouse", {"only": True})] == ["params.warehouses"]
    assert [e.field for e in rule_params_errors("warehouse", {"tie_breaks": ["fast"]})] == ["params.tie_breaks"]
    assert [e.field for e in rule_params_errors("courier", {"designated": "yes", "courier": "SF"})] == [
        "params.designated"
    ]
    assert [e.field for e in rule_params_errors("courier", {})] == ["params"]
    with pytest.raises(ValidationFailed):
        rule_params_validate("courier", ["SF"])
    directive = warehouse_directive(3, "R", {"warehouse": "HZ01", "warehouses": ["GZ01", "HZ01"], "only": True})
    assert directive.prefer == ("HZ01", "GZ01") and directive.only
