"""`mlyard ui`: the studio over the local workspace on a loopback port; the URL is printed when no
browser takes it, and `mlyard server start` serves the same studio at `/`."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx

from tests.processes import START_TIMEOUT, clean_environment, start, start_server


def test_mlyard_ui_prints_the_studio_url_on_loopback_and_serves_it(tmp_path: Path):
    # No browser on this machine for the command to find: BROWSER names none that exists.
    environment = clean_environment(BROWSER="no-such-browser-here")
    ui = start(["--workspace", str(tmp_path / "ws"), "ui"], tmp_path / "ui.log", environment)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while (found := re.search(r"mlyard studio: (http://127\.0\.0\.1:\d+)/", ui.output())) is None:
            assert ui.process.poll() is None and time.monotonic() < deadline, ui.output()
            time.sleep(0.05)
        assert "(open it in a browser)" in ui.output()
        url = found.group(1)
        assert httpx.get(f"{url}/").headers["location"] == "/w/default/"
        overview = httpx.get(f"{url}/w/default/")
        assert overview.status_code == 200 and "No jobs yet" in overview.text
    finally:
        ui.stop()
    assert "Application shutdown complete" in ui.output()  # SIGTERM: a graceful stop


def test_server_start_serves_the_studio_at_the_root(tmp_path: Path):
    server = start_server(tmp_path / "ws", tmp_path / "server.log")
    try:
        assert httpx.get(f"{server.url}/", follow_redirects=True).text.count("mlyard studio") >= 1
        script = httpx.get(f"{server.url}/studio/static/vendor/uplot/uPlot.iife.min.js")
        assert script.status_code == 200 and "uPlot" in script.text
    finally:
        server.stop()
