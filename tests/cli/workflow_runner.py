"""A small interpreter that executes a generated project's CI files here, step by step, with bash:
GitHub Actions workflows and Azure Pipelines YAML, only as much of each as `mlyard init`'s
templates use — anything else is refused, so a template can't drift beyond what is tested.

GitHub Actions (`run_github`):
  - jobs in file order, each after its `needs`; a job with `environment:` first calls
    `approve(environment)` — where a required reviewer would hold the job;
  - `run:` steps through `bash --noprofile --norc -eo pipefail FILE` (GitHub's bash), with the
    workflow's, the job's and the step's `env:`, plus what earlier steps wrote to `$GITHUB_ENV`;
    `$GITHUB_OUTPUT` lines become `steps.ID.outputs.NAME`, job `outputs:` become
    `needs.JOB.outputs.NAME`; `$GITHUB_STEP_SUMMARY` is a file;
  - expressions: `${{ secrets.X }}`, `${{ steps.ID.outputs.N }}`, `${{ needs.J.outputs.N }}`.
Azure Pipelines (`run_azure`):
  - top-level `steps:` or `stages:` → `jobs:` (a `job`, or a `deployment` with
    `strategy.runOnce.deploy.steps`); a `ManualValidation@0` task calls `approve(instructions)`;
  - `variables:` lists of `group` (the secrets: macros only, never environment variables, as in
    Azure), `name`/`value` (also environment variables, upper-cased), and as a value
    `$[ stageDependencies.S.J.outputs['step.var'] ]`;
  - `script:` steps through `bash --noprofile --norc FILE` (Azure's: no -e, the scripts set it),
    `$(name)` macros replaced when `name` is a known variable (others left for bash, as Azure does);
    `##vso[task.setvariable variable=N]V` makes a variable (and an environment variable) for the
    following steps, with `;isOutput=true` an output `STEP.N` of the job.
Skipped in both, and only these: the marketplace steps of SKIPPED_USES / SKIPPED_TASKS and
`checkout: self` (the scaffold is the working folder already; Python is this test's interpreter)
and the steps named in SKIPPED_STEPS (installing packages, which this venv has already).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

SKIPPED_USES = ("actions/checkout@v4", "actions/setup-python@v5")
SKIPPED_TASKS = ("UsePythonVersion@0",)
SKIPPED_STEPS = ("Install dependencies",)
STEP_TIMEOUT = 600
TIMINGS: list[tuple[str, float]] = []  # (step, seconds) of every step run, for a slow test to report

Approve = Callable[[str], None]


class StepFailed(AssertionError):
    pass


def base_environment() -> dict[str, str]:
    """The runner's environment: this test's, without MLYARD_* settings, this venv first on PATH."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MLYARD_")}
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    environment["COLUMNS"] = "200"
    return environment


def _bash(script: str, cwd: Path, environment: dict[str, str], strict: bool, label: str) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as file:
        file.write(script)
    options = ["-eo", "pipefail"] if strict else []
    started = time.monotonic()
    try:
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", *options, file.name],
            cwd=cwd, env=environment, capture_output=True, text=True, timeout=STEP_TIMEOUT, check=False,
        )  # fmt: skip
    finally:
        os.unlink(file.name)
    TIMINGS.append((label, round(time.monotonic() - started, 1)))
    if done.returncode != 0:
        raise StepFailed(
            f"step {label!r} exited {done.returncode}\n--- stdout:\n{done.stdout}\n--- stderr:\n{done.stderr}"
        )
    return done.stdout


# --- GitHub Actions ------------------------------------------------------------------------------

GITHUB_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def run_github(
    workflow: Path, repo: Path, secrets: dict[str, str], approve: Approve
) -> dict[str, dict[str, str]]:
    """Execute `workflow`'s jobs; returns each job's outputs. Raises StepFailed with the step's output."""
    spec = yaml.safe_load(workflow.read_text())
    done: dict[str, dict[str, str]] = {}
    context: dict[str, Any] = {"secrets": secrets, "needs": {}}
    workflow_env = _github_env(spec.get("env", {}), context)
    for name, job in spec["jobs"].items():
        needs = job.get("needs", [])
        for need in [needs] if isinstance(needs, str) else needs:
            assert need in done, f"{workflow.name}: job {name} needs {need}, which has not run"
        context["needs"] = {need: {"outputs": outputs} for need, outputs in done.items()}
        if "environment" in job:
            approve(str(job["environment"]))
        done[name] = _github_job(workflow.name, name, job, repo, workflow_env, context)
    return done


def _github_job(
    file: str,
    name: str,
    job: dict[str, Any],
    repo: Path,
    workflow_env: dict[str, str],
    context: dict[str, Any],
) -> dict[str, str]:
    environment = base_environment() | workflow_env | _github_env(job.get("env", {}), context)
    context = context | {"steps": {}}
    github_env: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as folder:
        for index, step in enumerate(job["steps"]):
            label = f"{file}/{name}/{step.get('name') or step.get('uses') or index}"
            if "uses" in step:
                if step["uses"] not in SKIPPED_USES:
                    raise AssertionError(f"{label}: action {step['uses']} is not one the runner skips")
                continue
            if step.get("name") in SKIPPED_STEPS:
                continue
            assert set(step) <= {"name", "id", "run", "env"}, f"{label}: unsupported keys {sorted(step)}"
            files = {key: Path(folder, f"{key}-{index}") for key in ("GITHUB_OUTPUT", "GITHUB_ENV")}
            for path in files.values():
                path.write_text("")
            step_env = environment | github_env | _github_env(step.get("env", {}), context)
            step_env |= {key: str(path) for key, path in files.items()}
            step_env["GITHUB_STEP_SUMMARY"] = str(Path(folder, "summary.md"))
            _bash(_github_substitute(step["run"], context), repo, step_env, strict=True, label=label)
            github_env |= _pairs(files["GITHUB_ENV"].read_text())
            if "id" in step:
                context["steps"][step["id"]] = {"outputs": _pairs(files["GITHUB_OUTPUT"].read_text())}
    return {key: _github_substitute(str(value), context) for key, value in job.get("outputs", {}).items()}


def _github_env(env: dict[str, Any], context: dict[str, Any]) -> dict[str, str]:
    return {key: _github_substitute(str(value), context) for key, value in env.items()}


def _github_substitute(text: str, context: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        expression = match.group(1)
        if not re.fullmatch(r"(secrets|steps|needs)(\.[A-Za-z_][\w-]*)+", expression):
            raise AssertionError(f"unsupported expression ${{{{ {expression} }}}}")
        found: Any = context
        for part in expression.split("."):
            found = found.get(part, "") if isinstance(found, dict) else ""
        return str(found)  # as GitHub: a missing secret or output is empty

    return GITHUB_EXPRESSION.sub(value, text)


def _pairs(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


# --- Azure Pipelines -----------------------------------------------------------------------------

AZURE_MACRO = re.compile(r"\$\(([A-Za-z_][\w.]*)\)")
RUNTIME_EXPRESSION = re.compile(r"\$\[\s*stageDependencies\.(\w+)\.(\w+)\.outputs\['([\w.]+)'\]\s*\]")
SET_VARIABLE = re.compile(r"^##vso\[task\.setvariable variable=([\w.]+)((?:;\w+=\w+)*)\](.*)$", re.MULTILINE)


def run_azure(
    pipeline: Path,
    repo: Path,
    groups: dict[str, dict[str, str]],
    approve: Approve,
    predefined: dict[str, str],
) -> dict[str, dict[str, dict[str, str]]]:
    """Execute `pipeline`; `groups` are the variable groups (secrets), `predefined` Azure's own
    variables (Build.SourceBranchName …). Returns outputs by stage and job."""
    spec = yaml.safe_load(pipeline.read_text())
    outputs: dict[str, dict[str, dict[str, str]]] = {}
    variables = {name: (value, False) for name, value in predefined.items()}
    variables |= _azure_variables(spec.get("variables", []), groups, outputs)
    stages = spec.get("stages") or [
        {"stage": "__default", "jobs": [{"job": "__default", "steps": spec["steps"]}]}
    ]
    for stage in stages:
        depends = stage.get("dependsOn", [])
        for need in [depends] if isinstance(depends, str) else depends:
            assert need in outputs, f"{pipeline.name}: stage {stage['stage']} depends on {need}, not run"
        stage_variables = variables | _azure_variables(stage.get("variables", []), groups, outputs)
        outputs[stage["stage"]] = {}
        for job in stage["jobs"]:
            job_name = job.get("job") or job["deployment"]
            job_variables = stage_variables | _azure_variables(job.get("variables", []), groups, outputs)
            steps = job["steps"] if "steps" in job else job["strategy"]["runOnce"]["deploy"]["steps"]
            label = f"{pipeline.name}/{stage['stage']}/{job_name}"
            outputs[stage["stage"]][job_name] = _azure_job(label, steps, repo, job_variables, approve)
    return outputs


def _azure_variables(
    entries: list[dict[str, Any]], groups: dict[str, dict[str, str]], outputs: dict[str, Any]
) -> dict[str, tuple[str, bool]]:
    """name → (value, is_secret)."""
    found: dict[str, tuple[str, bool]] = {}
    for entry in entries:
        if "group" in entry:
            found |= {name: (value, True) for name, value in groups[entry["group"]].items()}
            continue
        value = str(entry["value"])
        runtime = RUNTIME_EXPRESSION.fullmatch(value.strip())
        if runtime:
            stage, job, name = runtime.groups()
            value = outputs.get(stage, {}).get(job, {}).get(name, "")
        elif value.startswith("$["):
            raise AssertionError(f"unsupported runtime expression {value}")
        found[entry["name"]] = (value, False)
    return found


def _azure_job(
    label: str,
    steps: list[dict[str, Any]],
    repo: Path,
    variables: dict[str, tuple[str, bool]],
    approve: Approve,
) -> dict[str, str]:
    variables = dict(variables)
    outputs: dict[str, str] = {}
    for index, step in enumerate(steps):
        where = f"{label}/{step.get('displayName') or step.get('task') or step.get('checkout') or index}"
        if step.get("checkout") == "self" or step.get("task") in SKIPPED_TASKS:
            continue
        if step.get("displayName") in SKIPPED_STEPS:
            continue
        if step.get("task") == "ManualValidation@0":
            approve(_azure_substitute(str(step["inputs"]["instructions"]), variables))
            continue
        assert "script" in step, f"{where}: only script, checkout and the listed tasks are supported"
        environment = base_environment() | {
            name.upper().replace(".", "_"): value for name, (value, secret) in variables.items() if not secret
        }
        environment |= {
            key: _azure_substitute(str(value), variables) for key, value in step.get("env", {}).items()
        }
        printed = _bash(
            _azure_substitute(step["script"], variables), repo, environment, strict=False, label=where
        )
        for name, flags, value in SET_VARIABLE.findall(printed):
            if "isOutput=true" in flags:
                outputs[f"{step['name']}.{name}"] = value
                variables[f"{step['name']}.{name}"] = (value, False)
            else:
                variables[name] = (value, False)
    return outputs


def _azure_substitute(text: str, variables: dict[str, tuple[str, bool]]) -> str:
    return AZURE_MACRO.sub(
        lambda m: variables[m.group(1)][0] if m.group(1) in variables else m.group(0), text
    )
