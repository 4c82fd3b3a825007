"""The studio's fixtures: a seeded workspace served for real (one server per module), and a real
headless Chromium — Debian's, driven by Playwright (never `playwright install`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.studio.demo import Demo, drive_endpoint, make_workspace, seed
from tests.servers import ThreadServer, serve_in_thread

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parent / "vendor/axe-core/axe.min.js"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThreadServer, Demo, Path]]:
    """A demo workspace (see demo.py) served with authentication off: the caller is admin; its
    endpoint's instances are ready and have answered a few requests."""
    path = tmp_path_factory.mktemp("studio") / "ws"
    demo = seed(make_workspace(path))
    server = serve_in_thread(path, auth=False, workers=0)
    drive_endpoint(server.url, path, demo)
    yield server, demo, path
    server.stop()


class Console:
    """The browser console's errors and the page's uncaught exceptions, to assert there are none."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) per test; fails the test on any console error."""
    # bypass_csp: axe-core is injected inline, which the studio's CSP rightly refuses to a page.
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, bypass_csp=True)
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    console = Console(opened)
    yield opened
    context.close()
    assert console.errors == [], console.errors


def critical_violations(page: Any) -> list[str]:
    """axe-core's critical accessibility violations on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        for v in result["violations"]
        if v["impact"] == "critical"
    ]
