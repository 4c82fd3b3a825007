"""Fixtures for serving tests: saved model folders and real instance processes on free ports.

`start_instance(...)` runs `python -m mlyard.serving.instance` as a subprocess with `--port 0`,
reads the port from the line the instance prints, waits until /ready answers (or until loading
ended, for tests of a failing init), and stops the process at the end of the fixture's scope.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from mlyard.entities.registry.model import ModelMetadata
from mlyard.flavors import get_flavor
from mlyard.flavors.metadata import write_metadata
from mlyard.flavors.signature import infer_signature
from tests.waiting import wait_until

START_TIMEOUT = 60.0


def save_model(folder: Path, model: Any, flavor: str, example: Any = None) -> Path:
    """Save `model` the way log_model does: the flavor's files plus mlyard-model.yaml."""
    implementation = get_flavor(flavor)
    model_file = implementation.save(model, folder)
    metadata = ModelMetadata(
        flavor=flavor,
        model_file=model_file,
        signature=infer_signature(example),
        framework_versions=implementation.framework_versions(),
        created_at=datetime.now(UTC),
    )
    write_metadata(folder, metadata)
    return folder


def save_pyfunc_model(folder: Path, predict_body: str, signature: Any = None) -> Path:
    """An MLflow pyfunc folder whose loader module (shipped in the folder) predicts `predict_body`.

    A loader module rather than a PythonModel subclass: no pickled class, and no warnings from
    mlflow about PythonModel type hints.
    """
    import mlflow.pyfunc

    source = folder.parent / f"{folder.name}_loader.py"
    source.write_text(
        "import numpy as np\n\n\nclass _Model:\n    def predict(self, model_input, params=None):\n"
        f"        return {predict_body}\n\n\ndef _load_pyfunc(path):\n    return _Model()\n"
    )
    mlflow.pyfunc.save_model(
        str(folder), loader_module=source.stem, code_paths=[str(source)], signature=signature
    )
    return folder


class Instance:
    """A running instance process: its base URL, its output so far, and how to stop it."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None, wait_ready: bool = True) -> None:
        command = [sys.executable, "-m", "mlyard.serving.instance", *args]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.stdout_lines: list[str] = []
        self.stderr_lines: list[str] = []
        self._readers = [
            threading.Thread(target=self._drain, args=(self.process.stdout, self.stdout_lines), daemon=True),
            threading.Thread(target=self._drain, args=(self.process.stderr, self.stderr_lines), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self.url = ""
        self.uds: str | None = None
        self._wait_listening()
        if wait_ready:
            self.wait_loaded()
            assert any(line.startswith("mlyard-instance ready") for line in self.stdout_lines), self.output()

    @staticmethod
    def _drain(stream: Any, lines: list[str]) -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(["--- stdout", *self.stdout_lines, "--- stderr", *self.stderr_lines])

    def _wait_listening(self) -> None:
        def listening() -> str | None:
            line = next((x for x in self.stdout_lines if x.startswith("mlyard-instance listening")), None)
            if line is None:
                self._fail_if_exited()
            return line

        line = wait_until(listening, timeout=START_TIMEOUT, message="the instance to listen", log=self.output)
        fields = dict(part.split("=", 1) for part in line.split()[2:])
        if "http" in fields:
            self.url = f"http://{fields['http']}"
        self.uds = fields.get("uds")

    def wait_loaded(self) -> None:
        """Until the instance printed that loading ended (ready or init-failed)."""

        def loaded() -> bool:
            ended = ("mlyard-instance ready", "mlyard-instance init-failed")
            if any(line.startswith(ended) for line in self.stdout_lines):
                return True
            self._fail_if_exited()
            return False

        wait_until(loaded, timeout=START_TIMEOUT, message="the instance to finish loading", log=self.output)

    def wait_output(self, text: str, stream: str = "stdout", timeout: float = 10.0) -> str:
        """The first line of the instance's stdout (or stderr) containing `text`, once printed."""
        lines = self.stdout_lines if stream == "stdout" else self.stderr_lines
        return wait_until(
            lambda: next((line for line in lines if text in line), None),
            timeout=timeout,
            message=f"a line with {text!r} on the instance's {stream}",
            log=self.output,
        )

    def _fail_if_exited(self) -> None:
        if self.process.poll() is not None:
            self.join_readers()  # its last lines are in the error
            raise AssertionError(f"instance exited with {self.process.returncode}\n{self.output()}")

    def join_readers(self, timeout: float = 5) -> None:
        """Until the output readers reached the end of the streams (once the process exited)."""
        for reader in self._readers:
            reader.join(timeout=timeout)

    def client(self, **kwargs: Any) -> httpx.Client:
        if self.url:
            return httpx.Client(base_url=self.url, timeout=30, **kwargs)
        transport = httpx.HTTPTransport(uds=self.uds)
        return httpx.Client(base_url="http://instance", transport=transport, timeout=30, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        with self.client() as client:
            if body is not None and not isinstance(body, bytes | str):
                return client.post(path, json=body, **kwargs)
            return client.post(path, content=body, **kwargs)

    def get(self, path: str) -> httpx.Response:
        with self.client() as client:
            return client.get(path)

    def terminate(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.join_readers()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return code


StartInstance = Callable[..., Instance]


def _instance_factory() -> Iterator[StartInstance]:
    started: list[Instance] = []

    def start(*args: str | Path, env: dict[str, str] | None = None, wait_ready: bool = True) -> Instance:
        arguments = [str(arg) for arg in args]
        if "--port" not in arguments and "--uds" not in arguments:
            arguments += ["--port", "0"]
        instance = Instance(arguments, env=env, wait_ready=wait_ready)
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.terminate()


@pytest.fixture
def start_instance() -> Iterator[StartInstance]:
    """Start instances for one test; all are stopped when it ends."""
    yield from _instance_factory()


@pytest.fixture(scope="module")
def start_module_instance() -> Iterator[StartInstance]:
    """Start instances shared by a module's tests; all are stopped when the module ends."""
    yield from _instance_factory()


@pytest.fixture(scope="session")
def diabetes() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_diabetes

    features, target = load_diabetes(return_X_y=True)
    return features, target


@pytest.fixture(scope="session")
def ridge(diabetes: tuple[np.ndarray, np.ndarray]) -> Any:
    """The diabetes Ridge model most serving tests score with (fitted once; never modified)."""
    from sklearn.linear_model import Ridge

    return Ridge(alpha=0.5).fit(*diabetes)


@pytest.fixture(scope="session")
def model_dir(
    ridge: Any, diabetes: tuple[np.ndarray, np.ndarray], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """`ridge` saved as an sklearn model folder with a signature from five rows."""
    return save_model(tmp_path_factory.mktemp("model") / "ridge", ridge, "sklearn", diabetes[0][:5])


@pytest.fixture(scope="session")
def diabetes_frame() -> Any:
    from sklearn.datasets import load_diabetes

    return load_diabetes(as_frame=True)
