"""Lineage and comparison of model versions, and the champion/challenger rule (`is_better`).

A version's lineage is the job that produced it: its experiment, params, metrics, and the data
asset versions it read. `is_better` compares a candidate (a job, or a model version) with the
version behind an alias by one metric of their jobs; with no champion yet, the candidate wins.
A data asset version's lineage runs the other way: the jobs that read it, and the model versions
those jobs (or their steps and trials) produced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from mlyard.entities.jobs.job import Job
from mlyard.entities.registry.data import DataAsset
from mlyard.entities.registry.model import Comparison, ModelLineage, ModelVersion
from mlyard.errors import InvalidArgument, NotFound
from mlyard.services.data_assets.data import get_data_asset
from mlyard.services.model_registry.models import get_model_version, list_model_versions
from mlyard.services.tracking import jobs as job_service
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import jobs as job_rows
from mlyard.store import models as model_rows

Goal = Literal["minimize", "maximize"]


def lineage(workspace: Workspace, ref: str) -> ModelLineage:
    model = get_model_version(workspace, ref)
    if model.job_id is None:
        return ModelLineage(model=model)
    with workspace.database.read() as session:
        jobs = job_rows.load_jobs(session, [model.job_id])
    if not jobs:
        return ModelLineage(model=model, job_id=model.job_id)
    job = jobs[0]
    data = []
    for edge in job.inputs:
        if edge.kind == "data":
            try:
                data.append(get_data_asset(workspace, f"{edge.name}:{edge.version}"))
            except NotFound:
                continue
    return ModelLineage(
        model=model,
        job_id=job.id,
        experiment=job.experiment,
        params=job.params,
        metrics=job.metrics,
        inputs=job.inputs,
        data=data,
    )


@dataclass(frozen=True)
class DataLineage:
    """What a data asset version fed: the jobs that read it and the models they produced."""

    asset: DataAsset
    jobs: list[Job]
    models: list[ModelVersion]


def data_lineage(workspace: Workspace, ref: str) -> DataLineage:
    asset = get_data_asset(workspace, ref)
    readers = job_service.jobs_that_read(workspace, "data", asset.name, asset.version)
    with workspace.database.read() as session:
        produced = model_rows.versions_from_jobs(session, [job.id for job in readers])
    return DataLineage(asset, readers, produced)


def compare(
    workspace: Workspace, name: str, versions_wanted: Sequence[str] | None = None
) -> list[ModelLineage]:
    """Lineage of several versions side by side (all non-archived versions when none given)."""
    wanted = (
        list(versions_wanted)
        if versions_wanted
        else [m.version for m in reversed(list_model_versions(workspace, name))]
    )
    return [lineage(workspace, f"{name}:{v}") for v in wanted]


def is_better(
    workspace: Workspace,
    candidate: str,
    than: str = "production",
    metric: str = "mse",
    goal: Goal = "minimize",
    name: str | None = None,
) -> Comparison:
    """Champion/challenger: does `candidate` (a job id or model reference) beat `than`?

    `than` is a model reference (`name@production`, `name:3`) or a bare alias with `name` given
    or taken from a model-reference candidate. With no champion yet the candidate wins.
    """
    if goal not in ("minimize", "maximize"):
        raise InvalidArgument(f"goal must be 'minimize' or 'maximize', got {goal!r}")
    candidate_value, candidate_label, candidate_model = _candidate_metric(workspace, candidate, metric)
    champion_ref = _champion_ref(than, name or (candidate_model.name if candidate_model else None))

    def verdict(better: bool, champion: str | None, champion_value: float | None, reason: str) -> Comparison:
        return Comparison(
            better=better, metric=metric, goal=goal, candidate=candidate_label,
            candidate_value=candidate_value, champion=champion, champion_value=champion_value,
            reason=reason,
        )  # fmt: skip

    try:
        champion = get_model_version(workspace, champion_ref)
    except NotFound:
        return verdict(True, None, None, f"no {champion_ref} model yet: {candidate_label} wins by default")
    if candidate_model is not None and candidate_model.ref == champion.ref:
        return verdict(False, champion.ref, candidate_value, f"{candidate_label} already is {champion_ref}")
    champion_value = _model_metric(workspace, champion, metric)
    champion_label = f"{champion_ref} ({champion.ref})"
    if champion_value is None:
        reason = f"{champion_label} has no {metric} recorded: {candidate_label} wins"
        return verdict(True, champion.ref, None, reason)
    better = candidate_value < champion_value if goal == "minimize" else candidate_value > champion_value
    relation = ("<" if better else "≥") if goal == "minimize" else (">" if better else "≤")
    reason = (
        f"{'better' if better else 'not better'}: {candidate_label} {metric} {candidate_value:.6g} "
        f"{relation} {champion_label} {champion_value:.6g}"
    )
    return verdict(better, champion.ref, champion_value, reason)


def _champion_ref(than: str, name: str | None) -> str:
    if "@" in than or ":" in than:
        return than
    if name is None:
        raise InvalidArgument(
            f"than={than!r} names an alias but no model: pass name='MODEL' or than='MODEL@{than}'"
        )
    return f"{name}@{than}"


def _candidate_metric(
    workspace: Workspace, candidate: str, metric: str
) -> tuple[float, str, ModelVersion | None]:
    if "@" in candidate or ":" in candidate:
        model = get_model_version(workspace, candidate)
        value = _model_metric(workspace, model, metric)
        if value is None:
            raise InvalidArgument(f"candidate model {model.ref} has no {metric!r} metric on its run")
        return value, model.ref, model
    job = job_service.get_job(workspace, candidate)
    if metric not in job.metrics:
        raise InvalidArgument(
            f"candidate job {job.id} has no metric {metric!r}; log it before comparing "
            f"(it has: {', '.join(sorted(job.metrics)) or 'none'})"
        )
    return job.metrics[metric], f"job {job.id}", None


def _model_metric(workspace: Workspace, model: ModelVersion, metric: str) -> float | None:
    if model.job_id is None:
        return None
    job = job_service.get_job(workspace, model.job_id)
    return job.metrics.get(metric)
