"""An order taken in with type "return" is never an outbound order: it never reserves stock or is dispatched. With
no original order to return to it is refused naming the field (after-sales takes the others in as returns on their
originals: oms/aftersales/tests/test_return_intake.py); the parser alone refuses the type."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from oms.core.errors import ValidationFailed
from oms.inventory.models import Reservation
from oms.orders.domain.intake import intake_parse
from oms.orders.models import Order, OrderLine
from oms.orders.services.file_import import orders_import_file
from oms.orders.services.intake import order_intake, order_intake_bulk
from oms.orders.tests.test_file_import import ROWS, csv_bytes
from oms.testing.orders import order_payload


def test_the_parser_refuses_a_return_naming_the_type_field() -> None:
    command, errors = intake_parse(order_payload(type="return"))
    assert command is None
    assert [(e.field, e.code) for e in errors] == [("type", "return_not_outbound")]
    assert "after-sales" in errors[0].message


def test_sale_and_reissue_still_parse() -> None:
    for kind in ("sale", "reissue"):
        command, errors = intake_parse(order_payload(type=kind))
        assert errors == [] and command is not None and command.order_type == kind


def test_the_service_writes_nothing_and_reserves_nothing(tmall: Any, skus: Any, admin_operator: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        order_intake(payload=order_payload(type="return"), actor=admin_operator)
    assert [(d.field, d.code) for d in caught.value.details] == [("platform_order_id", "original_not_found")]
    assert Order.objects.count() == 0 and OrderLine.objects.count() == 0
    assert Reservation.objects.count() == 0


def test_a_return_in_a_batch_never_blocks_the_sales(tmall: Any, skus: Any, admin_operator: Any) -> None:
    outcomes = order_intake_bulk(
        payloads=[order_payload(), order_payload(type="return"), order_payload()], actor=admin_operator
    )
    assert [o.created for o in outcomes] == [True, False, True]
    assert outcomes[1].error is not None and outcomes[1].error.details[0].field == "platform_order_id"
    assert set(Order.objects.values_list("order_type", flat=True)) == {"sale"}


def test_the_api_answers_422_naming_the_field(make_operator: Any, api_client: Any, tmall: Any, skus: Any) -> None:
    client = api_client(make_operator("customer_service", username="kefu"))
    response = client.post(
        "/api/v1/orders", data=json.dumps(order_payload(type="return")), content_type="application/json"
    )
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert [(d["field"], d["code"]) for d in details] == [("platform_order_id", "original_not_found")]
    assert Order.objects.count() == 0


def test_a_file_row_of_type_return_is_reported_on_its_column(tmall: Any, skus: Any, admin_operator: Any) -> None:
    rows = [["return", *ROWS[0]], ["", *ROWS[1]]]
    header = csv_bytes([]).decode("utf-8-sig").splitlines()[0]
    text = "订单类型," + header + "\n" + "\n".join(",".join(r) for r in rows) + "\n"
    summary = orders_import_file(stream=io.BytesIO(text.encode()), filename="r.csv", actor=admin_operator)
    assert summary.failed == 1 and summary.created == 0
    # No order TB1001 to return goods to: reported on the platform order id's column.
    assert [(r.column, r.platform_order_id) for r in summary.report] == [("platform_order_id", "TB1001")]
    assert Order.objects.count() == 0
