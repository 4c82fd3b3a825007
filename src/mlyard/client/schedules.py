"""`client.schedules`: Azure ML schedule YAML (cron, recurrence) plus event triggers."""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from pathlib import Path

from mlyard.entities.automation.schedule import Schedule, ScheduleDetails, ScheduleFiring
from mlyard.services.workspaces.workspace import Workspace


class ScheduleOperations(ABC):
    @abstractmethod
    def create(self, path: str | Path) -> Schedule:
        """Create the schedule a YAML describes; everything is checked first, nothing stored on error."""

    @abstractmethod
    def update(self, path: str | Path) -> Schedule:
        """Replace the schedule named in the YAML with what the YAML says."""

    @abstractmethod
    def get(self, name: str) -> Schedule: ...

    @abstractmethod
    def show(self, name: str) -> ScheduleDetails:
        """The schedule, its next five firing times and the jobs it created."""

    @abstractmethod
    def list(self) -> builtins.list[Schedule]: ...

    @abstractmethod
    def enable(self, name: str) -> Schedule: ...

    @abstractmethod
    def disable(self, name: str) -> Schedule: ...

    @abstractmethod
    def delete(self, name: str) -> None:
        """Remove the schedule; the jobs it created stay."""

    @abstractmethod
    def trigger(self, name: str) -> ScheduleFiring:
        """Fire once now; the firing names the job it created (or why it could not)."""


class LocalScheduleOperations(ScheduleOperations):
    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def create(self, path: str | Path) -> Schedule:
        from mlyard.monitoring.monitor_checks import check_signals
        from mlyard.services.schedules.schedules import create_schedule_file

        return create_schedule_file(self._workspace, Path(path), check_statistics=check_signals)

    def update(self, path: str | Path) -> Schedule:
        from mlyard.services.schedules.schedules import update_schedule_file

        return update_schedule_file(self._workspace, Path(path))

    def get(self, name: str) -> Schedule:
        from mlyard.services.schedules.schedules import get_schedule

        return get_schedule(self._workspace, name)

    def show(self, name: str) -> ScheduleDetails:
        from mlyard.services.schedules.schedules import show_schedule

        return show_schedule(self._workspace, name)

    def list(self) -> builtins.list[Schedule]:
        from mlyard.services.schedules.schedules import list_schedules

        return list_schedules(self._workspace)

    def enable(self, name: str) -> Schedule:
        from mlyard.services.schedules.schedules import set_enabled

        return set_enabled(self._workspace, name, True)

    def disable(self, name: str) -> Schedule:
        from mlyard.services.schedules.schedules import set_enabled

        return set_enabled(self._workspace, name, False)

    def delete(self, name: str) -> None:
        from mlyard.services.schedules.schedules import delete_schedule

        delete_schedule(self._workspace, name)

    def trigger(self, name: str) -> ScheduleFiring:
        """Here, as `job create` does: the job runs in a detached runner process of this machine."""
        from mlyard.runtime.launch import launch_detached
        from mlyard.services.schedules.firing import run_pending, trigger_now

        firing_id = trigger_now(self._workspace, name)
        fired = run_pending(self._workspace, dispatch=None, only=firing_id)
        if fired and fired[0].job is not None:
            launch_detached(self._workspace, fired[0].job.id)
        if fired:
            return fired[0].firing
        from mlyard.services.schedules.schedules import show_schedule

        return next(f for f in show_schedule(self._workspace, name).firings if f.id == firing_id)
