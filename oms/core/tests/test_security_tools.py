"""The CI security steps (issue 17, What 5): bandit with every medium/high finding judged, and the offline
dependency audit, which must find a version its database lists as vulnerable."""

from __future__ import annotations

from scripts.bandit_judged import JUDGED, findings
from scripts.dependency_audit import audit, load_database


def test_every_medium_or_high_bandit_finding_is_judged() -> None:
    results = findings()
    assert results, "bandit found nothing at all: the run is not scanning the code"
    unjudged = [r for r in results if (r["test_id"], str(r["filename"]).rsplit("/", 1)[-1]) not in JUDGED]
    assert unjudged == []


def test_the_offline_audit_finds_a_listed_vulnerable_version_and_passes_a_fixed_one() -> None:
    stamp, advisories = load_database()
    assert stamp.year >= 2021 and "django" in advisories
    assert any("django 1.11.0" in hit for hit in audit({"django": "1.11.0"}, advisories))
    assert audit({"django": "5.2.8"}, advisories) == []
