"""Run every benchmark on a fresh PostgreSQL database, one after the other: `make bench`.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_bench uv run python -m bench.run_all [NAME ...]
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_ci_bench uv run python -m bench.run_all --smoke

The database named in BENCH_DATABASE_URL is dropped and created again first, so runs do not pile up
data. Each benchmark prints its table and saves bench/results/<name>-latest.json.

``--smoke`` runs every benchmark in a small size (a few seconds each) so CI notices one that no longer runs;
its figures go to a scratch folder (OMS_BENCH_RESULTS, default var/bench-smoke), never to bench/results.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg

BENCHES = ("intake", "single", "stock", "fulfilment", "split-merge", "lists")
# The arguments of each benchmark's smoke run: every code path of the full run, in a few seconds.
SMOKE_ARGS: dict[str, tuple[str, ...]] = {
    "intake": ("--orders", "300", "--batch", "100"),
    "single": ("--orders", "60"),
    "stock": ("--clients", "4", "--attempts", "10", "--rounds", "1", "--skus", "2000"),
    "fulfilment": ("--orders", "400", "--batch", "200", "--pgbench-seconds", "2", "--pgbench-scale", "1"),
    "split-merge": ("--repeats", "1", "--grouping-orders", "2000"),
    "lists": ("--orders", "5000", "--seeds", "500", "--requests", "3"),
}


def recreate(url: str) -> None:
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main(argv: list[str]) -> int:
    smoke = "--smoke" in argv
    chosen = [a for a in argv if a != "--smoke"] or list(BENCHES)
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/oms_bench")
    unknown = sorted(set(chosen) - set(BENCHES))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    recreate(url)
    env = {**os.environ, "DATABASE_URL": url}
    if smoke:
        env.setdefault("OMS_BENCH_RESULTS", str(Path(__file__).resolve().parent.parent / "var" / "bench-smoke"))
    subprocess.run([sys.executable, "-m", "oms.cli", "setup", "-v", "0"], env=env, check=True)
    for name in chosen:
        print(f"\n== {name}{' (smoke)' if smoke else ''}", flush=True)
        started = time.perf_counter()
        extra = SMOKE_ARGS[name] if smoke else ()
        subprocess.run([sys.executable, "-m", "oms.cli", "bench", name, *extra], env=env, check=True)
        print(f"== {name}: {time.perf_counter() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
