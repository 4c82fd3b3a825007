"""Runs a `@command_component` function in its job: `python -m mlyard.runtime.function_runner mod:fn …`.

The job's working folder holds a copy of the function's folder, so the module is imported from
there; arguments arrive as text and are converted to the types the component declares (paths
of inputs and outputs stay text).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any


def _convert(kind: str, text: str) -> Any:
    if kind == "integer":
        return int(text)
    if kind == "number":
        return float(text)
    if kind == "boolean":
        return text.strip().lower() in ("true", "1", "yes")
    return text


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
    component = getattr(importlib.import_module(module_name), function_name)
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
