"""`mlyard maturity`: a workspace (and its repository's CI files) against Microsoft's MLOps maturity
model, from evidence mlyard holds.

The model is "Machine Learning operations maturity model" (Azure Architecture Center,
https://learn.microsoft.com/azure/architecture/ai-ml/guide/mlops-maturity-model): five levels —
0 No MLOps, 1 DevOps but no MLOps, 2 Automated Training, 3 Automated Model Deployment, 4 Full
MLOps Automated Operations — each described under People, Model Creation, Model Release and
Application Integration. Each criterion below quotes the model's wording for its level and says
what mlyard checks for it; the level is the highest one whose criteria, and every lower level's,
are all met. Level 0 has no criteria: it is where every workspace starts.

What counts as evidence, where the model leaves it open:
- "Automated builds", "Application code has unit tests" (level 1): a CI file that runs a test
  runner or an mlyard command, or changes made in the workspace with a CI key.
- A CI key: an API key whose owner or description names automation as a word (`github`,
  `actions`, `ci`, `pipelines`, `devops`, `bot`, `service`, … see `evidence.CI_WORDS`).
- "Automatic release … managed by CI/CD pipeline" (level 3), i.e. automated deployment: any of
  a CI file running a release command (`online-deployment`/`batch-deployment` create or update,
  `online-endpoint update`, `model promote|approve`, `model alias set`); a release in the audit
  trail (deployment created or updated, traffic moved, alias set, promotion approved) by a CI
  key; a webhook subscription to model registration, alias, promotion or deployment events — the
  model's "Event Grid lifecycle events" driving a release outside mlyard.
- "Retraining triggered automatically based on production metrics" (level 4): a monitor, and an
  enabled event trigger on a monitor's alert (`monitor.alert`, `model.stale`) creating a job.
The model's People column is about how teams work; mlyard sees its traces only (repeatable
jobs at level 2, deployments wired to their data at level 3, monitors at level 4).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mlyard.entities.governance.maturity import LEVEL_NAMES, CiEvidence, MaturityCriterion, MaturityReport
from mlyard.services.assessment.evidence import NAMED, WorkspaceEvidence, gather_evidence
from mlyard.services.workspaces.workspace import Workspace

RELEASE_COMMANDS = frozenset(
    {"online-deployment create", "online-deployment update", "batch-deployment create",
     "batch-deployment update", "online-endpoint update", "model promote", "model approve", "model alias"}
)  # fmt: skip
TRAINING_COMMANDS = frozenset({"job create", "schedule create", "schedule update"})


@dataclass(frozen=True)
class Found:
    met: bool
    evidence: str


@dataclass(frozen=True)
class Criterion:
    id: str
    level: int
    area: str
    wording: str  # the model's words, then what mlyard checks
    check: Callable[[WorkspaceEvidence, CiEvidence], Found]
    next: str


def assess_workspace(workspace: Workspace, ci: CiEvidence | None = None) -> MaturityReport:
    """The workspace's level, each criterion's verdict with its evidence, and next steps."""
    return assess(gather_evidence(workspace), ci or CiEvidence())


def assess(found: WorkspaceEvidence, ci: CiEvidence) -> MaturityReport:
    criteria = []
    for criterion in CRITERIA:
        verdict = criterion.check(found, ci)
        criteria.append(
            MaturityCriterion(
                id=criterion.id, level=criterion.level, area=criterion.area, criterion=criterion.wording,
                met=verdict.met, evidence=verdict.evidence, next=None if verdict.met else criterion.next,
            )
        )  # fmt: skip
    level = 0
    for candidate in sorted(LEVEL_NAMES)[1:]:
        if not all(c.met for c in criteria if c.level <= candidate):
            break
        level = candidate
    return MaturityReport(
        level=level, level_name=LEVEL_NAMES[level], criteria=criteria, repo=ci.repo,
        ci_files=[file.path for file in ci.files],
    )  # fmt: skip


# --- evidence per criterion ------------------------------------------------------------------------


def _some(items: list[str], what: str) -> str:
    shown = ", ".join(items[:NAMED]) + (f" and {len(items) - NAMED} more" if len(items) > NAMED else "")
    return f"{len(items)} {what}: {shown}" if items else f"no {what}"


def _ci_running(ci: CiEvidence, wanted: Callable[[str], bool]) -> list[str]:
    return [
        f"{file.path} ({', '.join(c for c in file.commands if wanted(c))})"
        for file in ci.files
        if any(wanted(c) for c in file.commands)
    ]


def _is_release(command: str) -> bool:
    return command in RELEASE_COMMANDS or command.startswith("model alias")


def _data_registered(found: WorkspaceEvidence, ci: CiEvidence) -> Found:
    names = f" of {', '.join(found.data_names[:NAMED])}" if found.data_names else ""
    return Found(found.data_versions > 0, f"{found.data_versions} data asset versions{names}")


def _code_versioned(found: WorkspaceEvidence, ci: CiEvidence) -> Found:
    parts = [
        f"{found.code_snapshots} jobs with a code snapshot",
        _some(found.git_commits, "git commits recorded"),
    ]
    if ci.repo is not None:
        parts.append(f"repository {ci.repo} {'is' if ci.version_controlled else 'is not'} a git checkout")
    return Found(bool(found.git_commits) or ci.version_controlled, "; ".join(parts))


def _automated_builds(found: WorkspaceEvidence, ci: CiEvidence) -> Found:
    files = _ci_running(ci, lambda command: True)
    where = _some(files, "CI files running tests or mlyard") if ci.repo else "no repository read (--repo DIR)"
    keys = "no CI keys"
    if found.ci_keys:
        keys = f"{found.ci_changes} changes by CI keys ({', '.join(found.ci_keys)})"
    return Found(bool(files) or found.ci_changes > 0, f"{where}; {keys}")


def _repeatable_jobs(found: WorkspaceEvidence, ci: CiEvidence) -> Found:
    submitted = f"{found.submitted_jobs} jobs submitted from a spec, {found.pipeline_jobs} of them pipelines"
    return Found(found.submitted_jobs > 0, f"{submitted}; {found.reused_steps} pipeline steps reused")


def _experiments_tracked(found: WorkspaceEvidence, ci: CiEvidence) -> Found:
    where = f" in {', '.join(found.experiments)}" if found.experiments else ""
    return Found(found.tracked_jobs > 0, f"{found.tracked_jobs} jobs with metrics{where}")


def _compute_managed(found: WorkspaceEvidence, ci: CiEvidence) -> Found:
    return Found(found.environments > 0, f"{found.environments} registered environment versions")


def _data_read_by_jobs(found: WorkspaceEvidence, ci: CiEvidence) -> Found:
    shown = ", ".join(found.data_input_names)
    if not found.data_inputs:
        return Found(False, "no data asset versions read by jobs")
    return Found(True, f"{found.data_inputs} data asset versions read by jobs: {shown}")


def _models_versioned(found: WorkspaceEvidence, ci: CiEvidence) -> Found:
    traced = found.models_with_data_lineage
    lineage = _some(traced, "traced back to a job and its data") if traced else "none traced to its data"
    produced = f"{found.model_versions} model versions, {len(found.models_from_jobs)} produced by a job"
    return Found(bool(traced), f"{produced}; {lineage}")


def _automated_training(found: WorkspaceEvidence, ci: CiEvidence) -> Found:
    files = _ci_running(ci, lambda command: command in TRAINING_COMMANDS)
    schedules = _some(found.training_schedules, "enabled schedules or triggers creating jobs")
    fired = f"{found.schedule_jobs} jobs created by firings"
    evidence = f"{schedules} ({fired}); {_some(files, 'CI files submitting training')}"
    return Found(bool(found.training_schedules) or bool(files), evidence)


def _automated_release(found: WorkspaceEvidence, ci: CiEvidence) -> Found:
    files = _ci_running(ci, _is_release)
    parts = [
        _some(files, "CI files releasing models"),
        _some(found.ci_releases, "releases by CI keys"),
        _some(found.release_hooks, "webhook subscriptions on model events"),
    ]
    return Found(bool(files or found.ci_releases or found.release_hooks), "; ".join(parts))


def _release_tests(found: WorkspaceEvidence, ci: CiEvidence) -> Found:
    files = _ci_running(ci, lambda command: command == "validate" or command.startswith("check "))
    where = _some(files, "CI files validating models") if ci.repo else "no repository read (--repo DIR)"
    return Found(bool(files), where)


def _traceable_deployments(found: WorkspaceEvidence, ci: CiEvidence) -> Found:
    traced = _some(found.traced_deployments, "traced back to their data")
    return Found(bool(found.traced_deployments), f"{len(found.deployments)} deployments; {traced}")


def _gated_promotion(found: WorkspaceEvidence, ci: CiEvidence) -> Found:
    aliases = ", ".join(found.protected_aliases) or "none"
    approved = _some(found.approved_promotions, "approved promotions")
    return Found(bool(found.approved_promotions), f"protected aliases: {aliases}; {approved}")


def _monitored(found: WorkspaceEvidence, ci: CiEvidence) -> Found:
    return Found(bool(found.monitors), _some(found.monitors, "monitors"))


def _retraining_triggered(found: WorkspaceEvidence, ci: CiEvidence) -> Found:
    triggers = _some(found.retraining_triggers, "triggers on monitor alerts")
    return Found(
        bool(found.monitors and found.retraining_triggers), f"{triggers}; {len(found.monitors)} monitors"
    )


CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        "versioned_data", 1, "Model creation",
        "Data pipeline gathers data automatically: data registered as versioned data assets",
        _data_registered,
        "mlyard data create --name NAME --path FILE --type uri_file",
    ),
    Criterion(
        "version_control", 1, "Model release",
        "Version control for code (scoring script likely version controlled): "
        "jobs run from a git checkout",
        _code_versioned,
        "keep the code in git and submit from the checkout: mlyard job create --file job.yml",
    ),
    Criterion(
        "automated_builds", 1, "Application integration",
        "Automated builds; application code has unit tests: CI runs the tests",
        _automated_builds,
        "add .github/workflows/ci.yml (or azure-pipelines.yml) running pytest and mlyard validate, "
        "with a key of its own: mlyard key create --owner github-actions --role contributor",
    ),
    Criterion(
        "repeatable_jobs", 2, "People",
        "Experimentation code converted into repeatable scripts/jobs: jobs submitted from a spec",
        _repeatable_jobs,
        "describe training as a job or pipeline YAML: mlyard job create --file pipeline.yml",
    ),
    Criterion(
        "tracked_experiments", 2, "Model creation",
        "Experiment results tracked: jobs with metrics",
        _experiments_tracked,
        "log metrics from the training script (mlyard.log_metric) or with MLflow",
    ),
    Criterion(
        "managed_compute", 2, "Model creation",
        "Compute managed; managed environments from environment definitions: registered environments",
        _compute_managed,
        "mlyard environment create --file environment.yml",
    ),
    Criterion(
        "data_lineage", 2, "Model creation",
        "Data pipeline gathers data automatically: training jobs read versioned data assets",
        _data_read_by_jobs,
        "read the data asset as a job input, inputs: {data: azureml:NAME@latest}: "
        "mlyard job create --file job.yml",
    ),
    Criterion(
        "versioned_models", 2, "Model creation",
        "Both training code and resulting models are version controlled: "
        "registered models with lineage (model → producing job → data)",
        _models_versioned,
        "register the model from the run that trained it on a data asset: "
        "mlyard.use_data('NAME@latest') then mlyard.log_model(model, 'NAME') (or a named job output)",
    ),
    Criterion(
        "automated_training", 2, "Model creation",
        "Scheduled or event-driven jobs for recurring training: schedules or triggers creating jobs",
        _automated_training,
        "mlyard schedule create --file schedule.yml (cron, recurrence, or an event trigger)",
    ),
    Criterion(
        "automated_deployment", 3, "Model release",
        "Automatic release, managed by a CI/CD pipeline: deployments by CI, CI keys or release events",
        _automated_release,
        "deploy from a release workflow: mlyard online-deployment create --file deployment.yml; "
        "or a webhook on ModelAliasMoved: mlyard event subscription create",
    ),
    Criterion(
        "release_tests", 3, "Application integration",
        "Unit and integration tests for each model release: CI validates models",
        _release_tests,
        "in the pull request workflow: mlyard validate --data sample.csv --scoring score.py",
    ),
    Criterion(
        "traceable_deployments", 3, "Application integration",
        "Full traceability from deployment back to original data: "
        "a deployment's model traced to its job and data",
        _traceable_deployments,
        "deploy a registered model produced by a job that read a data asset: "
        "mlyard online-deployment create --file deployment.yml",
    ),
    Criterion(
        "gated_promotion", 3, "Model release",
        "Entire environment managed, train > test > production: "
        "promotion to a protected alias approved",
        _gated_promotion,
        "mlyard model promote NAME --version N --to production; "
        "then another operator: mlyard model approve REQUEST_ID",
    ),
    Criterion(
        "monitored", 4, "People",
        "Implementing post-deployment metrics gathering: monitors on deployments or data",
        _monitored,
        "mlyard monitor create --file monitor.yml (a schedule YAML with create_monitor)",
    ),
    Criterion(
        "automatic_retraining", 4, "Model creation",
        "Retraining triggered automatically based on production metrics: "
        "an event trigger on a monitor's alert creating a training job",
        _retraining_triggered,
        "mlyard schedule create --file retrain.yml with trigger: {type: event, event_type: monitor.alert} "
        "and create_job: ./train.yml",
    ),
)  # fmt: skip
