"""Run every benchmark on a fresh PostgreSQL database, one after the other: `make bench`.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_bench uv run python -m bench.run_all [NAME ...]

The database named in BENCH_DATABASE_URL is dropped and created again first, so runs do not pile up
data. Each benchmark prints its table and saves bench/results/<name>-latest.json.
"""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlparse

import psycopg

BENCHES = ("intake", "stock", "fulfilment", "split-merge")


def recreate(url: str) -> None:
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main(argv: list[str]) -> int:
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/oms_bench")
    chosen = argv or list(BENCHES)
    unknown = sorted(set(chosen) - set(BENCHES))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    recreate(url)
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "oms.cli", "setup", "-v", "0"], env=env, check=True)
    for name in chosen:
        print(f"\n== {name}", flush=True)
        subprocess.run([sys.executable, "-m", "oms.cli", "bench", name], env=env, check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
