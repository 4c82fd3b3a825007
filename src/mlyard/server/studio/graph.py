"""A pipeline job as a graph for the studio: its steps (child jobs) with status, duration and
"reused from" marks, and the edges its `${{parent.jobs.<step>.outputs.<name>}}` bindings draw."""

from __future__ import annotations

from typing import Any

from mlyard.entities.jobs.job import Job
from mlyard.entities.jobs.pipeline_bindings import bound_to


def pipeline_graph(spec: dict[str, Any], steps: list[Job]) -> dict[str, Any]:
    """`{"nodes": [...], "edges": [[from, to], ...]}`, nodes named as the spec names its steps."""
    declared: dict[str, Any] = spec.get("jobs") or {}
    by_label = {job.display_name: job for job in steps}  # a retried step's last attempt wins
    nodes, edges = [], []
    for name, step in declared.items():
        step = step if isinstance(step, dict) else {}
        job = by_label.get(step.get("display_name") or name)
        nodes.append(
            {
                "id": name,
                "job_id": job.id if job else None,
                "status": job.status.value if job else "NotStarted",
                "reused_from": job.reused_from if job else None,
                "start": job.start_time.isoformat() if job and job.start_time else None,
                "end": job.end_time.isoformat() if job and job.end_time else None,
            }
        )
        for value in (step.get("inputs") or {}).values():
            binding = bound_to(value.get("path") if isinstance(value, dict) else value)
            if binding is not None and binding.kind == "step_output" and binding.step in declared:
                edge = [binding.step, name]
                if edge not in edges:
                    edges.append(edge)
    return {"nodes": nodes, "edges": edges}
