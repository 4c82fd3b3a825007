"""A user's scoring script with Azure ML's contract: `init()` once, `run(raw_data)` per request.

`raw_data` is the request body as a str (bytes when it is not UTF-8). A `run(data,
request_headers)` — two parameters, or one named `request_headers` — also gets the request's
headers as a dict with Azure's capitalisation ("Content-Type"). Before the script is imported,
`AZUREML_MODEL_DIR` and `MLYARD_MODEL_DIR` name the model folder, the code folder is put first on
`sys.path` and becomes the working directory, as Azure ML does, so `init()` can open
`os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl")` and import its sibling modules.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from mlyard.errors import InvalidArgument, NotFound

MODEL_DIR_VARIABLES = ("AZUREML_MODEL_DIR", "MLYARD_MODEL_DIR")


class ScoringScript:
    """A loaded score.py; `load()` imports it and calls init(), `run()` scores one request."""

    flavor = "score.py"

    def __init__(self, path: Path, model_dir: Path) -> None:
        self.path = path
        self.model_dir = model_dir
        self.module: ModuleType | None = None
        self._run: Callable[..., Any] | None = None
        self.wants_headers = False

    def load(self) -> None:
        """Import the script and call its init(); whatever they raise propagates with its traceback."""
        if not self.path.is_file():
            raise NotFound(f"scoring script {self.path} does not exist")
        for variable in MODEL_DIR_VARIABLES:
            os.environ[variable] = str(self.model_dir)
        code_dir = str(self.path.parent)
        if code_dir not in sys.path:
            sys.path.insert(0, code_dir)
        os.chdir(code_dir)
        spec = importlib.util.spec_from_file_location(self.path.stem, self.path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[self.path.stem] = module
        spec.loader.exec_module(module)
        run = getattr(module, "run", None)
        if not callable(run):
            raise InvalidArgument(f"scoring script {self.path} defines no run(raw_data) function")
        init = getattr(module, "init", None)
        if callable(init):
            init()
        self.module, self._run = module, run
        self.wants_headers = _takes_headers(run)

    def run(self, body: bytes, headers: dict[str, str]) -> Any:
        assert self._run is not None, "run() before load()"
        try:
            data: str | bytes = body.decode("utf-8")
        except UnicodeDecodeError:
            data = body
        if self.wants_headers:
            return self._run(data, headers)
        return self._run(data)


def _takes_headers(run: Callable[..., Any]) -> bool:
    try:
        parameters = list(inspect.signature(run).parameters.values())
    except (TypeError, ValueError):
        return False
    if any(p.name == "request_headers" for p in parameters):
        return True
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2


def azure_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """ASGI's lowercase header pairs as Azure's score.py sees them: {"Content-Type": "application/json"}."""
    headers: dict[str, str] = {}
    for name, value in raw:
        key = "-".join(part.capitalize() for part in name.decode("latin-1").split("-"))
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers
