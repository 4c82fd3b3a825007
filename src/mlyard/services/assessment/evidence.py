"""What a workspace holds that says how mature its MLOps is: counts and a few names per concept,
read in one read transaction. No judgement here (that is `maturity.py`); only facts.

Monitors are read from the `monitors` table (a `create_monitor` schedule stores its monitor there
too, so its schedule is not counted as training).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mlyard.services.workspaces.settings import get_settings
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import monitors as monitor_rows
from mlyard.store.tables import (
    ApiKeyRow,
    AuditEventRow,
    BatchDeploymentRow,
    DataAssetRow,
    EnvironmentRow,
    ExperimentRow,
    JobInputRow,
    JobRow,
    LatestMetricRow,
    ModelVersionRow,
    OnlineDeploymentRow,
    PromotionRequestRow,
    ScheduleFiringRow,
    ScheduleRow,
    SubscriptionRow,
)

NAMED = 3  # names shown per criterion: enough to find them, short enough to read
SNAPSHOTS_READ = 1000  # code snapshots are JSON: the newest ones are read, not every job's
# A key acts for automation when its owner or description says so (`mlyard key create --owner
# github-actions`): whole words, so "alice" or "decision" are not CI.
CI_WORDS = frozenset(
    {"ci", "cd", "cicd", "github", "actions", "azure", "pipelines", "devops", "gitlab", "jenkins",
     "automation", "bot", "service", "release"}
)  # fmt: skip
# What releasing a model is, in the audit trail: deployments created or updated, traffic moved,
# an alias set or a promotion approved.
RELEASE_ACTIONS = (
    "deployment.create", "deployment.update", "batch_deployment.create", "batch_deployment.update",
    "endpoint.update", "model.alias.set", "model.promotion.approve",
)  # fmt: skip
RELEASE_EVENT_TYPES = ("ModelRegistered", "ModelAliasMoved", "PromotionDecided", "ModelDeployed")
# The events a monitor raises (mlyard.monitor.alert, mlyard.model.stale).
MONITOR_EVENT_SUFFIXES = ("monitor.alert", "model.stale")


@dataclass
class WorkspaceEvidence:
    tracked_jobs: int = 0  # jobs with at least one metric
    experiments: list[str] = field(default_factory=list)
    submitted_jobs: int = 0  # top-level jobs from a spec (command, pipeline, sweep, parallel)
    pipeline_jobs: int = 0
    reused_steps: int = 0
    code_snapshots: int = 0  # of the newest SNAPSHOTS_READ jobs
    git_commits: list[str] = field(default_factory=list)
    data_versions: int = 0
    data_names: list[str] = field(default_factory=list)
    data_inputs: int = 0  # distinct data asset versions read by jobs
    data_input_names: list[str] = field(default_factory=list)
    environments: int = 0
    model_versions: int = 0
    models_from_jobs: list[str] = field(default_factory=list)  # name:version with a producing job
    models_with_data_lineage: list[str] = field(default_factory=list)  # … whose job read data
    training_schedules: list[str] = field(default_factory=list)  # name (kind)
    schedule_jobs: int = 0  # jobs created by firings
    monitors: list[str] = field(default_factory=list)
    retraining_triggers: list[str] = field(default_factory=list)  # name (event type)
    deployments: list[str] = field(default_factory=list)  # endpoint/deployment (model:version)
    traced_deployments: list[str] = field(default_factory=list)  # … back to a job and its data
    protected_aliases: list[str] = field(default_factory=list)
    approved_promotions: list[str] = field(default_factory=list)  # name:version → alias
    ci_keys: list[str] = field(default_factory=list)  # owners
    ci_releases: list[str] = field(default_factory=list)  # audit actions by a CI key's owner
    ci_changes: int = 0  # every audited change by a CI key's owner
    release_hooks: list[str] = field(default_factory=list)  # webhook subscriptions


def gather_evidence(workspace: Workspace) -> WorkspaceEvidence:
    found = WorkspaceEvidence(protected_aliases=list(get_settings(workspace).protected_aliases))
    with workspace.database.read() as session:
        _runs(session, found)
        _data(session, found)
        _models(session, found)
        _automation(session, found)
        _releases(session, found)
    return found


def _count(session: Session, statement: Any) -> int:
    return int(session.execute(statement).scalar() or 0)


def _runs(session: Session, found: WorkspaceEvidence) -> None:
    tracked = select(LatestMetricRow.job_id).distinct().subquery()
    found.tracked_jobs = _count(session, select(func.count()).select_from(tracked))
    found.experiments = list(
        session.execute(
            select(ExperimentRow.name)
            .join(JobRow, JobRow.experiment_id == ExperimentRow.id)
            .join(tracked, tracked.c.job_id == JobRow.id)
            .group_by(ExperimentRow.name)
            .order_by(func.count().desc())
            .limit(NAMED)
        ).scalars()
    )
    top_level = (JobRow.spec.is_not(None), JobRow.parent_job_id.is_(None))
    found.submitted_jobs = _count(session, select(func.count(JobRow.id)).where(*top_level))
    found.pipeline_jobs = _count(
        session, select(func.count(JobRow.id)).where(*top_level, JobRow.type == "pipeline")
    )
    found.reused_steps = _count(session, select(func.count(JobRow.id)).where(JobRow.reused_from.is_not(None)))
    snapshots = session.execute(
        select(JobRow.code)
        .where(JobRow.code.is_not(None))
        .order_by(JobRow.created_at.desc())
        .limit(SNAPSHOTS_READ)
    ).scalars()
    commits: dict[str, None] = {}
    for code in snapshots:
        found.code_snapshots += 1
        if code and code.get("git_commit"):
            commits[str(code["git_commit"])[:12]] = None
    found.git_commits = list(commits)


def _data(session: Session, found: WorkspaceEvidence) -> None:
    found.data_versions = _count(session, select(func.count(DataAssetRow.id)))
    found.data_names = _names(
        session.execute(select(DataAssetRow.name).distinct().order_by(DataAssetRow.name))
    )
    read = select(JobInputRow.name, JobInputRow.version).where(JobInputRow.kind == "data").distinct()
    pairs = session.execute(read.order_by(JobInputRow.name, JobInputRow.version)).all()
    found.data_inputs = len(pairs)
    found.data_input_names = [f"{name}:{version}" for name, version in pairs[:NAMED]]
    found.environments = _count(session, select(func.count(EnvironmentRow.id)))


def _models(session: Session, found: WorkspaceEvidence) -> None:
    found.model_versions = _count(session, select(func.count(ModelVersionRow.id)))
    produced = session.execute(
        select(ModelVersionRow.name, ModelVersionRow.version, ModelVersionRow.job_id)
        .where(ModelVersionRow.job_id.is_not(None))
        .order_by(ModelVersionRow.created_at.desc())
    ).all()
    found.models_from_jobs = [f"{name}:{version}" for name, version, _ in produced]
    read_data = _jobs_that_read_data(session, [job_id for _, _, job_id in produced if job_id])
    found.models_with_data_lineage = [
        f"{name}:{version}" for name, version, job_id in produced if job_id in read_data
    ]


def _jobs_that_read_data(session: Session, job_ids: Sequence[str]) -> set[str]:
    """Of `job_ids`, those that read a data asset themselves or whose pipeline did (a model is
    often registered by a step whose input is its pipeline's)."""
    if not job_ids:
        return set()
    parents = dict(
        session.execute(select(JobRow.id, JobRow.parent_job_id).where(JobRow.id.in_(job_ids))).all()
    )
    candidates = set(job_ids) | {parent for parent in parents.values() if parent}
    readers = set(
        session.execute(
            select(JobInputRow.job_id).where(JobInputRow.kind == "data", JobInputRow.job_id.in_(candidates))
        ).scalars()
    )
    return {job_id for job_id in job_ids if job_id in readers or parents.get(job_id) in readers}


def _automation(session: Session, found: WorkspaceEvidence) -> None:
    for name, kind, create_job, event_type, enabled in session.execute(
        select(
            ScheduleRow.name,
            ScheduleRow.kind,
            ScheduleRow.create_job,
            ScheduleRow.event_type,
            ScheduleRow.enabled,
        ).order_by(ScheduleRow.name)
    ):
        if (create_job or {}).get("kind") == "monitor":
            continue  # its monitor is in the monitors table
        if enabled and event_type and event_type.endswith(MONITOR_EVENT_SUFFIXES):
            found.retraining_triggers.append(f"{name} (on {event_type})")
        elif enabled:
            found.training_schedules.append(f"{name} ({f'on {event_type}' if event_type else kind})")
    found.schedule_jobs = _count(
        session, select(func.count(ScheduleFiringRow.id)).where(ScheduleFiringRow.job_id.is_not(None))
    )
    found.monitors = [row.name for row in monitor_rows.list_monitors(session)]


def _releases(session: Session, found: WorkspaceEvidence) -> None:
    online = session.execute(
        select(OnlineDeploymentRow.endpoint_name, OnlineDeploymentRow.name, OnlineDeploymentRow.model_name,
               OnlineDeploymentRow.model_version)
        .order_by(OnlineDeploymentRow.endpoint_name, OnlineDeploymentRow.name)
    ).all()  # fmt: skip
    batch = session.execute(
        select(BatchDeploymentRow.endpoint_name, BatchDeploymentRow.name, BatchDeploymentRow.model_name,
               BatchDeploymentRow.model_version)
        .order_by(BatchDeploymentRow.endpoint_name, BatchDeploymentRow.name)
    ).all()  # fmt: skip
    lineage = set(found.models_with_data_lineage)
    for endpoint, name, model, version in [*online, *batch]:
        model_ref = f"{model}:{version}" if model else "no registered model"
        found.deployments.append(f"{endpoint}/{name} ({model_ref})")
        if model and f"{model}:{version}" in lineage:
            found.traced_deployments.append(f"{endpoint}/{name} ({model_ref})")
    found.approved_promotions = [
        f"{name}:{version} → {alias}"
        for name, version, alias in session.execute(
            select(PromotionRequestRow.model_name, PromotionRequestRow.version, PromotionRequestRow.alias)
            .where(PromotionRequestRow.state == "approved")
            .order_by(PromotionRequestRow.decided_at.desc())
        )
    ]
    owners = {
        owner
        for owner, description in session.execute(
            select(ApiKeyRow.owner, ApiKeyRow.description).where(ApiKeyRow.revoked_at.is_(None))
        )
        if is_ci_name(owner) or is_ci_name(description or "")
    }
    found.ci_keys = sorted(owners)
    if owners:
        by_ci = (AuditEventRow.actor.in_(owners),)
        found.ci_changes = _count(session, select(func.count(AuditEventRow.id)).where(*by_ci))
        found.ci_releases = [
            f"{action} {entity} by {actor}"
            for action, entity, actor in session.execute(
                select(AuditEventRow.action, AuditEventRow.entity_id, AuditEventRow.actor)
                .where(*by_ci, AuditEventRow.action.in_(RELEASE_ACTIONS))
                .order_by(AuditEventRow.id.desc())
                .limit(NAMED)
            )
        ]
    for name, types, webhook, enabled in session.execute(
        select(
            SubscriptionRow.name, SubscriptionRow.types, SubscriptionRow.webhook_url, SubscriptionRow.enabled
        )
    ):
        short = [t.rsplit(".", 1)[-1] for t in types or []]
        released = [t for t in short if t in RELEASE_EVENT_TYPES] if short else ["every event"]
        if enabled and webhook and released:
            found.release_hooks.append(f"{name} ({', '.join(released)})")


def is_ci_name(name: str) -> bool:
    return any(word in CI_WORDS for word in re.split(r"[^a-z0-9]+", name.lower()))


def _names(result: Any) -> list[str]:
    return [str(name) for name in result.scalars()]
