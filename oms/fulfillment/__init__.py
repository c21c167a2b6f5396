"""Couriers (快递) and, later, warehouse/courier allocation, dispatch and shipment."""
