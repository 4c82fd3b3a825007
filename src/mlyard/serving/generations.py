"""A deployment's generations as the supervisor tracks them: what one create or update asked for,
how its instances are started, and each instance slot's restarts."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from mlyard.entities.endpoints.endpoint import OnlineDeployment
from mlyard.serving.instances import InstanceProcess
from mlyard.serving.routing import InstanceRoute

BACKOFF_FIRST, BACKOFF_MAX, HEALTHY_RESET = 0.5, 30.0, 60.0


@dataclass
class Prepared:
    """What an instance of a generation is started with."""

    command: list[str]  # without --uds
    env: dict[str, str]
    cwd: Path


@dataclass
class Slot:
    """Instance `index` of a generation: its current process, and its restarts."""

    index: int
    process: InstanceProcess | None = None
    route: InstanceRoute | None = None
    restarts: int = 0
    exits_before_ready: int = 0
    backoff: float = BACKOFF_FIRST
    start_at: float = 0.0
    ready_since: float | None = None
    next_probe_at: float = 0.0
    liveness_failures: int = 0
    readiness_failures: int = 0
    start_error: str | None = None  # the process could not even be started (no interpreter, …)


@dataclass
class Generation:
    number: int
    deployment: OnlineDeployment
    phase: str = "preparing"  # preparing → starting → serving | failed → draining → stopped
    prepared: Prepared | None = None
    error: str | None = None
    slots: list[Slot] = field(default_factory=list)
    started_at: float = field(default_factory=time.monotonic)

    @property
    def label(self) -> str:
        return f"g{self.number}"


def copy_code(source: Path, target: Path) -> Path:
    """A private copy of the stored code for one generation (a score.py may write next to itself)."""
    if not target.exists():
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target
