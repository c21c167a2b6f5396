from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


def test_anonymous_is_sent_to_login(db: Any, client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_navigation_shows_only_what_the_role_may_use(make_operator: Any) -> None:
    client = Client()
    client.force_login(make_operator("finance"))
    page = client.get("/").content.decode()
    assert "/admin/audit/operationlog/" in page
    assert "/admin/fulfillment/courier/" not in page

    client.force_login(make_operator("warehouse_coordinator"))
    page = client.get("/").content.decode()
    assert "/admin/fulfillment/courier/" in page
    assert "/admin/audit/operationlog/" not in page


def test_console_is_chinese_by_default_and_english_on_request(make_operator: Any) -> None:
    client = Client()
    client.force_login(make_operator("finance"))
    assert "退出" in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Log out" in client.get("/").content.decode()


def test_static_assets_are_local_not_cdn(make_operator: Any) -> None:
    client = Client()
    client.force_login(make_operator("finance"))
    page = client.get("/").content.decode()
    assert "htmx" in page
    assert "http://" not in page.split("<body")[0].replace("http://www.w3.org", "")
    assert "https://" not in page.split("<body")[0]


def test_logout_needs_post_and_csrf(make_operator: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_operator("finance"))
    assert client.post("/logout/").status_code == 403


@pytest.mark.browser
def test_operator_logs_in_through_chromium(transactional_db: Any, make_operator: Any, login: Any) -> None:
    make_operator("order_reviewer", username="reviewer", password="reviewer-pass-1")
    page = login("reviewer", "reviewer-pass-1")
    assert page.locator("[data-testid=current-user]").inner_text() == "reviewer"
    assert page.locator("h1").inner_text() == "工作台"
    page.screenshot(path=str(_shot_dir() / "console-home.png"), full_page=True)
    page.click("text=退出")
    page.wait_for_url("**/login/")


@pytest.mark.browser
def test_wrong_password_shows_error(transactional_db: Any, make_operator: Any, live_server: Any, page: Any) -> None:
    make_operator("finance", username="clerk", password="right-password-1")
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "clerk")
    page.fill("input[name=password]", "nope")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").is_visible()


def _shot_dir() -> Any:
    from pathlib import Path

    path = Path("var/screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_chinese_terms_beside_english_labels_only_in_english() -> None:
    from django.template import Context, Template
    from django.utils import translation

    tpl = Template('{% load i18n console_extras %}{% translate "Review" %}{% zh "审单" %}')
    with translation.override("en"):
        assert tpl.render(Context()) == 'Review <span class="zh-term">审单</span>'
    with translation.override("zh-hans"):
        assert tpl.render(Context()) == "审单"
