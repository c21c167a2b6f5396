"""Database settings: connections are kept and health-checked whatever DATABASE_URL says."""

from __future__ import annotations

import runpy
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

BASE = str(settings.BASE_DIR / "config" / "settings" / "base.py")


def _database_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    """DATABASES["default"] as config/settings/base.py computes it under the given environment."""
    monkeypatch.delenv("DB_CONN_MAX_AGE", raising=False)
    monkeypatch.delenv("DB_JIT", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return dict(runpy.run_path(BASE)["DATABASES"]["default"])


def test_postgres_url_keeps_connections_and_checks_them(monkeypatch: pytest.MonkeyPatch) -> None:
    db = _database_settings(monkeypatch, DATABASE_URL="postgres://oms@db.example:5432/oms")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert db["CONN_MAX_AGE"] == 60
    assert db["CONN_HEALTH_CHECKS"] is True


def test_conn_max_age_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    db = _database_settings(monkeypatch, DATABASE_URL="postgres://oms@db.example/oms", DB_CONN_MAX_AGE="300")
    assert db["CONN_MAX_AGE"] == 300
    db = _database_settings(monkeypatch, DATABASE_URL="postgres://oms@db.example/oms", DB_CONN_MAX_AGE="0")
    assert db["CONN_MAX_AGE"] == 0


@pytest.mark.postgres
def test_the_running_postgres_connection_is_reused() -> None:
    assert connection.vendor == "postgresql"
    assert connection.settings_dict["CONN_MAX_AGE"] > 0
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


def test_jit_is_off_on_postgres_connections_unless_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    db = _database_settings(monkeypatch, DATABASE_URL="postgres://oms@db.example/oms")
    assert db["OPTIONS"]["options"] == "-c jit=off"
    db = _database_settings(monkeypatch, DATABASE_URL="postgres://oms@db.example/oms", DB_JIT="1")
    assert "options" not in db.get("OPTIONS", {})


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_running_postgres_session_has_jit_off() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
