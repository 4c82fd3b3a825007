"""`client.data` and `client.models` over a team server: folders go up through the server's
staging area, downloads land in a local cache kept by content hash."""

from __future__ import annotations

import builtins
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mlyard.client.data import DataOperations
from mlyard.client.models import ModelOperations, candidate_id
from mlyard.client.remote.session import RemoteSession
from mlyard.client.run_buffer import flush_pending
from mlyard.entities.governance.validation import CheckRecord, CheckReport
from mlyard.entities.registry.data import DataAsset, DataType
from mlyard.entities.registry.model import Comparison, Model, ModelLineage, ModelRegistration, ModelVersion
from mlyard.entities.registry.promotion import PromotionRequest
from mlyard.entities.specs.names import parse_ref
from mlyard.errors import NotFound
from mlyard.services.data_assets.data import Registration
from mlyard.services.workspaces.downloads import download_version


def _version_path(kind: str, ref: str) -> str:
    """`data/{name}/versions/{v}` or `…/labels/latest` for data; models also take `@alias`."""
    parsed = parse_ref(ref)
    name = quote(parsed.name, safe="")
    if parsed.version is not None:
        return f"{kind}/{name}/versions/{quote(parsed.version, safe='')}"
    alias = parsed.alias or "latest"
    return f"{kind}/{name}/{'labels' if kind == 'data' else 'aliases'}/{quote(alias, safe='')}"


class RemoteDataOperations(DataOperations):
    def __init__(self, session: RemoteSession) -> None:
        self._session = session

    def create(
        self,
        name: str,
        path: str | os.PathLike[str],
        type: DataType | str = DataType.URI_FILE,
        version: str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> Registration:
        source = Path(path).expanduser()
        if not source.exists():
            raise NotFound(f"data path {source} does not exist")
        upload, staged = self._session.upload_path(source)
        body = {
            "upload": upload, "path": staged, "type": type.value if isinstance(type, DataType) else str(type),
            "version": version, "description": description, "tags": tags or {},
        }  # fmt: skip
        found = self._session.post_json(f"data/{quote(name, safe='')}/versions", body)
        return Registration(DataAsset.model_validate(found["asset"]), bool(found["created"]))

    def get(self, ref: str) -> DataAsset:
        return DataAsset.model_validate(self._session.get_json(_version_path("data", ref)))

    def list(self, name: str | None = None) -> builtins.list[DataAsset]:
        path = f"data/{quote(name, safe='')}/versions" if name else "data"
        return [DataAsset.model_validate(item) for item in self._session.get_json(path)["value"]]

    def local_path(self, ref: str) -> Path:
        asset = self.get(ref)
        folder = self._session.cached_download(asset.artifact_path, asset.content_hash, "data")
        if asset.type == DataType.URI_FILE:
            files = sorted(p for p in folder.rglob("*") if p.is_file())
            if len(files) == 1:
                return files[0]
        return folder

    def download(
        self, ref: str, download_path: str | os.PathLike[str] = ".", overwrite: bool = False
    ) -> Path:
        asset = self.get(ref)
        return download_version(
            download_path, asset.name, asset.version, overwrite,
            lambda folder: self._session.download(asset.artifact_path, folder),
        )  # fmt: skip


class RemoteModelOperations(ModelOperations):
    def __init__(self, session: RemoteSession) -> None:
        self._session = session

    def create(
        self,
        name: str,
        path: str | os.PathLike[str],
        type: str = "custom_model",
        version: str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
        job_id: str | None = None,
    ) -> ModelRegistration:
        source = Path(path).expanduser()
        if not source.exists():
            raise NotFound(f"model path {source} does not exist")
        upload, staged = self._session.upload_path(source)
        body = {
            "upload": upload, "path": staged, "type": type, "version": version, "description": description,
            "tags": tags or {}, "properties": properties or {}, "job_id": job_id,
        }  # fmt: skip
        return ModelRegistration.model_validate(
            self._session.post_json(f"models/{quote(name, safe='')}/versions", body)
        )

    def get(self, ref: str) -> ModelVersion:
        return ModelVersion.model_validate(self._session.get_json(_version_path("models", ref)))

    def list(
        self,
        name: str | None = None,
        tags: dict[str, str] | None = None,
        include_archived: bool = False,
    ) -> builtins.list[Model] | builtins.list[ModelVersion]:
        tag_filter = [f"{k}={v}" for k, v in (tags or {}).items()] or None
        if name is None:
            found = self._session.get_json("models", tag=tag_filter)
            return [Model.model_validate(item) for item in found["value"]]
        found = self._session.get_json(
            f"models/{quote(name, safe='')}/versions",
            include_archived=str(include_archived).lower(),
            tag=tag_filter,
        )
        return [ModelVersion.model_validate(item) for item in found["value"]]

    def aliases(self, name: str) -> dict[str, str]:
        found: dict[str, str] = self._session.get_json(f"models/{quote(name, safe='')}/aliases")["aliases"]
        return found

    def set_alias(self, name: str, alias: str, version: str | int) -> str | None:
        response = self._session.request(
            "PUT",
            f"models/{quote(name, safe='')}/aliases/{quote(alias, safe='')}",
            json={"version": str(version)},
        )
        previous = response.json().get("previous")
        return str(previous) if previous is not None else None

    def delete_alias(self, name: str, alias: str) -> None:
        self._session.request("DELETE", f"models/{quote(name, safe='')}/aliases/{quote(alias, safe='')}")

    def _pinned(self, ref: str) -> str:
        """The `models/{name}/versions/{v}` path of `ref`, resolving an alias first."""
        if parse_ref(ref).version is None:
            model = self.get(ref)
            return f"models/{quote(model.name, safe='')}/versions/{quote(model.version, safe='')}"
        return _version_path("models", ref)

    def share(
        self,
        name: str,
        version: str | int,
        registry_name: str,
        share_with_name: str | None = None,
        share_with_version: str | int | None = None,
    ) -> ModelRegistration:
        body = {
            "registry_name": registry_name, "share_with_name": share_with_name,
            "share_with_version": None if share_with_version is None else str(share_with_version),
        }  # fmt: skip
        path = _version_path("models", f"{name}:{version}")
        return ModelRegistration.model_validate(self._session.post_json(f"{path}/share", body))

    def archive(self, ref: str) -> ModelVersion:
        return ModelVersion.model_validate(self._session.post_json(f"{self._pinned(ref)}/archive"))

    def restore(self, ref: str) -> ModelVersion:
        return ModelVersion.model_validate(self._session.post_json(f"{self._pinned(ref)}/restore"))

    def lineage(self, ref: str) -> ModelLineage:
        flush_pending()
        return ModelLineage.model_validate(self._session.get_json(f"{self._pinned(ref)}/lineage"))

    def compare(self, name: str, versions: Sequence[str | int] | None = None) -> builtins.list[ModelLineage]:
        flush_pending()
        chosen = ",".join(str(v) for v in versions) if versions else None
        found = self._session.get_json(f"models/{quote(name, safe='')}/compare", versions=chosen)
        return [ModelLineage.model_validate(item) for item in found["value"]]

    def is_better(
        self,
        candidate: Any,
        than: str = "production",
        metric: str = "mse",
        goal: str = "minimize",
        name: str | None = None,
    ) -> Comparison:
        flush_pending()
        body = {
            "candidate": candidate_id(candidate),
            "than": than,
            "metric": metric,
            "goal": goal,
            "name": name,
        }
        return Comparison.model_validate(self._session.post_json("models/is-better", body))

    def local_path(self, ref: str) -> Path:
        model = self.get(ref)
        return self._session.cached_download(model.artifact_path, model.content_hash, "models")

    def download(
        self, ref: str, download_path: str | os.PathLike[str] = ".", overwrite: bool = False
    ) -> Path:
        model = self.get(ref)
        return download_version(
            download_path, model.name, model.version, overwrite,
            lambda folder: self._session.download(model.artifact_path, folder),
        )  # fmt: skip

    def promote(
        self, name: str, version: str | int, to: str = "production", reason: str = ""
    ) -> PromotionRequest:
        body = {"version": str(version), "alias": to, "reason": reason}
        return PromotionRequest.model_validate(
            self._session.post_json(f"models/{quote(name, safe='')}/promotions", body)
        )

    def approve(self, request_id: str, comment: str | None = None) -> PromotionRequest:
        found = self._session.post_json(
            f"promotions/{quote(request_id, safe='')}/approve", {"comment": comment}
        )
        return PromotionRequest.model_validate(found)

    def reject(self, request_id: str, reason: str) -> PromotionRequest:
        found = self._session.post_json(f"promotions/{quote(request_id, safe='')}/reject", {"reason": reason})
        return PromotionRequest.model_validate(found)

    def cancel_promotion(self, request_id: str) -> PromotionRequest:
        return PromotionRequest.model_validate(
            self._session.post_json(f"promotions/{quote(request_id, safe='')}/cancel")
        )

    def promotions(
        self, name: str | None = None, version: str | None = None, state: str | None = None
    ) -> builtins.list[PromotionRequest]:
        found = self._session.get_json("promotions", model=name, version=version, state=state)
        return [PromotionRequest.model_validate(item) for item in found["value"]]

    def get_promotion(self, request_id: str) -> PromotionRequest:
        return PromotionRequest.model_validate(
            self._session.get_json(f"promotions/{quote(request_id, safe='')}")
        )

    def record_check(
        self, report: CheckReport, location: str | None = None, job_id: str | None = None
    ) -> CheckRecord:
        body = {"report": report.model_dump(mode="json"), "location": location, "job_id": job_id}
        return CheckRecord.model_validate(self._session.post_json("check-reports", body))

    def check_reports(
        self, name: str, version: str | None = None, kind: str | None = None
    ) -> builtins.list[CheckRecord]:
        found = self._session.get_json(
            f"models/{quote(name, safe='')}/check-reports", version=version, kind=kind
        )
        return [CheckRecord.model_validate(item) for item in found["value"]]
