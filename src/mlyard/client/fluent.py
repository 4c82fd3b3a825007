"""`mlyard.start_run()`, `mlyard.log_metric()` and friends: module-level calls on the active run.

Each call goes to the active run (see `client/run.py`), starting a local one if there is none.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mlyard.client.run import active_run, active_run_or_start, end_run, start_run
from mlyard.entities.registry.model import ModelVersion

__all__ = [
    "active_run", "end_run", "log_artifact", "log_artifacts", "log_dict", "log_figure", "log_metric",
    "log_metrics", "log_model", "log_param", "log_params", "log_text", "set_tag", "set_tags",
    "start_run", "use_data",
]  # fmt: skip


def log_param(key: str, value: Any) -> None:
    active_run_or_start().log_param(key, value)


def log_params(params: dict[str, Any]) -> None:
    active_run_or_start().log_params(params)


def log_metric(key: str, value: Any, step: int | None = None, timestamp: int | None = None) -> None:
    active_run_or_start().log_metric(key, value, step, timestamp)


def log_metrics(metrics: dict[str, Any], step: int | None = None, timestamp: int | None = None) -> None:
    active_run_or_start().log_metrics(metrics, step, timestamp)


def set_tag(key: str, value: Any) -> None:
    active_run_or_start().set_tag(key, value)


def set_tags(tags: dict[str, Any]) -> None:
    active_run_or_start().set_tags(tags)


def log_artifact(local_path: str | os.PathLike[str], artifact_path: str | None = None) -> str:
    return active_run_or_start().log_artifact(local_path, artifact_path)


def log_artifacts(local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> str:
    return active_run_or_start().log_artifacts(local_dir, artifact_path)


def log_dict(dictionary: dict[str, Any], artifact_file: str) -> str:
    return active_run_or_start().log_dict(dictionary, artifact_file)


def log_text(text: str, artifact_file: str) -> str:
    return active_run_or_start().log_text(text, artifact_file)


def log_figure(figure: Any, artifact_file: str) -> str:
    return active_run_or_start().log_figure(figure, artifact_file)


def log_model(
    model: Any,
    name: str,
    flavor: str | None = None,
    register: bool = True,
    input_example: Any = None,
    description: str | None = None,
    tags: dict[str, str] | None = None,
    properties: dict[str, str] | None = None,
) -> ModelVersion | str:
    return active_run_or_start().log_model(
        model, name, flavor, register, input_example, description, tags, properties
    )


def use_data(ref: str) -> Path:
    return active_run_or_start().use_data(ref)
