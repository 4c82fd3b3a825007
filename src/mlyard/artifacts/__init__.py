"""Where artifact bytes live: a store over a local folder or any fsspec URL, plus content hashes."""

from mlyard.artifacts.hashing import HashResult, hash_path
from mlyard.artifacts.paths import safe_relpath
from mlyard.artifacts.store import ArtifactInfo, ArtifactStore, open_artifact_store

__all__ = [
    "ArtifactInfo",
    "ArtifactStore",
    "HashResult",
    "hash_path",
    "open_artifact_store",
    "safe_relpath",
]
