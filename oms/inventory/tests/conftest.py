from __future__ import annotations

from typing import Any

import pytest

from oms.inventory.services.verify import stock_verify


@pytest.fixture
def assert_no_drift() -> Any:
    """Call after a scenario: every counter equals its ledger and no channel is over-committed."""

    def check(*, allow_over_committed: bool = False) -> None:
        report = stock_verify()
        assert report.drift == []
        if not allow_over_committed:
            assert report.over_committed == []

    return check
