"""Report tests run in the fulfilment test world (warehouses, stock, a Tmall shop, real intake)."""

from oms.fulfillment.tests.conftest import _no_review_buffer, world  # noqa: F401 - fixtures
