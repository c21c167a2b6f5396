"""Production settings (issue 17, item 12): weak SECRET_KEYs and wildcard ALLOWED_HOSTS are refused at start;
every response carries a Content-Security-Policy that the console satisfies (no inline script or style)."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from config.settings.hardening import allowed_hosts_problem, secret_key_problem

ROOT = Path(__file__).resolve().parents[3]
# Deterministic (the parameter ids must be the same in every test worker) and as varied as a real key.
GOOD_KEY = base64.urlsafe_b64encode(hashlib.sha512(b"oms production settings test").digest()).decode()


def _start_prod(secret: str, hosts: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.prod", "SECRET_KEY": secret, "ALLOWED_HOSTS": hosts}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests in this process, never in deployment
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("secret", "hosts", "problem"),
    [
        ("a" * 61, "oms.example.com", "distinct characters"),
        ("ab" * 40, "oms.example.com", "distinct characters"),
        (GOOD_KEY[:20], "oms.example.com", "at least 50 characters"),
        (GOOD_KEY, "*", "wildcards"),
        (GOOD_KEY, "oms.example.com,*.example.com", "wildcards"),
        (GOOD_KEY, "", "ALLOWED_HOSTS must be set"),
    ],
)
def test_production_refuses_to_start(secret: str, hosts: str, problem: str) -> None:
    result = _start_prod(secret, hosts)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and problem in result.stderr


def test_production_starts_with_a_real_key_and_named_hosts_and_check_deploy_is_clean() -> None:
    result = _start_prod(GOOD_KEY, "oms.example.com,.oms.example.com")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_rules_themselves() -> None:
    assert secret_key_problem(GOOD_KEY) is None
    assert secret_key_problem("django-insecure-" + GOOD_KEY) is not None
    assert allowed_hosts_problem(["oms.example.com", ".example.com"]) is None
    assert allowed_hosts_problem(["*"]) is not None


def test_every_console_page_has_the_csp_and_no_inline_script_or_style(client: Any, admin_operator: Any) -> None:
    client.force_login(admin_operator)
    for path in (
        "/",
        "/orders/",
        "/interceptions/",
        "/rules/",
        "/rules/new/",
        "/outbox/",
        "/merge/",
        "/customers/",
        "/stockouts/",
        "/reports/sales/",
    ):
        response = client.get(path, follow=True)
        assert response.status_code == 200, path
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy and "unsafe-inline" not in policy
        html = response.content.decode()
        assert not re.search(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", html), (
            path
        )  # every script is a file (JSON data blocks are not run)
        assert not re.search(r"\son[a-z]+=", html), path  # no inline event handler
        assert " style=" not in html and "<style" not in html, path


def test_templates_have_no_inline_script_handlers_or_styles() -> None:
    for template in (ROOT / "oms" / "console" / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"\son(click|change|submit|input|load)=", text), template
        assert " style=" not in text and "<style" not in text, template
        assert not re.search(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", text), template
