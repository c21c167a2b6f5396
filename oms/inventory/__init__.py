"""Warehouses (with their subsidiary, 分公司) and physical stock."""
