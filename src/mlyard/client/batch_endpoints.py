"""`client.batch_endpoints` and `client.batch_deployments`: scoring files and tables as jobs.

    client.batch_endpoints.create("endpoint.yml")               # or create(name="diabetes-batch")
    client.batch_deployments.create("deployment.yml", set_default=True)
    job = client.batch_endpoints.invoke("diabetes-batch", input="diabetes@latest", wait=True)
    client.jobs.download(job.id, output_name="score")            # predictions.csv
    client.batch_endpoints.invoke("diabetes-batch", resume=job.id)   # a crashed job: score the rest

An invoke returns the batch job (Azure ML's `batch_endpoints.invoke`); its output `score` holds
`predictions.csv` (the deployment's `output_file_name`).
"""

from __future__ import annotations

import builtins
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from mlyard.entities.endpoints.batch_endpoint import (
    BatchDeployment,
    BatchEndpoint,
    batch_deployment_from_dict,
    batch_endpoint_from_dict,
)
from mlyard.entities.jobs.job import Job
from mlyard.entities.specs.spec_files import load_yaml
from mlyard.services.batch import batch_endpoints as service
from mlyard.services.batch import batch_jobs
from mlyard.services.workspaces.workspace import Workspace

PathLike = str | os.PathLike[str]


def endpoint_spec(
    source: PathLike | None, name: str | None, description: str | None, tags: dict[str, str] | None
) -> tuple[dict[str, Any], str]:
    """The endpoint's YAML mapping (from a file, then `name`/`description`/`tags` over it)."""
    data: dict[str, Any] = load_yaml(Path(source)) if source is not None else {}
    for key, value in (("name", name), ("description", description), ("tags", tags)):
        if value is not None:
            data[key] = value
    return data, str(source) if source is not None else "batch endpoint"


class BatchEndpointOperations(ABC):
    @abstractmethod
    def create(
        self,
        source: PathLike | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> BatchEndpoint:
        """An endpoint from its YAML file, or from `name` (AlreadyExists when the name is taken)."""

    @abstractmethod
    def get(self, name: str) -> BatchEndpoint:
        """NotFound names the endpoint and how to create it."""

    @abstractmethod
    def list(self) -> builtins.list[BatchEndpoint]: ...

    @abstractmethod
    def update(self, name: str, changes: dict[str, str]) -> BatchEndpoint:
        """Azure's `--set`: `defaults.deployment_name`, `description`, `tags.<key>`."""

    @abstractmethod
    def delete(self, name: str) -> None:
        """The endpoint and its deployments (their jobs and outputs stay)."""

    @abstractmethod
    def _invoke(
        self, name: str, input: str | None, deployment_name: str | None, input_type: str | None,
        resume: str | None,
    ) -> Job: ...  # fmt: skip

    def invoke(
        self,
        name: str,
        input: PathLike | None = None,
        *,
        deployment_name: str | None = None,
        input_type: str | None = None,
        resume: str | None = None,
        wait: bool = False,
    ) -> Job:
        """Start a batch job scoring `input` — a data asset (`name:version`, `name@latest`), a job
        output (`azureml://jobs/<id>/outputs/<name>`), a local folder or file — with the default
        deployment or `deployment_name`; `resume=JOB_ID` re-runs a crashed job, keeping what it
        finished. With `wait`, returns the ended job (JobNotCompleted unless it completed)."""
        job = self._invoke(name, None if input is None else str(input), deployment_name, input_type, resume)
        return self._jobs().wait(job.id) if wait else job

    @abstractmethod
    def list_jobs(self, name: str, deployment_name: str | None = None) -> builtins.list[Job]:
        """The endpoint's batch jobs, newest first."""

    @abstractmethod
    def _jobs(self) -> Any: ...


class BatchDeploymentOperations(ABC):
    @abstractmethod
    def _create(
        self, data: dict[str, Any], base_dir: Path, source: str, set_default: bool, replace: bool
    ) -> BatchDeployment: ...  # noqa: E501

    def create(
        self, source: PathLike, *, set_default: bool = False, overrides: dict[str, str] | None = None
    ) -> BatchDeployment:
        """A deployment from its YAML (model pinned, code stored, environment resolved); the first
        of an endpoint, or one with `set_default`, becomes its default."""
        return self._from_file(source, overrides, set_default, replace=False)

    def update(
        self,
        endpoint_name: str,
        name: str,
        changes: dict[str, str] | None = None,
        *,
        source: PathLike | None = None,
        set_default: bool = False,
    ) -> BatchDeployment:
        """`changes` are Azure's `--set` pairs (`mini_batch_size=20`, `resources.instance_count=2`);
        `source` a YAML file replacing the whole deployment (a new model, code or environment)."""
        if source is not None:
            return self._from_file(source, changes, set_default, replace=True, expected=(endpoint_name, name))
        updated = self._update(endpoint_name, name, changes or {})
        if set_default:
            self._set_default(endpoint_name, name)
            updated = self.get(endpoint_name, name)
        return updated

    def _from_file(
        self,
        source: PathLike,
        overrides: dict[str, str] | None,
        set_default: bool,
        replace: bool,
        expected: tuple[str, str] | None = None,
    ) -> BatchDeployment:
        from mlyard.entities.specs.overrides import apply_override
        from mlyard.errors import InvalidArgument

        path = Path(source)
        data = load_yaml(path)
        for key, value in (overrides or {}).items():
            apply_override(data, key, value, str(path))
        spec = batch_deployment_from_dict(data, str(path))  # checked here: errors name this file
        if expected is not None and (spec.endpoint_name, spec.name) != expected:
            raise InvalidArgument(
                f"{path}: describes deployment {spec.endpoint_name}/{spec.name}, not {'/'.join(expected)}"
            )
        return self._create(data, path.resolve().parent, str(path), set_default, replace)

    @abstractmethod
    def _update(self, endpoint_name: str, name: str, changes: dict[str, str]) -> BatchDeployment: ...

    @abstractmethod
    def _set_default(self, endpoint_name: str, name: str) -> None: ...

    @abstractmethod
    def get(self, endpoint_name: str, name: str) -> BatchDeployment: ...

    @abstractmethod
    def list(self, endpoint_name: str) -> builtins.list[BatchDeployment]: ...

    @abstractmethod
    def delete(self, endpoint_name: str, name: str) -> None:
        """Conflict for the default deployment while others remain."""

    @abstractmethod
    def list_jobs(self, endpoint_name: str, name: str) -> builtins.list[Job]: ...


class LocalBatchEndpointOperations(BatchEndpointOperations):
    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def create(
        self,
        source: PathLike | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> BatchEndpoint:
        data, where = endpoint_spec(source, name, description, tags)
        return service.create_endpoint(self._workspace, batch_endpoint_from_dict(data, where))

    def get(self, name: str) -> BatchEndpoint:
        return service.get_endpoint(self._workspace, name)

    def list(self) -> builtins.list[BatchEndpoint]:
        return service.list_endpoints(self._workspace)

    def update(self, name: str, changes: dict[str, str]) -> BatchEndpoint:
        return service.update_endpoint(self._workspace, name, changes)

    def delete(self, name: str) -> None:
        service.delete_endpoint(self._workspace, name)

    def _invoke(
        self, name: str, input: str | None, deployment_name: str | None, input_type: str | None,
        resume: str | None,
    ) -> Job:  # fmt: skip
        from mlyard.runtime.runner_process import PendingRunner

        with PendingRunner(self._workspace.path) as runner:  # starts while the job is checked and recorded
            job = batch_jobs.submit_batch_job(
                self._workspace, name, input, Path.cwd(), deployment_name, input_type, resume
            )
            runner.assign(self._workspace, job.id)
        return job

    def list_jobs(self, name: str, deployment_name: str | None = None) -> builtins.list[Job]:
        return batch_jobs.list_batch_jobs(self._workspace, name, deployment_name)

    def _jobs(self) -> Any:
        from mlyard.client.jobs import LocalJobOperations

        return LocalJobOperations(self._workspace)


class LocalBatchDeploymentOperations(BatchDeploymentOperations):
    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def _create(
        self, data: dict[str, Any], base_dir: Path, source: str, set_default: bool, replace: bool
    ) -> BatchDeployment:
        spec = batch_deployment_from_dict(data, source)
        return service.create_deployment(self._workspace, spec, base_dir, source, set_default, replace)

    def _update(self, endpoint_name: str, name: str, changes: dict[str, str]) -> BatchDeployment:
        return service.update_deployment(self._workspace, endpoint_name, name, changes)

    def _set_default(self, endpoint_name: str, name: str) -> None:
        service.update_endpoint(self._workspace, endpoint_name, {"defaults.deployment_name": name})

    def get(self, endpoint_name: str, name: str) -> BatchDeployment:
        return service.get_deployment(self._workspace, endpoint_name, name)

    def list(self, endpoint_name: str) -> builtins.list[BatchDeployment]:
        return service.list_deployments(self._workspace, endpoint_name)

    def delete(self, endpoint_name: str, name: str) -> None:
        service.delete_deployment(self._workspace, endpoint_name, name)

    def list_jobs(self, endpoint_name: str, name: str) -> builtins.list[Job]:
        return batch_jobs.list_batch_jobs(self._workspace, endpoint_name, name)
