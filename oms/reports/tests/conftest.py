"""Report tests run in the fulfilment test world (`oms.testing.fulfillment`) and review paid orders at once."""

from __future__ import annotations

from typing import Any

import pytest

from oms.testing.fulfillment import review_buffer_off


@pytest.fixture(autouse=True)
def _no_review_buffer(settings: Any) -> None:
    review_buffer_off(settings)
