"""Background order imports: progress written as chunks finish, a job claimed once, a dead worker's job
taken over after it goes stale (re-importing nothing twice), bad files refused or failed with a reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from oms.core.errors import ValidationFailed
from oms.orders.models import ImportJob, ImportState, Order
from oms.orders.services import import_jobs
from oms.orders.services.file_import import HEADER_ALIASES


def _csv(n: int, *, bad: int | None = None) -> bytes:
    header = "channel,platform_order_id,receiver_name,receiver_phone,province,city,address,sku_code,quantity,unit_price"
    rows = [header]
    for i in range(n):
        phone = "not-a-phone" if i == bad else "13800138000"
        for sku in ("TEA-001", "CUP-003"):  # two rows per order
            rows.append(f"TMALL,IMP{i:05d},王小明,{phone},浙江,杭州市,文三路 {i} 号,{sku},1,19.90")
    return ("\n".join(rows) + "\n").encode()


def test_the_header_columns_used_here_exist() -> None:
    assert {"channel", "platform_order_id", "sku_code"} <= set(HEADER_ALIASES.values())


def test_a_job_imports_in_chunks_and_writes_progress(
    tmall: Any, skus: Any, admin_operator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, int]] = []
    real = import_jobs.orders_import_file

    def spy(**kwargs: Any) -> Any:
        progress = kwargs.pop("on_progress")

        def record(summary: Any, done: int) -> None:
            progress(summary, done)
            job = ImportJob.objects.get()
            seen.append((job.done, job.orders))

        return real(**kwargs, on_progress=record, chunk=4)

    monkeypatch.setattr(import_jobs, "orders_import_file", spy)
    monkeypatch.setattr(import_jobs, "_enqueue", lambda job_id: None)
    job = import_jobs.import_job_create(content=_csv(10, bad=6), filename="big.csv", actor=admin_operator)
    done = import_jobs.import_job_run(job_id=job.pk)
    assert done is not None and done.state == ImportState.DONE
    assert seen == [(0, 10), (4, 10), (8, 10), (10, 10)]  # the file read, then after every chunk of 4 orders
    assert (done.rows, done.orders, done.created, done.failed) == (20, 10, 9, 1)
    assert [r[1] for r in done.report] == ["IMP00006"]
    assert Order.objects.filter(platform_order_id__startswith="IMP").count() == 9
    assert import_jobs.import_job_run(job_id=job.pk) is None  # ended: never run twice


def test_a_dead_workers_job_is_taken_over_once_stale_and_imports_nothing_twice(
    tmall: Any, skus: Any, admin_operator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_jobs, "_enqueue", lambda job_id: None)
    job = import_jobs.import_job_create(content=_csv(5), filename="o.csv", actor=admin_operator)
    first = import_jobs.import_job_run(job_id=job.pk)
    assert first is not None and first.created == 5
    # as if the worker had died while running (the content kept until the end: put it back)
    ImportJob.objects.filter(pk=job.pk).update(state=ImportState.RUNNING, started_at=timezone.now(), content=_csv(5))
    assert import_jobs.import_job_run(job_id=job.pk) is None  # still fresh: another worker may hold it
    ImportJob.objects.filter(pk=job.pk).update(started_at=timezone.now() - import_jobs.STALE_AFTER - timedelta(1))
    again = import_jobs.import_job_run(job_id=job.pk)
    assert again is not None and (again.state, again.created, again.existing) == ("done", 0, 5)
    assert Order.objects.filter(platform_order_id__startswith="IMP").count() == 5


@pytest.mark.parametrize(
    ("content", "filename", "code"),
    [(b"a,b\n", "orders.pdf", "file_type"), (b"", "orders.csv", "required")],
)
def test_bad_uploads_are_refused_naming_the_field(
    admin_operator: Any, content: bytes, filename: str, code: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        import_jobs.import_job_create(content=content, filename=filename, actor=admin_operator)
    assert [(d.field, d.code) for d in caught.value.details] == [("file", code)]
    assert not ImportJob.objects.exists()


def test_an_unreadable_xlsx_fails_the_job_with_a_reason(admin_operator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(import_jobs, "_enqueue", lambda job_id: None)
    job = import_jobs.import_job_create(content=b"PK\x03\x04 truncated", filename="o.xlsx", actor=admin_operator)
    failed = import_jobs.import_job_run(job_id=job.pk)
    assert failed is not None and failed.state == ImportState.FAILED and failed.error
    assert bytes(failed.content) == b""
