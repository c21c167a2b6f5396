"""Issue 15 item 10: /api/docs works offline. Swagger UI's files come from the application (django-ninja's
own copy, installed from PyPI pinned by version and hash in uv.lock), never from a CDN: the page renders in
Chromium with every request to another host refused."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest
from django.test import Client

pytestmark = pytest.mark.browser


def test_docs_page_names_only_the_application_s_own_assets(db: Any) -> None:
    html = Client().get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "/static/ninja/swagger-ui.css" in html
    assert "cdn" not in html.lower() and "https://" not in html


def test_api_docs_render_with_other_hosts_blocked(live_server: Any, page: Any) -> None:
    own = urlparse(live_server.url).netloc
    foreign: list[str] = []

    def route(route: Any) -> None:
        if urlparse(route.request.url).netloc == own:
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    page.goto(f"{live_server.url}/api/docs")
    # Swagger UI's bundle is 1.5 MB of script: parsing it on a loaded CI machine can take longer than 10 s.
    page.wait_for_selector(".swagger-ui .info .title", timeout=90_000)
    assert "OMS API" in page.inner_text(".swagger-ui .info .title")
    # The operations of the document are listed (the UI fetched openapi.json from the application).
    page.wait_for_selector(".opblock-summary-path[data-path='/api/v1/orders']", timeout=30_000)
    assert page.locator(".opblock").count() >= 60
    assert foreign == []
