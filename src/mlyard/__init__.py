"""mlyard: self-hosted MLOps — tracked experiments, versioned data, a model registry and more.

    import mlyard
    with mlyard.start_run(experiment="diabetes"):
        mlyard.log_param("alpha", 0.5)
        mlyard.log_metric("mse", 2950.0)

Names are resolved on first use (PEP 562) so `import mlyard` and the CLI start fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from mlyard.version import __version__

_EXPORTS: dict[str, str] = {
    "MLClient": "mlyard.client.mlclient",
    "Run": "mlyard.client.run",
    "start_run": "mlyard.client.fluent",
    "end_run": "mlyard.client.fluent",
    "active_run": "mlyard.client.fluent",
    "log_param": "mlyard.client.fluent",
    "log_params": "mlyard.client.fluent",
    "log_metric": "mlyard.client.fluent",
    "log_metrics": "mlyard.client.fluent",
    "set_tag": "mlyard.client.fluent",
    "set_tags": "mlyard.client.fluent",
    "log_artifact": "mlyard.client.fluent",
    "log_artifacts": "mlyard.client.fluent",
    "log_dict": "mlyard.client.fluent",
    "log_text": "mlyard.client.fluent",
    "log_figure": "mlyard.client.fluent",
    "log_model": "mlyard.client.fluent",
    "use_data": "mlyard.client.fluent",
    "Job": "mlyard.entities.jobs.job",
    "JobStatus": "mlyard.entities.jobs.job",
    "DataAsset": "mlyard.entities.registry.data",
    "ModelVersion": "mlyard.entities.registry.model",
    "DataType": "mlyard.entities.registry.data",
    "MlyardError": "mlyard.errors",
    "Input": "mlyard.client.dsl",
    "Output": "mlyard.client.dsl",
    "command_component": "mlyard.client.dsl",
    "pipeline": "mlyard.client.dsl",
    "events": "mlyard.events",  # a module: `mlyard.events.verify(headers, body, secret)`
}

__all__ = [
    "DataAsset", "DataType", "Input", "Job", "JobStatus", "MLClient", "MlyardError", "ModelVersion",
    "Output", "Run", "__version__", "active_run", "command_component", "end_run", "events", "log_artifact",
    "log_artifacts", "log_dict",
    "log_figure", "log_metric", "log_metrics", "log_model", "log_param", "log_params", "log_text",
    "pipeline", "set_tag", "set_tags", "start_run", "use_data",
]  # fmt: skip

if TYPE_CHECKING:
    from mlyard import events
    from mlyard.client.dsl import Input, Output, command_component, pipeline
    from mlyard.client.fluent import (
        active_run,
        end_run,
        log_artifact,
        log_artifacts,
        log_dict,
        log_figure,
        log_metric,
        log_metrics,
        log_model,
        log_param,
        log_params,
        log_text,
        set_tag,
        set_tags,
        start_run,
        use_data,
    )
    from mlyard.client.mlclient import MLClient
    from mlyard.client.run import Run
    from mlyard.entities.jobs.job import Job, JobStatus
    from mlyard.entities.registry.data import DataAsset, DataType
    from mlyard.entities.registry.model import ModelVersion
    from mlyard.errors import MlyardError


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mlyard' has no attribute {name!r}")
    imported = import_module(module)
    value = imported if module == f"{__name__}.{name}" else getattr(imported, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
