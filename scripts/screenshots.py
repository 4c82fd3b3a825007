"""`make screenshots`: seed a demo workspace and write a PNG of every studio page.

    python scripts/screenshots.py build/screenshots

The demo is the one the browser tests use (tests/server/studio/demo.py): diabetes runs with metric
histories and artifacts, model versions with an approved and a pending promotion, a pipeline with a
reused step, a sweep, 56 models tagged by partition, a running job, data assets, an environment, a
component, a real online endpoint (blue 90 %, green 10 %) that has answered a few requests, and a
batch endpoint with a queued job. Pages are taken in Debian's chromium, light and dark.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the demo lives with the tests

from tests.server.studio.demo import drive_endpoint, make_workspace, seed  # noqa: E402
from tests.servers import serve_in_thread  # noqa: E402

CHROMIUM = "/usr/bin/chromium"  # Debian's (never `playwright install`)


def main(target: Path) -> int:
    from playwright.sync_api import sync_playwright

    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mlyard-demo-") as folder:
        path = Path(folder) / "ws"
        demo = seed(make_workspace(path))
        server = serve_in_thread(path, auth=False, workers=0)
        drive_endpoint(server.url, path, demo)  # its instances ready, live numbers on the endpoint page
        ws = f"{server.url}/w/default"
        pages = {
            "overview": f"{ws}/",
            "jobs": f"{ws}/jobs?experiment=diabetes&order=metrics.mse+ASC",
            "jobs-grouped": f"{ws}/jobs?experiment=diabetes&group=tags.team",
            "jobs-searched": f"{ws}/jobs?experiment=diabetes&search=ridge-&hide=params.solver",
            "job": f"{ws}/jobs/{demo.runs[0]}",
            "job-running": f"{ws}/jobs/{demo.running}",
            "pipeline": f"{ws}/jobs/{demo.pipeline}",
            "sweep": f"{ws}/jobs/{demo.sweep}",
            "compare": f"{ws}/compare?job={demo.runs[0]}&job={demo.runs[1]}&job={demo.runs[2]}",
            "artifact-csv": f"{ws}/jobs/{demo.runs[0]}/artifact?path=predictions.csv",
            "artifact-image": f"{ws}/jobs/{demo.runs[0]}/artifact?path=plots/fit.png",
            "models": f"{ws}/models",
            "model": f"{ws}/models/diabetes-ridge",
            "model-compare": f"{ws}/models/diabetes-ridge/compare?version=1&version=2&version=3",
            "data-assets": f"{ws}/data",
            "data-asset": f"{ws}/data/{demo.data}",
            "endpoints": f"{ws}/endpoints",
            "endpoint": f"{ws}/endpoints/online/{demo.endpoint}",
            "batch-endpoint": f"{ws}/endpoints/batch/{demo.batch_endpoint}",
            "environments": f"{ws}/environments",
            "environment": f"{ws}/environments/sklearn-env",
            "component": f"{ws}/components/train_ridge",
            "computes": f"{ws}/computes",
            "dashboard-training": f"{ws}/dashboards/training",
            "dashboard-scoring": f"{ws}/dashboards/scoring",
            "schedules": f"{ws}/schedules",
            "schedule": f"{ws}/schedules/{demo.schedule}",
            "events": f"{ws}/events",
            "subscription": f"{ws}/events/subscriptions/{demo.subscription}",
            "job-delete": f"{ws}/jobs/{demo.runs[5]}",
            "audit": f"{ws}/audit",
            "keys": f"{ws}/keys",
            "login": f"{server.url}/login",
            "not-found": f"{ws}/jobs/no-such-job",
        }
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                for scheme in ("light", "dark"):
                    size = {"width": 1400, "height": 900}
                    context = browser.new_context(viewport=size, color_scheme=scheme)
                    page = context.new_page()
                    for name, url in pages.items():
                        page.goto(url, wait_until="networkidle")
                        page.wait_for_timeout(300)  # charts draw after their data arrives
                        page.screenshot(path=str(target / f"{name}-{scheme}.png"), full_page=True)
                    context.close()
                browser.close()
        finally:
            server.stop()
    print(f"wrote {len(pages) * 2} screenshots to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "build/screenshots")))
