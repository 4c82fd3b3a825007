"""`client.monitors` over a team server: the YAML goes up with the files it names (a local
reference or production table), which the server keeps with the monitor."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mlyard.client.monitors import MonitorOperations
from mlyard.client.remote.closure import spec_closure
from mlyard.client.remote.session import RemoteSession
from mlyard.entities.automation.monitor import Monitor, MonitorDetails, MonitorResult
from mlyard.entities.jobs.job import Job
from mlyard.entities.specs.spec_files import load_yaml


def _name(name: str) -> str:
    return quote(name, safe="")


class RemoteMonitorOperations(MonitorOperations):
    def __init__(self, session: RemoteSession) -> None:
        self._session = session

    def create(self, path: str | Path) -> Monitor:
        path = Path(path)
        closure = spec_closure(load_yaml(path), path.resolve().parent)
        upload = self._session.upload(closure.files) if closure.files else None
        body: dict[str, Any] = {
            "spec": closure.spec,
            "upload": upload,
            "base": closure.base,
            "source": str(path),
        }
        return Monitor.model_validate(self._session.post_json("monitors", body))

    def get(self, name: str) -> Monitor:
        return self.show(name).monitor

    def show(self, name: str) -> MonitorDetails:
        return MonitorDetails.model_validate(self._session.get_json(f"monitors/{_name(name)}"))

    def list(self) -> builtins.list[Monitor]:
        return [Monitor.model_validate(m) for m in self._session.get_json("monitors")["value"]]

    def run(self, name: str) -> Job:
        return Job.model_validate(self._session.post_json(f"monitors/{_name(name)}/run"))

    def history(
        self, name: str, signal: str, feature: str, metric: str | None = None
    ) -> builtins.list[MonitorResult]:
        found = self._session.get_json(
            f"monitors/{_name(name)}/history", signal=signal, feature=feature, metric=metric
        )
        return [MonitorResult.model_validate(r) for r in found["value"]]

    def delete(self, name: str) -> None:
        self._session.request("DELETE", f"monitors/{_name(name)}")
