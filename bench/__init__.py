"""Benchmarks (not timed tests): run with `uv run oms bench intake` against PostgreSQL."""
