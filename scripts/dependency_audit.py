"""Offline dependency audit: every installed distribution checked against a vulnerability database that
comes from PyPI as a package, so it runs without network.

The only such database on PyPI is ``safety-db`` (PyUp.io's free database), and its last release is from
2021-07: it finds old known vulnerabilities, not recent ones. pip-audit and safety 3 query online services
(PyPI/OSV, PyUp) at run time and cannot run offline; run ``uvx pip-audit`` where the network allows it.
This script prints the database's date so nobody mistakes it for fresh.

    uv run python scripts/dependency_audit.py       # exit 1 when an installed version is listed as vulnerable
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from importlib import metadata
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version


def load_database() -> tuple[dt.date, dict[str, list[dict[str, object]]]]:
    # Located, not imported: the package's own __init__ opens a path relative to the working directory.
    spec = importlib.util.find_spec("safety_db")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("safety-db is not installed (uv sync installs it with the dev dependencies).")
    path = Path(next(iter(spec.submodule_search_locations))) / "insecure_full.json"
    database = json.loads(path.read_text(encoding="utf-8"))
    meta = database.pop("$meta", {})
    stamp = dt.datetime.fromtimestamp(int(meta.get("timestamp", 0)), tz=dt.UTC).date()
    return stamp, {canonicalize_name(name): entries for name, entries in database.items()}


# Advisories read and judged not to apply to the installed version: (distribution, advisory id) → why.
JUDGED = {
    ("reportlab", "CVE-2020-28463"): (
        "SSRF through <img src> in paragraph markup. Fixed in 3.5.55 by rl_config.trustedHosts, whose default "
        "(None) trusts no host; the database lists every version (>=0.0) because it records no fixed one. "
        "oms.core.pdf also escapes every text it draws as a paragraph."
    ),
}


def audit(installed: dict[str, str], advisories: dict[str, list[dict[str, object]]]) -> list[str]:
    """Every (name, version) the database lists as vulnerable, with the advisory's CVE or id."""
    hits: list[str] = []
    for name, version in sorted(installed.items()):
        try:
            parsed = Version(version)
        except InvalidVersion:
            continue
        for advisory in advisories.get(canonicalize_name(name), []):
            for spec in advisory.get("specs", []) or []:  # type: ignore[attr-defined]
                try:
                    ident = str(advisory.get("cve") or advisory.get("id"))
                    if (canonicalize_name(name), ident) in JUDGED:
                        continue
                    if parsed in SpecifierSet(str(spec)):
                        hits.append(f"{name} {version} matches {spec} ({ident})")
                except InvalidSpecifier:
                    continue
    return hits


def main() -> int:
    stamp, advisories = load_database()
    installed = {str(canonicalize_name(d.metadata["Name"])): d.version for d in metadata.distributions()}
    hits = audit(installed, advisories)
    print(
        f"dependency audit: {len(installed)} installed distributions against safety-db of {stamp}: {len(hits)} hit(s)"
    )
    for hit in hits:
        print("  VULNERABLE", hit)
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main())
