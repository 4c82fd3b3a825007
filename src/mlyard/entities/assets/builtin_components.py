"""The built-in components mlyard ships: the staging checks, usable as a step of any pipeline.

    jobs:
      smoke:
        type: command
        component: azureml://registries/mlyard/components/smoke/labels/latest
        inputs: {endpoint: diabetes-staging, model: diabetes:3, data: ${{parent.inputs.sample}}}

The registry name `mlyard` is reserved for this catalog (user registries are other names). Every
entry runs `mlyard check <kind> …` with mlyard's own interpreter (no environment to build), in the
job's workspace, so the check records its report against `model` as the CLI does; the report
(`report.json` and `summary.txt`) is the step's `report` output. A failing check fails its step,
so a deploy step after it does not run; a failed step stores no outputs, so its report is the
job's artifact `report/` instead (client/staging_checks.job_report_location). Labels (`latest`)
and versions (`1`) name the one revision each built-in has.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime

from mlyard.entities.assets.component import Component
from mlyard.entities.assets.component_spec import CommandComponentSpec
from mlyard.errors import NotFound

REGISTRY = "mlyard"
VERSION = "1"
_REFERENCE = re.compile(
    r"^azureml://registries/(?P<registry>[^/]+)/components/(?P<name>[^/]+)(?:/(?:labels/latest|versions/(?P<version>[^/]+)))?$"
)
_REPORT = {"report": {"type": "uri_folder", "description": "report.json and summary.txt"}}
_CHECK = "python -m mlyard.cli.main check"
_RECORD = "$[[--model ${{inputs.model}}]] --report ${{outputs.report}}"
_ENDPOINT = "$[[--endpoint ${{inputs.endpoint}}]] $[[--url ${{inputs.scoring_uri}}]]"
_SAMPLE = "$[[--request ${{inputs.request}}]] $[[--data ${{inputs.data}}]]"
_ENDPOINT_INPUTS = {
    "endpoint": {"type": "string", "optional": True, "description": "the online endpoint's name"},
    "scoring_uri": {"type": "string", "optional": True, "description": "or its scoring URL"},
    "request": {"type": "uri_file", "optional": True, "description": "a request file sent as it is"},
    "data": {"type": "uri_file", "optional": True, "description": "or sample rows (a table file)"},
    "model": {"type": "string", "optional": True, "description": "the model version checked, NAME:VERSION"},
}

_SPECS: dict[str, dict[str, object]] = {
    "smoke": {
        "description": "Smoke test of an online endpoint: status 200 and one prediction per sample row",
        "inputs": _ENDPOINT_INPUTS
        | {
            "rows": {"type": "integer", "optional": True},
            "expect_keys": {"type": "string", "optional": True, "description": "comma-separated"},
        },
        "command": f"{_CHECK} smoke {_ENDPOINT} {_SAMPLE} $[[--rows ${{{{inputs.rows}}}}]] "
        f"$[[--expect-keys ${{{{inputs.expect_keys}}}}]] {_RECORD}",
    },
    "performance": {
        "description": "Bounded load on an online endpoint: P99 latency and error rate against thresholds",
        "inputs": _ENDPOINT_INPUTS
        | {
            "requests": {"type": "integer", "default": 200},
            "concurrency": {"type": "integer", "default": 4},
            "seconds": {"type": "number", "default": 60},
            "p99_ms": {"type": "number", "default": 1000},
            "max_error_rate": {"type": "number", "default": 0.01},
        },
        "command": f"{_CHECK} performance {_ENDPOINT} {_SAMPLE} --requests ${{{{inputs.requests}}}} "
        "--concurrency ${{inputs.concurrency}} --seconds ${{inputs.seconds}} --p99-ms ${{inputs.p99_ms}} "
        f"--max-error-rate ${{{{inputs.max_error_rate}}}} {_RECORD}",
    },
    "data_quality": {
        "description": "A scoring input against a data asset's profile (mlyard validate's data rule)",
        "inputs": {
            "data": {"type": "uri_file", "description": "the scoring input: a table file"},
            "against": {"type": "string", "description": "the data asset, NAME:VERSION or NAME@latest"},
            "model": _ENDPOINT_INPUTS["model"],
        },
        "command": f"{_CHECK} data-quality --data ${{{{inputs.data}}}} "
        f"--against ${{{{inputs.against}}}} {_RECORD}",
    },
    "responsible_ai": {
        "description": "Fairness by a sensitive feature (Fairlearn) and error rates by cohort",
        "inputs": {
            "model": {"type": "string", "description": "the model version checked, NAME:VERSION"},
            "data": {"type": "uri_file", "description": "a labelled test set (a table file)"},
            "label": {"type": "string"},
            "sensitive_feature": {"type": "string"},
            "task": {"type": "string", "optional": True, "enum": ["classification", "regression"]},
            "max_demographic_parity": {"type": "number", "default": 0.1},
            "max_equalized_odds": {"type": "number", "default": 0.1},
        },
        "command": f"{_CHECK} responsible-ai --data ${{{{inputs.data}}}} --label ${{{{inputs.label}}}} "
        "--sensitive-feature ${{inputs.sensitive_feature}} $[[--task ${{inputs.task}}]] "
        "--max-demographic-parity ${{inputs.max_demographic_parity}} "
        "--max-equalized-odds ${{inputs.max_equalized_odds}} --model ${{inputs.model}} "
        "--report ${{outputs.report}}",
    },
}

CATALOG: dict[str, CommandComponentSpec] = {
    name: CommandComponentSpec.model_validate(
        spec | {"name": name, "version": VERSION, "outputs": _REPORT, "is_deterministic": False}
    )
    for name, spec in _SPECS.items()
}


def is_builtin_ref(text: object) -> bool:
    """Whether `text` names a component of the `mlyard` registry."""
    if not isinstance(text, str):
        return False
    match = _REFERENCE.match(text.strip())
    return match is not None and match["registry"] == REGISTRY


def builtin_component(reference: str) -> CommandComponentSpec:
    """The built-in component `azureml://registries/mlyard/components/<name>/labels/latest`
    (or `/versions/1`); NotFound naming the reference and the catalog otherwise."""
    match = _REFERENCE.match(reference.strip())
    if match is None or match["registry"] != REGISTRY:
        raise NotFound(f"{reference!r} is not a component of the {REGISTRY!r} registry")
    found = CATALOG.get(match["name"])
    if found is None:
        raise NotFound(
            f"the {REGISTRY!r} registry has no component {match['name']!r}; its components are: "
            f"{', '.join(CATALOG)}"
        )
    if match["version"] not in (None, VERSION):
        raise NotFound(
            f"built-in component {match['name']!r} has version {VERSION} only, not {match['version']!r}"
        )
    return found


def builtin_as_component(reference: str) -> Component:
    """The built-in as a component record (what `mlyard component show <reference>` prints);
    NotFound as `builtin_component`. Nothing is stored, so it has no code and a fixed date."""
    spec = builtin_component(reference)
    canonical = json.dumps(spec.model_dump(mode="json"), sort_keys=True)
    return Component(
        name=spec.name or "",
        version=VERSION,
        spec=spec,
        spec_hash=hashlib.sha256(canonical.encode()).hexdigest(),
        description=spec.description,
        tags={"mlyard.registry": REGISTRY},
        created_at=_SHIPPED,
        created_by=REGISTRY,
    )


_SHIPPED = datetime(2025, 1, 1, tzinfo=UTC)  # built-ins are part of mlyard: no registration date
