"""Split/merge tests run in the fulfilment test world (warehouses, stock, couriers, WMS links)."""

from oms.fulfillment.tests.conftest import _no_review_buffer, wms_post, world  # noqa: F401 - fixtures
