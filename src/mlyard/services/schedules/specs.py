"""A schedule YAML checked whole before anything is stored: trigger, time zone, end after start,
event type and filter, and the job it creates (resolved as `job create` would resolve it).

`create_job` is kept as the job's YAML mapping with the overrides applied (`inputs`, `outputs`,
`settings`, `tags`, `experiment_name`, `display_name`), plus the folder its relative paths start
from; each firing resolves it again, so `@latest` data is the latest of that day. An
`azureml:<job id>` reference re-runs that job's stored (resolved) spec.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, TypeVar

from mlyard.entities.automation.event import RUN_COMPLETED, RUN_STATUS_CHANGED, SCHEDULE_FIRED
from mlyard.entities.automation.schedule_spec import (
    EventTrigger,
    JobReference,
    ScheduleSpec,
    schedule_from_dict,
)
from mlyard.entities.specs.local_files import confine
from mlyard.entities.specs.names import validate_name
from mlyard.entities.specs.spec_files import load_yaml
from mlyard.errors import InvalidArgument, InvalidSpec, MlyardError, NotFound
from mlyard.services.events.catalog import resolve_type
from mlyard.services.events.matching import check_filter
from mlyard.services.monitors.specs import CheckedMonitor, StatisticsCheck, check_monitor
from mlyard.services.schedules.timing import Timing, timing_of
from mlyard.services.workspaces.workspace import Workspace

EVENT_BINDING = re.compile(r"\$\{\{\s*event\.([A-Za-z0-9_.]+)\s*\}\}")
NAME_BINDING = re.compile(r"\$\{\{\s*name\s*\}\}")
DEFAULT_EXPERIMENT = "Default"
T = TypeVar("T")


@dataclass(frozen=True)
class CheckedSchedule:
    spec: ScheduleSpec
    kind: str  # cron | recurrence | event
    trigger: dict[str, Any]
    timing: Timing | None
    event_type: str | None
    create_job: dict[str, Any]  # {"kind": "spec", "spec": {...}}, {"kind": "job", "job_id": "…"}
    base_dir: str  # or {"kind": "monitor", "monitor": "<name>"}
    monitor: CheckedMonitor | None = None

    def first_firing(self) -> datetime | None:
        return self.timing.first_firing() if self.timing is not None else None


def check_schedule(
    workspace: Workspace,
    data: dict[str, Any],
    base_dir: Path,
    source: str,
    now: datetime,
    check_statistics: StatisticsCheck | None = None,
) -> CheckedSchedule:
    """Everything about a schedule that can be wrong, found now, each error naming `source` and
    the field. A `create_monitor` is checked by services/monitors (and `check_statistics`, the
    statistics layer's own check of the signals, which the caller passes in)."""
    spec = schedule_from_dict(data, source)
    try:
        validate_name(spec.name, "schedule name")
    except InvalidArgument as exc:
        raise InvalidSpec(f"{source}: name: {exc.message}") from None
    trigger = spec.trigger
    where = f"{source}: trigger"
    timing, event_type = None, None
    if isinstance(trigger, EventTrigger):
        event_type = _located(lambda: resolve_type(trigger.event_type, f"{where}.event_type"))
        _located(lambda: check_filter(dict(trigger.filter), [event_type], f"{where}.filter"))
    else:
        timing = _located(lambda: timing_of(trigger, now, where))
    if spec.create_monitor is not None:
        monitor = check_monitor(
            workspace, spec.create_monitor, base_dir, source, lookback_of(timing), check_statistics
        )
        return CheckedSchedule(
            spec, trigger.type, trigger.model_dump(mode="json", exclude_none=True), timing, event_type,
            {"kind": "monitor", "monitor": spec.name}, str(base_dir), monitor,
        )  # fmt: skip
    assert spec.create_job is not None
    create_job, job_dir = _job_of(workspace, spec.create_job, base_dir, source)
    experiment = _check_job(workspace, create_job, job_dir, source, has_event=event_type is not None)
    if isinstance(trigger, EventTrigger) and event_type is not None:
        _refuse_self_trigger(spec.name, event_type, dict(trigger.filter), experiment, where)
    return CheckedSchedule(
        spec, trigger.type, trigger.model_dump(mode="json", exclude_none=True), timing, event_type,
        create_job,
        str(job_dir),
    )  # fmt: skip


def lookback_of(timing: Timing | None) -> str | None:
    """A monitor's default production window: the time between two firings (Azure: the frequency)."""
    if timing is None:
        return None
    # Two regular firings (the first may be an immediate one, off the rhythm).
    first = timing.first_firing()
    one = timing.next_after(first) if first is not None else None
    two = timing.next_after(one) if one is not None else None
    if one is None or two is None:
        return None
    seconds = max(60, int((two - one).total_seconds()))
    return f"PT{seconds}S"


def _located(check: Callable[[], T]) -> T:
    """Run a check; its `InvalidArgument` becomes an `InvalidSpec` (same message, exit code 2)."""
    try:
        return check()
    except InvalidSpec:
        raise
    except InvalidArgument as exc:
        raise InvalidSpec(exc.message) from None


def _job_of(
    workspace: Workspace, given: str | JobReference | dict[str, Any], base_dir: Path, source: str
) -> tuple[dict[str, Any], Path]:
    where = f"{source}: create_job"
    if isinstance(given, str):
        given = JobReference(job=given)
    if isinstance(given, dict):
        return {"kind": "spec", "spec": copy.deepcopy(given)}, base_dir
    if given.job.startswith("azureml:") and not given.job.endswith((".yml", ".yaml")):
        job_id = given.job.removeprefix("azureml:")
        if given.inputs or given.outputs or given.settings or given.experiment_name:
            raise InvalidSpec(f"{where}: an azureml:<job> reference re-runs that job as it was: no overrides")
        _check_job_ref(workspace, job_id, where)
        return {"kind": "job", "job_id": job_id, "tags": dict(given.tags)}, base_dir
    path = confine((base_dir / given.job).resolve(), f"{where}.job")  # through a server: only sent files
    if not path.is_file():
        raise NotFound(f"{where}: {given.job} does not exist (looked for {path})")
    data = load_yaml(path)
    _apply_overrides(data, given)
    return {"kind": "spec", "spec": data}, path.parent


def _apply_overrides(data: dict[str, Any], given: JobReference) -> None:
    for field in ("experiment_name", "display_name"):
        if getattr(given, field):
            data[field] = getattr(given, field)
    for field in ("inputs", "outputs", "settings"):
        overrides = getattr(given, field)
        if overrides:
            target = data.setdefault(field, {})
            for key, value in overrides.items():
                current = target.get(key)
                if isinstance(current, dict) and not isinstance(value, dict) and field == "inputs":
                    current["value" if "value" in current else "path"] = value
                else:
                    target[key] = value
    if given.tags:
        data["tags"] = {**(data.get("tags") or {}), **given.tags}


def _check_job_ref(workspace: Workspace, job_id: str, where: str) -> None:
    from mlyard.services.execution.job_runs import get_spec

    try:
        get_spec(workspace, job_id)
    except MlyardError as exc:
        raise type(exc)(f"{where}: {exc.message}") from None


def _check_job(
    workspace: Workspace, create_job: dict[str, Any], job_dir: Path, source: str, has_event: bool
) -> str:
    """Resolve the job as a submission would (nothing is stored); returns its experiment."""
    from mlyard.services.submission.dispatch import resolve_job_dict

    if create_job["kind"] == "job":
        return DEFAULT_EXPERIMENT
    data = bind(create_job["spec"], "schedule-check", None)
    where = f"{source}: create_job"
    try:
        submission = resolve_job_dict(workspace, data, job_dir, where)
    except NotFound:
        if has_event and _has_event_binding(create_job["spec"]):
            # A reference built from the event (`azureml:${{event.data.ModelName}}:…`) exists
            # only once the event does; the shape was checked, references are checked at firing.
            return str(create_job["spec"].get("experiment_name") or DEFAULT_EXPERIMENT)
        raise
    return submission.experiment or DEFAULT_EXPERIMENT


def _refuse_self_trigger(
    name: str, event_type: str, filter: dict[str, str], experiment: str, where: str
) -> None:
    """A trigger on its own job's run events, or on its own firings, would fire forever."""
    loop = None
    if event_type in (RUN_STATUS_CHANGED, RUN_COMPLETED):
        pattern = next((v for k, v in filter.items() if k.lower() == "experimentname"), "*")
        if fnmatchcase(experiment, pattern):
            loop = f"the job it creates (experiment {experiment!r}) emits that event"
    elif event_type == SCHEDULE_FIRED:
        pattern = next((v for k, v in filter.items() if k.lower() == "schedulename"), "*")
        if fnmatchcase(name, pattern):
            loop = "its own firing emits that event"
    if loop:
        raise InvalidSpec(
            f"{where}.filter: this trigger would trigger itself ({loop}): a loop; filter on another "
            "experimentName (or ScheduleName), or give the job its own experiment_name"
        )


def _has_event_binding(value: Any) -> bool:
    if isinstance(value, str):
        return EVENT_BINDING.search(value) is not None
    if isinstance(value, dict):
        return any(_has_event_binding(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_event_binding(v) for v in value)
    return False


def bind(value: Any, name: str, event: dict[str, Any] | None) -> Any:
    """`value` with `${{name}}` and (given an event) `${{event.data.X}}`, `${{event.subject}}`,
    `${{event.id}}`, `${{event.type}}` replaced."""
    if isinstance(value, str):
        value = NAME_BINDING.sub(name, value)
        if event is not None:
            value = EVENT_BINDING.sub(lambda found: _event_value(event, found.group(1)), value)
        return value
    if isinstance(value, dict):
        return {key: bind(item, name, event) for key, item in value.items()}
    if isinstance(value, list):
        return [bind(item, name, event) for item in value]
    return value


def _event_value(event: dict[str, Any], path: str) -> str:
    from mlyard.services.events.matching import field_value

    head, _, rest = path.partition(".")
    if head == "data" and rest:
        found = field_value(event.get("data") or {}, rest)
    elif not rest and head in ("id", "subject", "type", "time", "source"):
        found = event.get(head)
    else:
        found = None
    if found is None:
        raise InvalidSpec(f"create_job: ${{{{event.{path}}}}}: the event has no such field")
    return str(found)
