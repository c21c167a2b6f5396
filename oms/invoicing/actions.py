"""The operation-log action names invoicing records (`audit_record(action=...)`). Stored in the log: renaming
one is a data migration, not a refactor."""

from __future__ import annotations

from typing import Final

INVOICE_CREATE: Final = "invoice.create"
INVOICE_SUBMIT: Final = "invoice.submit"
INVOICE_ISSUED: Final = "invoice.issued"
INVOICE_FAILED: Final = "invoice.failed"
INVOICE_REVERSE: Final = "invoice.reverse"
INVOICE_RETRY: Final = "invoice.retry"
