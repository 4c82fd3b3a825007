"""An in-process API client over a workspace on each backend (FastAPI's TestClient, the real app)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.server import TEST_BODY_LIMIT


@pytest.fixture
def app(workspace_path: Path) -> FastAPI:
    from mlyard.server.app import create_app
    from mlyard.server.config import ServerConfig, WorkspaceLocation

    config = ServerConfig({"default": WorkspaceLocation(workspace_path)}, max_body_bytes=TEST_BODY_LIMIT)
    return create_app(config)


@pytest.fixture
def api(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client
