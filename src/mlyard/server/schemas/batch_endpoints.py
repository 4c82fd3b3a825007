"""Bodies of the batch endpoint routes: create from a YAML mapping, `--set` updates, invoke."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from mlyard.entities.endpoints.batch_endpoint import BatchDeployment, BatchEndpoint
from mlyard.entities.jobs.job import Job
from mlyard.server.schemas.common import Request


class EndpointCreate(Request):
    spec: dict[str, Any] = Field(description="the endpoint's YAML, as a mapping")
    source: str = Field(default="batch endpoint", description="the file name errors mention")


class DeploymentCreate(Request):
    spec: dict[str, Any] = Field(description="the deployment's YAML, as a mapping")
    upload: str | None = Field(default=None, description="staged files the spec names (its code)")
    base: str = Field(default="", description="the spec's folder inside the upload")
    source: str = "batch deployment"
    set_default: bool = False
    replace: bool = Field(default=False, description="update the existing deployment from this spec")


class SetFields(Request):
    set: dict[str, str] = Field(description="Azure's --set pairs, e.g. defaults.deployment_name")


class InvokeRequest(Request):
    input: str | None = Field(default=None, description="name:version, name@latest, or a path in the upload")
    input_type: str | None = Field(default=None, description="uri_file | uri_folder | mltable")
    deployment_name: str | None = None
    upload: str | None = Field(default=None, description="a staged local file or folder to score")
    resume: str | None = Field(
        default=None, description="a crashed batch job to re-run, keeping what it finished"
    )


class EndpointList(BaseModel):
    value: list[BatchEndpoint]


class DeploymentList(BaseModel):
    value: list[BatchDeployment]


class BatchJobList(BaseModel):
    value: list[Job]
