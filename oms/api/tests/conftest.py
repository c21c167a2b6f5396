"""API tests run in the orders test world (a TMALL channel, the tea SKUs, orders taken in for real)."""

from oms.orders.tests.conftest import make_order, skus, tmall  # noqa: F401 - fixtures
