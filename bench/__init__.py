"""Benchmarks (not timed tests): run with `uv run oms bench intake` against PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path


def results_dir() -> Path:
    """Where a benchmark saves its figures: bench/results, or OMS_BENCH_RESULTS (the smoke runs of CI and
    `make bench-smoke` write there, so their tiny figures never replace the recorded ones)."""
    return Path(os.environ.get("OMS_BENCH_RESULTS") or Path(__file__).resolve().parent / "results")
