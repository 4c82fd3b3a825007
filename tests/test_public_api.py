"""The public surface of `import mlyard` is deliberate: this fails when `__all__` drifts."""

from __future__ import annotations

import subprocess
import sys

import mlyard

EXPECTED = {
    "MLClient",
    "Input",
    "Output",
    "command_component",
    "pipeline",
    "Run",
    "start_run",
    "end_run",
    "active_run",
    "log_param",
    "log_params",
    "log_metric",
    "log_metrics",
    "set_tag",
    "set_tags",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_text",
    "log_figure",
    "log_model",
    "use_data",
    "Job",
    "JobStatus",
    "DataAsset",
    "DataType",
    "ModelVersion",
    "MlyardError",
    "events",
    "__version__",
}


def test_all_is_exactly_the_documented_surface():
    assert set(mlyard.__all__) == EXPECTED


def test_every_lazy_export_is_listed_in_all():
    assert set(mlyard._EXPORTS) | {"__version__"} == set(mlyard.__all__)


def test_every_exported_name_resolves():
    for name in mlyard.__all__:
        assert getattr(mlyard, name) is not None, name


def test_importing_mlyard_loads_no_heavy_library():
    heavy = ("pandas", "sklearn", "sqlalchemy", "fsspec", "mlflow")
    code = f"import sys, mlyard; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
