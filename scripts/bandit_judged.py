"""Bandit with every medium/high finding judged: run bandit over the code (tests excluded), and fail on any
medium- or high-severity finding that no judgement below covers. A judgement names the check, the module (by
file name, so a module that moves keeps its judgement) and why the finding is not a vulnerability there.

    uv run python scripts/bandit_judged.py          # exit 1 and list what is not judged

Add a judgement only with its reason; prefer fixing the code (e.g. building SQL with psycopg.sql).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ["oms", "config", "bench", "scripts"]

# B608 (SQL built from strings): in each module below the interpolated parts are never input. They are table
# and column names from Django's model metadata (`_meta.db_table`, quoted with `connection.ops.quote_name`) or
# module constants, SQL fragments chosen from constants, placeholders ("%s" repeated per value) and names of
# prepared statements defined in the module; every value goes as a bound parameter.
B608_REASON = "identifiers from model metadata/module constants and generated placeholders; all values bound"
JUDGED: dict[tuple[str, str], str] = {
    ("B608", "allocation.py"): B608_REASON + " (channel stock UPDATE ... FROM (VALUES %s) for quota rows)",
    ("B608", "allocation_sql.py"): B608_REASON + " (CTE pieces of the set-based allocation, composed from constants)",
    ("B608", "bulk.py"): B608_REASON + " (unnest()-based bulk INSERT/UPDATE of a model's own columns)",
    ("B608", "counts_sql.py"): B608_REASON + " (one capped COUNT subquery per status over the orders table)",
    ("B608", "fast_reserve.py"): B608_REASON + " (PostgreSQL fast path: prepared statements over constant tables)",
    ("B608", "hot_reserve.py"): B608_REASON + " (the queue function's body over constant table names)",
    ("B608", "intake.py"): B608_REASON + " (bench/intake.py: the raw baseline's INSERT into a model table)",
    ("B608", "lists.py"): B608_REASON + " (bench/lists.py: the 1M-order fixture's CREATE TABLE AS / INSERT SELECT)",
    ("B608", "lists_raw.py"): B608_REASON + " (bench/lists_raw.py: the raw baseline's WHERE built from constants)",
    ("B608", "single.py"): B608_REASON + " (bench/single.py: the raw baseline's INSERT of a model's own columns)",
    ("B608", "reports.py"): B608_REASON + " (bench/reports.py: the 1M-order fixture's INSERT ... SELECT and reads)",
    ("B608", "0016_order_intake_function.py"): B608_REASON
    + " (the one-trip intake function's body: the pushed-figure expression from constants; values are jsonb)",
    # RawSQL of a constant expression over our own table's system columns (a row's version), no outside value.
    ("B611", "intake_lookups.py"): "RawSQL of xmin/ctid of the model's own table, a module constant; no input",
    # urlopen of a URL whose scheme the adapter checked to be https just above (platform API endpoints).
    ("B310", "http.py"): "platform adapter: the URL's scheme is checked to be https before urlopen",
    (
        "B310",
        "assets.py",
    ): "report chart assets: the URL is checked to be http(s) and the tarball's pinned sha512 is verified",
}


def findings() -> list[dict[str, object]]:
    run = subprocess.run(  # noqa: S603 - a fixed command line, no input in it
        [sys.executable, "-m", "bandit", "-r", *TARGETS, "-x", "*/tests/*", "-ll", "-f", "json", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(run.stdout or "{}")
    if run.returncode not in (0, 1) or "results" not in report:
        raise SystemExit(f"bandit did not run: {run.stderr.strip()[:500]}")
    results: list[dict[str, object]] = report["results"]
    return results


def main() -> int:
    judged, unjudged = 0, []
    for r in findings():
        key = (str(r["test_id"]), Path(str(r["filename"])).name)
        if key in JUDGED:
            judged += 1
        else:
            unjudged.append(
                f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_severity']} {r['issue_text']}"
            )
    print(f"bandit: {judged} medium/high finding(s) judged, {len(unjudged)} not judged")
    for line in unjudged:
        print("  NOT JUDGED", line)
    return 1 if unjudged else 0


if __name__ == "__main__":
    sys.exit(main())
