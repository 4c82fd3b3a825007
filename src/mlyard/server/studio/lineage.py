"""A model's lineage as a graph for the studio: the data asset versions its runs read → the runs →
its versions → the online deployments serving them (drawn with dagre, like the pipeline graph)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from mlyard.entities.endpoints.endpoint import OnlineDeployment
from mlyard.entities.registry.model import ModelLineage


def model_lineage_graph(
    lineages: list[ModelLineage],
    deployments: list[OnlineDeployment],
    traffic: dict[str, dict[str, int]],
    url: Callable[[str], str],
) -> dict[str, Any]:
    """`{"nodes": [...], "edges": [[from, to], ...]}`; each node has a kind (data, job, model,
    deployment), a label, a detail line and the studio page it links to. `traffic`: each
    endpoint's split, to show the share each deployment serves."""
    nodes: dict[str, dict[str, Any]] = {}
    edges: list[list[str]] = []

    def node(node_id: str, kind: str, label: str, detail: str, href: str | None) -> str:
        nodes.setdefault(
            node_id, {"id": node_id, "kind": kind, "label": label, "detail": detail, "href": href}
        )
        return node_id

    def edge(source: str, target: str) -> None:
        if [source, target] not in edges:
            edges.append([source, target])

    for lineage in lineages:
        model = lineage.model
        aliases = " ".join(f"@{alias}" for alias in model.aliases)
        model_node = node(f"model:{model.ref}", "model", model.ref, aliases or model.flavor, None)
        if lineage.job_id is None:
            continue
        job_node = node(
            f"job:{lineage.job_id}", "job", lineage.experiment or "run", lineage.job_id,
            url(f"/jobs/{quote(lineage.job_id, safe='')}"),
        )  # fmt: skip
        edge(job_node, model_node)
        for asset in lineage.data:
            ref = f"{asset.name}:{asset.version}"
            data_node = node(
                f"data:{ref}", "data", ref, asset.type.value,
                url(f"/data/{quote(asset.name, safe='')}/versions/{quote(asset.version, safe='')}"),
            )  # fmt: skip
            edge(data_node, job_node)
    for deployment in deployments:
        if deployment.model is None:
            continue
        share = traffic.get(deployment.endpoint_name, {}).get(deployment.name, 0)
        served = node(
            f"deployment:{deployment.endpoint_name}/{deployment.name}", "deployment",
            f"{deployment.endpoint_name}/{deployment.name}",
            f"{share} % traffic · {deployment.provisioning_state.value}",
            url(f"/endpoints/online/{quote(deployment.endpoint_name, safe='')}"),
        )  # fmt: skip
        model_node = node(f"model:{deployment.model.ref}", "model", deployment.model.ref, "", None)
        edge(model_node, served)
    return {"nodes": list(nodes.values()), "edges": edges}
