import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


@pytest.fixture
def sample() -> Path:
    return ROOT / "data" / "sample" / "@{ prefix }@.csv"


@pytest.fixture(autouse=True)
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests run here, never against the server the CI job may name."""
    for name in ("MLYARD_URL", "MLYARD_KEY", "MLYARD_WORKSPACE", "MLYARD_WORKSPACE_NAME"):
        monkeypatch.delenv(name, raising=False)
