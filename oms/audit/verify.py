"""`oms audit verify`: walk the operation log's hash chain and say what does not hold (P3, P6).

Found, each with the row it concerns: a row whose content no longer matches its hash (changed), a gap in the
chain's positions (removed), a link that does not follow from the previous one (inserted, or hashes
re-computed after a change), a row outside the chain (written with the triggers off), a row written long
before it was linked (back-dated), and a chain that ends before its head (rows removed at the end). Reads in
pages of the chain's positions; memory stays flat. The periodic task stores each run as an `AuditCheck`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction

from oms.audit.domain.chain import CONTENT_FIELDS, GENESIS, content_digest, link_hash
from oms.audit.models import AuditCheck, ChainHead, OperationLog

PAGE = 5000
# A row is linked when its transaction commits; more than this between writing and linking is back-dating.
BACKDATED_AFTER = timedelta(hours=1)
MAX_PROBLEMS = 1000


@dataclass
class ChainReport:
    rows: int = 0
    head_seq: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, kind: str, **where: Any) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append({"kind": kind, **where})


def audit_verify() -> ChainReport:
    report = ChainReport()
    head = ChainHead.objects.filter(pk=1).first()
    report.head_seq = head.seq if head else 0
    expected_seq, prev = 1, GENESIS
    columns = ("id", "seq", "prev_hash", "row_hash", "content_hash", "chained_at", *CONTENT_FIELDS)
    last_seq = 0
    while True:
        page = list(
            OperationLog.objects.filter(seq__gte=expected_seq, seq__isnull=False)
            .order_by("seq")
            .values(*columns)[:PAGE]
        )
        for row in page:
            report.rows += 1
            _check_row(report, row, expected_seq, prev)
            expected_seq, prev, last_seq = row["seq"] + 1, row["row_hash"], row["seq"]
        if len(page) < PAGE:
            break
    for row_id in OperationLog.objects.filter(seq__isnull=True).values_list("id", flat=True)[:MAX_PROBLEMS]:
        report.add("outside_chain", id=row_id)
    if head is not None and (last_seq != head.seq or (last_seq and prev != head.hash)):
        report.add("tail_removed", last_seq=last_seq, head_seq=head.seq)
    return report


def _check_row(report: ChainReport, row: dict[str, Any], expected_seq: int, prev: str) -> None:
    seq = row["seq"]
    if seq != expected_seq:
        report.add("removed", seq_from=expected_seq, seq_to=seq - 1)
    elif row["prev_hash"] != prev:
        report.add("link_broken", seq=seq, id=row["id"])
    if content_digest(row) != row["content_hash"]:
        report.add("changed", seq=seq, id=row["id"])
    if link_hash(seq, row["prev_hash"], row["content_hash"]) != row["row_hash"]:
        report.add("link_forged", seq=seq, id=row["id"])
    if row["chained_at"] is not None and row["chained_at"] - row["at"] > BACKDATED_AFTER:
        report.add("backdated", seq=seq, id=row["id"], at=row["at"].isoformat())


@transaction.atomic(durable=True)
def audit_check_run() -> AuditCheck:
    """Verify and store the result (the periodic task; the console shows the last one)."""
    started = time.perf_counter()
    report = audit_verify()
    return AuditCheck.objects.create(
        ok=report.ok,
        rows=report.rows,
        head_seq=report.head_seq,
        problems=report.problems,
        seconds=round(time.perf_counter() - started, 3),
    )


def audit_check_last() -> AuditCheck | None:
    return AuditCheck.objects.order_by("-at", "-id").first()
