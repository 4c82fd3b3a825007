"""What a scoring script finds in `AZUREML_MODEL_DIR`: Azure ML's layout of a registered model.

Azure mounts a folder model under its own name — a model registered from `path: ../x/model/` is
read as `$AZUREML_MODEL_DIR/model/<file>` — and a single-file model as `$AZUREML_MODEL_DIR/<file>`.
Azure's own `score.py` files rely on it, so online and batch deployments with a scoring script
give them the same. mlyard's flavors load the stored folder itself; versions registered before
mlyard recorded the folder's name (`ModelVersion.folder_name`) keep the flat layout they had.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from mlyard.entities.registry.model import ModelVersion


def scoring_model_dir(model: ModelVersion, files: Path, mount: Path) -> Path:
    """The folder to name in `AZUREML_MODEL_DIR` for `model`, whose stored files are in `files`:
    `mount` holding them under the registered folder's name, or `files` itself (a single-file
    model, a flavor's folder, a version registered before the name was recorded)."""
    if model.folder_name is None:
        return files
    mount.mkdir(parents=True, exist_ok=True)
    entry = mount / model.folder_name
    # A link, not a copy: a model may be large, and its stored files are never changed.
    with contextlib.suppress(FileExistsError):  # laid out already (an earlier instance, a retry)
        entry.symlink_to(files.resolve(), target_is_directory=True)
    return mount
