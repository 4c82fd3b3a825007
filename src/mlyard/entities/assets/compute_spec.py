"""Azure ML's compute YAML (`az ml compute create -f cpu-cluster.yml`), read as a compute target.

    name: cpu-cluster
    type: amlcompute          # Azure's cloud types become local processes here (with a warning);
    size: STANDARD_DS3_v2     # mlyard's own: local, ray (+ address), docker (+ docker | podman)
    min_instances: 0
    max_instances: 4

Azure's samples name clusters like `cpu-cluster` in their jobs' `compute:`; creating one from its
own YAML lets those jobs run unchanged. Sizing and networking fields only the cloud uses are
reported once and ignored. Pure: no file is read here but the YAML itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from mlyard.entities.specs.overrides import apply_override
from mlyard.entities.specs.spec_files import load_yaml, validate_spec
from mlyard.entities.specs.spec_values import without
from mlyard.entities.specs.spec_warnings import warn_spec

# Azure's compute kinds: clusters and machines in the cloud; here their jobs run as local processes.
CLOUD_COMPUTE_TYPES = frozenset(
    {"amlcompute", "computeinstance", "kubernetes", "virtualmachine", "synapsespark", "aks"}
)
# What only a cloud cluster uses: its machines, scaling, network and identity.
CLOUD_FIELDS = (
    "size", "min_instances", "max_instances", "idle_time_before_scale_down", "tier", "location",
    "identity", "ssh_public_access_enabled", "ssh_settings", "admin_username", "admin_password",
    "network_settings", "enable_node_public_ip", "schedules", "create_on_behalf_of",
    "setup_scripts", "resource_id", "namespace", "instance_types",
)  # fmt: skip


class ComputeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    type: str = "local"
    address: str | None = None  # ray: `auto` or `ray://host:10001`; docker: `docker` or `podman`
    description: str | None = None


def load_compute_spec(
    path: Path, overrides: dict[str, str] | None = None, **options: str | None
) -> ComputeSpec:
    """A compute YAML with `--set` pairs and options applied; Azure's cloud types and fields
    are reported (as spec warnings) and mapped to a local target."""
    source = str(path)
    data = load_yaml(path)
    for key, value in (overrides or {}).items():
        apply_override(data, key, value, source)
    data.update({key: value for key, value in options.items() if value is not None})
    return parse_compute(data, source)


def parse_compute(data: dict[str, Any], source: str) -> ComputeSpec:
    """Validate a compute mapping; see `load_compute_spec`."""
    cloud = [key for key in CLOUD_FIELDS if key in data]
    if data.get("tags"):
        cloud.append("tags")
    if cloud:
        warn_spec(f"{source}: {', '.join(cloud)}: used by Azure's cloud compute only; ignored")
    kind = data.get("type")
    if isinstance(kind, str) and kind.lower() in CLOUD_COMPUTE_TYPES:
        warn_spec(
            f"{source}: type: {kind} is Azure's cloud compute; created as local processes on this "
            "machine (type: ray with an address for a Ray cluster)"
        )
        data = {**data, "type": "local"}
    return validate_spec(ComputeSpec, without(data, ("tags", *CLOUD_FIELDS)), source)
