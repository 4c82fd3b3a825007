"""What a deployment refers to, pinned: its model version, resolved environment and stored code.

`resolve_references` does it for a whole spec (create, or update from a file); `with_overrides`
for `--set FIELD=VALUE` on the current deployment, re-resolving only what an override touches.
A missing model, file or environment is an error naming the spec and field, raised before
anything is written. `confined` (a spec sent to a server) keeps code and model folders inside
the files the client uploaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from mlyard.entities.endpoints.endpoint import CodeReference, ModelReference, OnlineDeployment
from mlyard.entities.endpoints.endpoint_spec import DeploymentSettings, InlineModel, OnlineDeploymentSpec
from mlyard.entities.registry.model import ModelVersion
from mlyard.entities.specs.spec_files import validate_spec
from mlyard.errors import InvalidArgument, InvalidSpec, MlyardError, NotFound
from mlyard.services.assets.code_snapshots import resolve_code, store_code
from mlyard.services.model_registry import models
from mlyard.services.registries.resolution import find_model
from mlyard.services.submission.references import resolve_environment
from mlyard.services.workspaces.workspace import Workspace


class Resolved(BaseModel):
    """A deployment's pinned references, as stored in its row's `spec`."""

    model: ModelReference | None = None
    environment: dict[str, Any] | None = None
    environment_ref: str | None = None
    code: CodeReference | None = None


def resolve_references(
    workspace: Workspace,
    spec: OnlineDeploymentSpec,
    base_dir: Path,
    source: str,
    endpoint: str,
    confined: Path | None,
) -> Resolved:
    """The model pinned, the environment resolved, the code stored; errors name the file and field."""
    if spec.model is None and spec.code_configuration is None:
        raise InvalidSpec(
            f"{source}: model: required (azureml:NAME:VERSION, NAME@latest or NAME@ALIAS), unless a "
            "code_configuration's scoring script loads the model itself"
        )
    model = _resolve_model(
        workspace, spec.model, base_dir, f"{source}: model", f"{endpoint}-{spec.name}", confined
    )
    environment, environment_ref = resolve_environment(workspace, spec.environment, base_dir, source)
    code = None
    if spec.code_configuration is not None:
        code = _store_code(workspace, spec.code_configuration.code, spec.code_configuration.scoring_script,
                           base_dir, f"{source}: code_configuration", confined)  # fmt: skip
    return Resolved(model=model, environment=environment, environment_ref=environment_ref, code=code)


def _resolve_model(
    workspace: Workspace,
    given: str | InlineModel | None,
    base_dir: Path,
    where: str,
    default_name: str,
    confined: Path | None,
) -> ModelReference | None:
    if given is None:
        return None
    version: ModelVersion
    try:
        if isinstance(given, InlineModel):
            path = (
                _confined(confined, base_dir, given.path, f"{where}.path")
                if confined is not None
                else Path(given.path).expanduser()
            )
            version = models.register_model_folder(
                workspace, given.name or default_name, path if path.is_absolute() else base_dir / path,
                models.flavor_for_type(given.type), given.version, given.description,
            )  # fmt: skip
        else:
            version = find_model(workspace, given)
    except MlyardError as exc:
        raise type(exc)(f"{where}: {exc.message}") from None
    return ModelReference(
        name=version.name, version=version.version, content_hash=version.content_hash,
        folder_name=version.folder_name,
    )  # fmt: skip


def _store_code(
    workspace: Workspace, code: str, script: str, base_dir: Path, where: str, confined: Path | None
) -> CodeReference:
    if confined is not None:
        code = str(_confined(confined, base_dir, code, f"{where}.code"))
    folder, digest = resolve_code(code, base_dir, f"{where}.code")
    assert folder is not None and digest is not None
    root = Path(folder)
    if not (root / script if root.is_dir() else root.parent / script).is_file():
        raise NotFound(f"{where}.scoring_script: {script} is not in {folder}")
    return CodeReference(
        artifact_path=store_code(workspace, root, digest), code_hash=digest, scoring_script=script
    )


def _confined(root: Path, base_dir: Path, given: str, where: str) -> Path:
    """`given` (relative to `base_dir`) inside `root`, the uploaded files, or `InvalidSpec`: a
    server reads no other folder of its own."""
    root = root.resolve()
    path = (base_dir / Path(given).expanduser()).resolve()
    if path != root and root not in path.parents:
        raise InvalidSpec(
            f"{where}: {given} is outside the files sent with the spec; give a path below its folder"
        )
    return path


def with_overrides(
    workspace: Workspace,
    current: OnlineDeployment,
    overrides: dict[str, str],
    base_dir: Path,
    confined: Path | None,
) -> tuple[Resolved, DeploymentSettings]:
    """`--set instance_count=2 request_settings.request_timeout_ms=900 model=azureml:m:3` on `current`."""
    from mlyard.entities.specs.overrides import apply_override

    if not overrides:
        raise InvalidArgument("nothing to update: give --file or --set FIELD=VALUE")
    data: dict[str, Any] = current.settings.model_dump(mode="json", exclude_none=True)
    for key, value in overrides.items():
        if key.split(".")[0] in ("name", "endpoint_name"):
            raise InvalidArgument(f"--set {key}: a deployment's name and endpoint cannot change")
        apply_override(data, key, value, "--set")
    touched = {key.split(".")[0] for key in overrides}
    resolved = Resolved(model=current.model, environment=current.environment,
                        environment_ref=current.environment_ref, code=current.code)  # fmt: skip
    if "model" in touched:
        resolved.model = _resolve_model(
            workspace, str(data.pop("model")), base_dir, "--set model", "", confined
        )
    if "environment" in touched:
        resolved.environment, resolved.environment_ref = resolve_environment(
            workspace, data.pop("environment"), base_dir, "--set"
        )
    if "code_configuration" in touched:
        given = data.pop("code_configuration")
        if not isinstance(given, dict):
            raise InvalidArgument(
                "--set code_configuration.code=PATH and/or code_configuration.scoring_script=FILE"
            )
        code = given.get("code")
        script = given.get("scoring_script") or (current.code.scoring_script if current.code else None)
        if script is None or (code is None and current.code is None):
            raise InvalidArgument("--set: a new code_configuration needs both code and scoring_script")
        if code is not None:
            resolved.code = _store_code(
                workspace, str(code), str(script), base_dir, "--set code_configuration", confined
            )
        else:
            assert current.code is not None
            resolved.code = current.code.model_copy(update={"scoring_script": str(script)})
    return resolved, validate_spec(DeploymentSettings, data, "--set", unknown_fields="refuse")
