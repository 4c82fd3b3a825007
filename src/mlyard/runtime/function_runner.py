"""Runs a `@command_component` function in its job: `python -m mlyard.runtime.function_runner mod:fn …`.

The job's working folder holds a copy of the function's folder, so the module is imported from
there; arguments arrive as text and are converted to the types the component declares (paths
of inputs and outputs stay text). A job submitted while the module is being imported is refused
(`refuse_submission_during_import`): it is a submit at the script's top level.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import Any

from mlyard.errors import InvalidArgument, MlyardError

# Set while the runner imports the component's module: `module:function`. The module is the
# user's script, so a submit at its top level would run again in every step — and each submitted
# pipeline's steps would import it again, without end. An environment variable, so a `mlyard job
# create` started by the import is caught too.
ENV_IMPORTING_COMPONENT = "MLYARD_IMPORTING_COMPONENT"


def _convert(kind: str, text: str) -> Any:
    if kind == "integer":
        return int(text)
    if kind == "number":
        return float(text)
    if kind == "boolean":
        return text.strip().lower() in ("true", "1", "yes")
    return text


def refuse_submission_during_import() -> None:
    """`InvalidArgument` when this process is importing a component's module to run it: the
    submit is at the module's top level, where every step runs it again."""
    importing = os.environ.get(ENV_IMPORTING_COMPONENT)
    if not importing:
        return
    module_name, _, function_name = importing.partition(":")
    script = module_name.replace(".", "/") + ".py"
    raise InvalidArgument(
        f"{script} submits a job while mlyard imports it to run the component {function_name}: a "
        "submit at the top level of the module runs again in every step, submitting pipelines "
        f'without end. Put it under `if __name__ == "__main__":` in {script}, so it runs only '
        "when you run the script"
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or ":" not in args[0]:
        print(
            "usage: python -m mlyard.runtime.function_runner MODULE:FUNCTION [--name value …]",
            file=sys.stderr,
        )
        return 2
    module_name, _, function_name = args[0].partition(":")
    sys.path.insert(0, str(Path.cwd()))
    os.environ[ENV_IMPORTING_COMPONENT] = args[0]
    try:
        module = importlib.import_module(module_name)
    except MlyardError as exc:
        print(f"error: {exc.message}", file=sys.stderr)  # one line: it becomes the step's error
        return exc.exit_code
    finally:
        del os.environ[ENV_IMPORTING_COMPONENT]
    component = getattr(module, function_name)
    function = getattr(component, "function", component)
    declared_inputs: dict[str, Any] = getattr(component, "inputs", {})
    declared_outputs: dict[str, Any] = getattr(component, "outputs", {})
    parser = argparse.ArgumentParser(prog=f"{module_name}:{function_name}")
    for name in [*declared_inputs, *declared_outputs]:
        parser.add_argument(f"--{name}", dest=name, default=None)
    parsed = vars(parser.parse_args(args[1:]))
    kwargs: dict[str, Any] = {}
    for name, declared in declared_inputs.items():
        if parsed[name] is not None:
            kwargs[name] = _convert(declared.type, parsed[name])
    for name in declared_outputs:
        kwargs[name] = parsed[name]
    function(**kwargs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
