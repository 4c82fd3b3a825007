"""`client.monitors`: Azure ML's `create_monitor` schedules, and monitor runs as jobs."""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from pathlib import Path

from mlyard.entities.automation.monitor import Monitor, MonitorDetails, MonitorResult
from mlyard.entities.jobs.job import Job
from mlyard.services.workspaces.workspace import Workspace


class MonitorOperations(ABC):
    @abstractmethod
    def create(self, path: str | Path) -> Monitor:
        """Create the monitor a YAML describes (with a trigger: its schedule too); checked whole
        first, nothing stored on any error."""

    @abstractmethod
    def get(self, name: str) -> Monitor: ...

    @abstractmethod
    def show(self, name: str) -> MonitorDetails:
        """The monitor, its latest run's verdicts and its last runs."""

    @abstractmethod
    def list(self) -> builtins.list[Monitor]: ...

    @abstractmethod
    def run(self, name: str) -> Job:
        """Start a monitor run now (a job of type monitor); wait for it with `client.jobs.wait`."""

    @abstractmethod
    def history(
        self, name: str, signal: str, feature: str, metric: str | None = None
    ) -> builtins.list[MonitorResult]:
        """One signal's results for one feature (and metric) across runs, oldest first."""

    @abstractmethod
    def delete(self, name: str) -> None:
        """Remove the monitor and its schedule; its runs and results stay."""


class LocalMonitorOperations(MonitorOperations):
    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def create(self, path: str | Path) -> Monitor:
        from mlyard.monitoring.monitor_checks import check_signals
        from mlyard.services.schedules.schedules import create_monitor_file

        return create_monitor_file(self._workspace, Path(path), check_statistics=check_signals)

    def get(self, name: str) -> Monitor:
        from mlyard.services.monitors.monitors import get_monitor

        return get_monitor(self._workspace, name)

    def show(self, name: str) -> MonitorDetails:
        from mlyard.services.monitors.monitors import show_monitor

        return show_monitor(self._workspace, name)

    def list(self) -> builtins.list[Monitor]:
        from mlyard.services.monitors.monitors import list_monitors

        return list_monitors(self._workspace)

    def run(self, name: str) -> Job:
        from mlyard.runtime.runner_process import PendingRunner
        from mlyard.services.monitors.runs import submit_monitor_run

        with PendingRunner(self._workspace.path) as runner:  # starts while the job is recorded
            job = submit_monitor_run(self._workspace, name)
            runner.assign(self._workspace, job.id)
        return job

    def history(
        self, name: str, signal: str, feature: str, metric: str | None = None
    ) -> builtins.list[MonitorResult]:
        from mlyard.services.monitors.monitors import monitor_history

        return monitor_history(self._workspace, name, signal, feature, metric)

    def delete(self, name: str) -> None:
        from mlyard.services.monitors.monitors import delete_monitor

        delete_monitor(self._workspace, name)
