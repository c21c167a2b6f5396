"""Test fixtures shared across apps, loaded as pytest plugins by the root conftest (`pytest_plugins`):

- `oms.testing.orders`: shops, a small catalog, order payloads (`order_payload`) and `make_order`;
- `oms.testing.review`: a shop and paid orders for the review tests;
- `oms.testing.fulfillment`: the fulfilment `World` (warehouses, stock, couriers, WMS links), WMS callbacks;
- `oms.testing.outbox`: a real webhook receiver in a thread and endpoints pointing at it.

Tests import helpers from here (never from another app's ``tests/``); fixtures need no import.
"""
