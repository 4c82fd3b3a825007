"""A job's outputs: stored under `jobs/<id>/outputs/<name>`, hashed, and registered as a data asset
or model version when the output names one (`outputs.model: {type: custom_model, name: churn}`).

The same rule for a job run on this machine and for one a worker elsewhere uploads.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from mlyard.artifacts import hash_path
from mlyard.entities.jobs.job import JobOutputInfo
from mlyard.entities.jobs.job_spec import JobOutput
from mlyard.errors import MlyardError, NotFound
from mlyard.services.data_assets.data import create_data_asset
from mlyard.services.execution import job_runs
from mlyard.services.execution.job_runs import job_output
from mlyard.services.model_registry.models import register_model_folder
from mlyard.services.tracking.job_artifacts import download_job_artifacts
from mlyard.services.tracking.jobs import ensure_job_exists
from mlyard.services.workspaces.workspace import Workspace


def store_output(
    workspace: Workspace, job_id: str, name: str, output: JobOutput, written: Path
) -> JobOutputInfo:
    """Store what the job wrote for output `name` (a folder, or for `uri_file` the file in its
    folder), register it if asked, and record it on the job."""
    folder = written.parent if output.type == "uri_file" else written
    destination = job_runs.output_path(job_id, name)
    if folder.is_dir() and any(folder.iterdir()):
        workspace.artifacts.put_dir(folder, destination)
    digest = hash_path(folder).sha256 if folder.exists() else hash_path_of_nothing()
    info = JobOutputInfo(name=name, type=output.type, artifact_path=destination, content_hash=digest)
    if output.name:
        info = register_output(workspace, job_id, name, output, info, written)
    job_runs.record_output(workspace, job_id, info)
    return info


def hash_path_of_nothing() -> str:
    import hashlib

    return hashlib.sha256(b"").hexdigest()


def register_output(
    workspace: Workspace,
    job_id: str,
    name: str,
    output: JobOutput,
    info: JobOutputInfo,
    path: Path | None = None,
) -> JobOutputInfo:
    """Register a job output as the model or data asset its `name:` (and `version:`) asks for."""
    assert output.name is not None
    where = f"outputs.{name}"
    if path is None:
        with tempfile.TemporaryDirectory(prefix="mlyard-output-") as staging:
            stored = workspace.artifacts.local_path(info.artifact_path)
            if stored is None:
                stored = workspace.artifacts.download(info.artifact_path, Path(staging) / name)
            if output.type == "uri_file":
                files = sorted(p for p in stored.rglob("*") if p.is_file())
                stored = files[0] if len(files) == 1 else stored
            return register_output(workspace, job_id, name, output, info, stored)
    try:
        if output.type in ("custom_model", "mlflow_model"):
            model = register_model_folder(
                workspace, output.name, path, flavor=output.type, version=output.version,
                description=output.description, job_id=job_id,
            )  # fmt: skip
            return info.model_copy(
                update=dict(asset_kind="model", asset_name=model.name, asset_version=model.version)
            )
        if not path.exists():
            raise MlyardError(f"the job wrote nothing to {path}")
        registration = create_data_asset(
            workspace, output.name, path, type=output.type, version=output.version,
            description=output.description, tags={"mlyard.job_id": job_id},
        )  # fmt: skip
    except MlyardError as exc:
        raise type(exc)(f"{where}: registering as {output.name}: {exc.message}") from None
    asset = registration.asset
    return info.model_copy(update=dict(asset_kind="data", asset_name=asset.name, asset_version=asset.version))


def download_job(
    workspace: Workspace,
    job_id: str,
    destination: Path,
    output_name: str | None = None,
    artifact_path: str | None = None,
) -> Path:
    """Fetch what a job left: by default its `logs/`, `outputs/<name>/` and `artifacts/` into
    `destination`; only one output with `output_name`, only artifacts with `artifact_path`."""
    if artifact_path is not None:
        return download_job_artifacts(workspace, job_id, destination, artifact_path)
    ensure_job_exists(workspace, job_id)
    root = f"jobs/{job_id}"
    if output_name is not None:
        output = job_output(workspace, job_id, output_name)
        target = destination / "outputs" / output_name
        if workspace.artifacts.exists(output.artifact_path):
            return workspace.artifacts.download(output.artifact_path, target)
        target.mkdir(parents=True, exist_ok=True)  # the job wrote nothing to it
        return target
    found = False
    for part in ("logs", "outputs", "artifacts"):
        if workspace.artifacts.exists(f"{root}/{part}"):
            workspace.artifacts.download(f"{root}/{part}", destination / part)
            found = True
    if not found:
        raise NotFound(f"job {job_id} has no logs, outputs or artifacts yet")
    return destination
