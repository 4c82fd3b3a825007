"""One connection to a team server's workspace: requests, errors, uploads and downloads.

Errors come back as the same exceptions a local call raises (`errors.error_from_response`).
Uploads go through the server's staging area (one PUT per file, resumable by offset); downloads
stream file by file and resume an interrupted file with `Range`.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mlyard.entities.specs.spec_warnings import STRICT_HEADER, WARNINGS_HEADER, active_checks, warn_spec
from mlyard.errors import MlyardError, NotFound, StoreError, error_from_response
from mlyard.services.tracking.source_code import is_source_dir, is_source_file, links_out_of

UPLOAD_CHUNK = 64 * 2**20  # large files go up in pieces, each resumable
DOWNLOAD_CHUNK = 2**20
RETRIES = 3  # for transient failures of idempotent requests (connection reset, 502/503)


class RemoteSession:
    """HTTP to `url` as the owner of `key`, in workspace `workspace` (default: the key's own)."""

    def __init__(
        self,
        url: str,
        key: str | None,
        workspace: str | None = None,
        timeout: float = 60.0,
        registry: str | None = None,
    ) -> None:
        import httpx

        if not url.startswith(("http://", "https://")):
            from mlyard.errors import InvalidArgument

            raise InvalidArgument(f"server URL {url!r} must start with http:// or https://")
        self.base_url = url.rstrip("/")
        self.key = key
        headers = {"user-agent": "mlyard-sdk"}
        if key:
            headers["authorization"] = f"Bearer {key}"
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=10.0),
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
        )
        if registry is not None:  # a registry the server serves: its assets, under its own path
            self.workspace = registry
            self.prefix = f"/api/v1/registries/{quote(registry, safe='')}"
            return
        self.workspace = workspace or self._own_workspace()
        self.prefix = f"/api/v1/workspaces/{quote(self.workspace, safe='')}"

    def _own_workspace(self) -> str:
        who = self.request("GET", "/api/v1/whoami").json()
        found = who.get("workspace")
        if not found:
            raise NotFound(
                f"the server at {self.base_url} serves several workspaces; name one with "
                "MLClient(workspace_name=...) or MLYARD_WORKSPACE_NAME"
            )
        return str(found)

    # --- requests ------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """A path under the workspace (`jobs/…`), or absolute on the server (`/healthz`)."""
        if path.startswith("/"):
            return path
        return f"{self.prefix}/{path}" if path else self.prefix

    def request(self, method: str, path: str, **options: Any) -> Any:
        """Send a request and return the httpx response; an error answer raises our exception."""
        import httpx

        # A streamed body (an open file) cannot be sent twice: only whole bodies are retried.
        replayable = isinstance(options.get("content"), bytes | str | None)
        idempotent = method in ("GET", "HEAD", "PUT", "DELETE") and replayable
        options = _asking_for_strict_specs(options)
        for attempt in range(RETRIES if idempotent else 1):
            try:
                response = self._http.request(method, self.url(path), **options)
            except httpx.TransportError as exc:
                if attempt + 1 < (RETRIES if idempotent else 1):
                    time.sleep(0.2 * 2**attempt)
                    continue
                raise StoreError(f"the mlyard server at {self.base_url} is unreachable: {exc}") from exc
            if response.status_code in (502, 503) and idempotent and attempt + 1 < RETRIES:
                time.sleep(0.2 * 2**attempt)
                continue
            _hand_on_spec_warnings(response.headers.get(WARNINGS_HEADER))
            if response.status_code >= 400:
                raise _error(response)
            return response
        raise AssertionError("unreachable")

    def get_json(self, endpoint: str, /, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return self.request("GET", endpoint, params=clean).json()

    def post_json(self, path: str, body: Any = None) -> Any:
        response = self.request("POST", path, json=body if body is not None else {})
        return response.json() if response.content else None

    def close(self) -> None:
        self._http.close()

    # --- uploads -------------------------------------------------------------------------------

    def upload(self, files: dict[str, Path]) -> str:
        """Stage local files (upload path → local file) on the server; returns the upload id.

        The upload records the local folder the paths are relative to, so the server's errors and
        recorded sources name this machine's paths, not its staged copy."""
        upload_id = str(self.post_json("uploads", {"origin": _origin(files)})["id"])
        for relative, local in sorted(files.items()):
            self._upload_file(upload_id, relative, local)
        return upload_id

    def upload_path(self, local: Path, name: str | None = None, source_only: bool = False) -> tuple[str, str]:
        """Stage a file or folder; returns (upload id, its path there). `source_only` leaves out
        virtual environments, caches and VCS folders (for code)."""
        if not local.exists():
            raise NotFound(f"{local} does not exist")
        target = name or local.name
        return self.upload(dict(tree_files(local, target, source_only))), target

    def _upload_file(self, upload_id: str, relative: str, local: Path) -> None:
        """PUT a file in pieces; after a failed piece, ask the server how much it has and go on."""
        from mlyard.errors import Conflict

        path = f"uploads/{upload_id}/files/{quote(relative)}"
        size = local.stat().st_size
        offset, resumes = 0, 0
        with open(local, "rb") as file:
            while True:
                file.seek(offset)
                piece = file.read(UPLOAD_CHUNK)
                try:
                    self.request("PUT", path, params={"offset": offset}, content=piece)
                except (StoreError, Conflict):
                    resumes += 1
                    if resumes > RETRIES:
                        raise
                    offset = self._uploaded_size(upload_id, relative)  # raises if the server is gone
                    continue
                offset += len(piece)
                if offset >= size:
                    return

    def _uploaded_size(self, upload_id: str, relative: str) -> int:
        files = self.get_json(f"uploads/{upload_id}")["files"]
        return next((int(f["size"]) for f in files if f["path"] == relative), 0)

    # --- downloads -----------------------------------------------------------------------------

    def list_artifacts(self, prefix: str) -> list[dict[str, Any]]:
        listing: list[dict[str, Any]] = self.get_json("artifacts", path=prefix, recursive="true")["value"]
        return listing

    def download(self, prefix: str, destination: Path) -> Path:
        """The stored file or folder at `prefix` into `destination` (a folder becomes it)."""
        entries = [e for e in self.list_artifacts(prefix) if not e["is_dir"]]
        if not entries:
            raise NotFound(f"nothing is stored at {prefix} on the server")
        if len(entries) == 1 and entries[0]["path"] == prefix:  # a single file
            target = destination / prefix.rsplit("/", 1)[-1] if destination.is_dir() else destination
            self.download_file(prefix, target, entries[0]["size"])
            return target
        for entry in entries:
            relative = entry["path"][len(prefix) :].lstrip("/")
            self.download_file(entry["path"], destination / relative, entry["size"])
        return destination

    def download_file(self, artifact_path: str, target: Path, size: int | None = None) -> None:
        """One stored file into `target`, written whole or not at all; resumes with Range."""
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        for attempt in range(RETRIES):
            have = partial.stat().st_size if partial.exists() else 0
            headers = {"range": f"bytes={have}-"} if have else {}
            try:
                with self._http.stream(
                    "GET", self.url(f"artifacts/{quote(artifact_path)}"), headers=headers
                ) as response:
                    if response.status_code >= 400 and response.status_code != 416:
                        response.read()
                        raise _error(response)
                    mode = "ab" if response.status_code == 206 else "wb"
                    with open(partial, mode) as file:
                        for chunk in response.iter_bytes(DOWNLOAD_CHUNK):
                            file.write(chunk)
                break
            except MlyardError:
                raise
            except Exception as exc:  # noqa: BLE001 - a broken transfer resumes from what arrived
                if attempt + 1 == RETRIES:
                    raise StoreError(
                        f"downloading {artifact_path} from {self.base_url} failed: {exc}"
                    ) from exc
                time.sleep(0.2 * 2**attempt)
        if not partial.exists():
            partial.write_bytes(b"")
        if size is not None and partial.stat().st_size != size:
            partial.unlink(missing_ok=True)
            raise StoreError(f"downloading {artifact_path}: got a different size than the server listed")
        os.replace(partial, target)

    def cached_download(self, prefix: str, digest: str, kind: str) -> Path:
        """A local copy of stored content, kept by content hash so it is fetched once per machine."""
        target = cache_root() / kind / digest[:40]
        if target.exists():
            return target
        staging = target.with_name(f".{target.name}.{os.getpid()}.partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        self.download(prefix, staging)
        try:
            staging.rename(target)
        except OSError:  # another process finished the same download first
            shutil.rmtree(staging, ignore_errors=True)
        return target


def cache_root() -> Path:
    """Downloads of remote assets: MLYARD_CACHE, or ~/.cache/mlyard/remote."""
    configured = os.environ.get("MLYARD_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "mlyard" / "remote"


def tree_files(local: Path, name: str, source_only: bool = False) -> Iterator[tuple[str, Path]]:
    """(upload path, local file) for a file, or for every file below a folder (only source files
    with `source_only`). Links to folders are not followed, nor links to files outside the folder:
    only what the folder holds is sent."""
    if local.is_file():
        yield name, local
        return
    for root, dirs, files in os.walk(local):  # does not descend into linked folders
        if source_only:
            dirs[:] = [d for d in dirs if is_source_dir(d)]
        dirs.sort()
        for file_name in sorted(files):
            if source_only and not is_source_file(file_name):
                continue
            path = Path(root) / file_name
            if links_out_of(path, local):
                continue
            yield f"{name}/{path.relative_to(local).as_posix()}", path


def _error(response: Any) -> MlyardError:
    try:
        body = response.json()
    except ValueError:
        body = None
    return error_from_response(response.status_code, body)


def _origin(files: dict[str, Path]) -> str | None:
    """The local folder that upload paths are relative to (`a/b.csv` → `/home/u/data/a/b.csv`:
    `/home/u/data`), or None when the files share none."""
    roots = set()
    for relative, local in files.items():
        absolute = Path(os.path.abspath(local))
        depth = len(Path(relative).parts)
        if absolute.parts[-depth:] != Path(relative).parts:
            return None
        roots.add(absolute.parents[depth - 1])
    return str(roots.pop()) if len(roots) == 1 else None


def _asking_for_strict_specs(options: dict[str, Any]) -> dict[str, Any]:
    """The request's options, with the header that makes the server refuse unknown spec fields
    when this command or block is strict (`--strict`); the server's own setting applies too."""
    checks = active_checks()
    if checks is None or not checks.strict:
        return options
    return {**options, "headers": {**(options.get("headers") or {}), STRICT_HEADER: "1"}}


def _hand_on_spec_warnings(header: str | None) -> None:
    """The server's spec warnings, reported here as if the spec had been read on this machine."""
    if not header:
        return
    try:
        lines = json.loads(header)
    except ValueError:
        return
    for line in lines if isinstance(lines, list) else []:
        warn_spec(str(line))
