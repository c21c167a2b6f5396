"""Suite-wide test setup: Hypothesis profiles, database-dependent selection, and the no-skip rule for CI."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

pytest_plugins = [
    "oms.console.tests.browser",
    "oms.testing.orders",
    "oms.testing.review",
    "oms.testing.fulfillment",
    "oms.testing.outbox",
]

_skipped: list[str] = []


def _is_postgres() -> bool:
    from django.conf import settings as dj

    return bool(dj.DATABASES["default"]["ENGINE"].endswith("postgresql"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # PostgreSQL-only tests (concurrency, triggers) are deselected on SQLite rather than skipped,
    # so a skip always means something is missing; CI runs them on PostgreSQL.
    if _is_postgres():
        return
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker("postgres") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("OMS_FAIL_ON_SKIP") == "1" and _skipped:
        print(f"\nOMS_FAIL_ON_SKIP: {len(_skipped)} test(s) skipped, which CI does not allow:")
        for nodeid in _skipped:
            print(f"  {nodeid}")
        session.exitstatus = 1


@pytest.fixture
def make_operator(db: Any) -> Callable[..., Any]:
    """An operator in the given seeded roles (made through the real models, roles from migrate)."""
    from django.contrib.auth.models import Group

    from oms.accounts.models import Operator

    counter = {"n": 0}

    def make(*roles: str, username: str | None = None, password: str = "correct-horse-battery") -> Operator:  # noqa: S107
        counter["n"] += 1
        op = Operator.objects.create_user(username=username or f"op{counter['n']}", password=password)
        for role in roles:
            op.groups.add(Group.objects.get(name=role))
        return op

    return make


@pytest.fixture
def admin_operator(make_operator: Callable[..., Any]) -> Any:
    return make_operator("administrator", username="boss")


@pytest.fixture
def api_client(db: Any) -> Callable[..., Any]:
    """A Django test client that sends a real API token for the given operator."""
    from django.test import Client

    from oms.accounts.tokens import api_token_create

    def make(operator: Any) -> Client:
        from django.db import transaction

        with transaction.atomic():
            _token, plaintext = api_token_create(operator=operator, name="test")
        return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}")

    return make
