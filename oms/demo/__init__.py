"""Realistic zh_CN demo data, made through the same models and services operators use."""
