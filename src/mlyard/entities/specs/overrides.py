"""Azure ML's `--set` overrides (`inputs.alpha=0.3`, `limits.timeout=60`) applied to a spec mapping.

Pure: the same rules for a job, an endpoint or a deployment, on the submitting machine or the
server, before the spec is validated.
"""

from __future__ import annotations

from typing import Any

from mlyard.entities.specs.spec_files import did_you_mean
from mlyard.errors import InvalidArgument

# Mappings whose keys are names the spec itself declares: `--set` may change what they hold but
# not add a name — a new input is used by no command, so a misspelt one would be silently ignored.
DECLARED_NAME_MAPPINGS = ("inputs", "outputs", "jobs", "search_space")


def apply_job_overrides(data: dict[str, Any], overrides: dict[str, str] | None, source: str) -> None:
    """Apply Azure ML's `--set` pairs (`inputs.alpha=0.3`) to a job spec mapping, before it is
    validated; a path naming an input, output, step or search-space entry the spec does not
    declare is refused with a did-you-mean (misspelt fields are caught by validation after)."""
    for key, value in (overrides or {}).items():
        _check_declared_names(data, key, value, source)
        apply_override(data, key, value, source)


def _check_declared_names(data: dict[str, Any], key: str, value: str, source: str) -> None:
    parts = key.split(".")
    target: Any = data
    for i, part in enumerate(parts):
        declared_here = i > 0 and parts[i - 1] in DECLARED_NAME_MAPPINGS
        if declared_here and target is None:
            target = {}  # the spec declares none of them
        if not isinstance(target, dict):
            return  # apply_override says what is wrong with this path
        if declared_here and part not in target:
            where = ".".join(parts[:i])
            declared = ", ".join(str(name) for name in target) or "none"
            hint = did_you_mean(part, [str(name) for name in target])
            raise InvalidArgument(
                f"--set {key}={value}: {source}: {where} has no {part!r}{hint} ({where}: {declared}); "
                f"--set changes what the spec declares, add new {parts[i - 1]} to the file itself"
            )
        target = target.get(part)


def apply_override(data: dict[str, Any], key: str, value: str, source: str) -> None:
    """Set `a.b.c=value` in a spec mapping, creating mappings on the way."""
    import yaml

    parts = key.split(".")
    if not all(parts):
        raise InvalidArgument(f"--set {key}={value}: expected a dotted field path like inputs.alpha")
    target = data
    for i, part in enumerate(parts[:-1]):
        child = target.setdefault(part, {})
        if not isinstance(child, dict):
            where = ".".join(parts[: i + 1])
            raise InvalidArgument(f"--set {key}: {source}: {where} is not a mapping")
        target = child
    try:
        parsed = yaml.safe_load(value) if value else value
    except yaml.YAMLError:
        parsed = value
    leaf = target.get(parts[-1])
    if isinstance(leaf, dict) and "value" in leaf and not isinstance(parsed, dict):
        leaf["value"] = parsed  # `inputs.alpha=0.3` on `alpha: {type: number, value: 0.1}`
    elif isinstance(leaf, dict) and "path" in leaf and not isinstance(parsed, dict):
        leaf["path"] = parsed
    else:
        target[parts[-1]] = parsed
