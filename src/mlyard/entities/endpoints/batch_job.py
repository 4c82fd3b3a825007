"""A batch scoring job (`type: batch`): what `batch-endpoint invoke` records and its runner executes.

Everything is pinned when the job is recorded: the input (a data asset version, or a local path
stored with the job), the model version, the deployment's code and environment and its settings,
so a later change of the deployment does not change a job already queued — and a resumed job
scores exactly what the crashed one was scoring.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from mlyard.entities.endpoints.batch_endpoint import BATCH_OUTPUT, DEFAULT_OUTPUT_FILE
from mlyard.entities.jobs.job_spec import ResolvedInput

BATCH_JOB_TYPE = "batch"
ENDPOINT_TAG = "mlyard.batch_endpoint"
DEPLOYMENT_TAG = "mlyard.batch_deployment"
RESUMED_TAG = "mlyard.resumed_from"
RESULT_TAG = "mlyard.batch_result"  # "complete: …" or "partial: … items failed (rows …)"


class ResolvedBatchJob(BaseModel):
    type: Literal["batch"] = "batch"
    endpoint: str
    deployment: str
    input: ResolvedInput
    model: ResolvedInput
    scoring_script: str | None = None  # None: the model's flavor scores it (no-code)
    code: str | None = None
    code_hash: str | None = None
    code_artifact: str | None = None
    environment: dict[str, Any] | None = None
    environment_ref: str | None = None
    compute: str | None = None
    instance_count: int = 1
    max_concurrency_per_instance: int = 1
    batch_unit: Literal["count", "bytes"] = "count"
    batch_limit: float = 10
    output_action: Literal["append_row", "summary_only"] = "append_row"
    output_file_name: str = DEFAULT_OUTPUT_FILE
    output_name: str = BATCH_OUTPUT
    max_retries: int = 3
    timeout_seconds: int = 30
    error_threshold: int = -1
    logging_level: str = "info"
    environment_variables: dict[str, str] = Field(default_factory=dict)
    resume_from: str | None = None  # a crashed batch job whose finished mini-batches this one keeps

    @property
    def workers(self) -> int:
        return self.instance_count * self.max_concurrency_per_instance
