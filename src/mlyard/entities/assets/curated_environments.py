"""Azure ML curated environments, and the local packages that stand in for each.

Jobs from azureml-examples name curated environments instead of declaring packages:

    environment: azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest
    environment: azureml://registries/azureml/environments/sklearn-1.5/labels/latest

Each resolves to an entry of this catalog by its *family*: the name without the `AzureML-` prefix
and without the image's OS, Python, CPU/GPU/CUDA and `inference` parts (so
`AzureML-sklearn-1.0-ubuntu20.04-py38-cpu` is `sklearn-1.0` and `minimal-py311-inference` is
`minimal`). Versions and labels (`:3`, `@latest`, `/versions/52`) name revisions of Azure's image
and are ignored: the catalog has one entry per family.

Python version: an entry resolves to the *current* interpreter's `major.minor`, not the image's
(`py38`), because mlyard can only create virtual environments for interpreters that exist on this
machine. Package pins therefore follow the library's release line where that line ships wheels for
CPython 3.11; older lines (scikit-learn 0.24/1.0, PyTorch 1.x, TensorFlow 2.4) map to the nearest
line that does, and say so in the resolved environment's `ignored` notes. GPU/CUDA parts of
Azure's images are not reproduced: PyTorch is the CPU build `torch==2.13.0`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

from mlyard.entities.assets.environment_spec import ResolvedEnvironment
from mlyard.entities.assets.requirements import current_python_version, normalize_requirement
from mlyard.errors import NotFound

REGISTRY_PREFIX = "azureml://registries/"
CURATED_PREFIX = "azureml-"  # Azure ML reserves it for curated environments


@dataclass(frozen=True)
class CuratedEnvironment:
    """One family of Azure ML curated environments and the pip packages that stand in for it."""

    name: str
    packages: tuple[str, ...]
    description: str
    families: tuple[str, ...]  # glob patterns over family names, e.g. "sklearn-0.*"
    note: str | None = None  # shown when the local packages differ from Azure's on purpose

    def matches(self, family: str) -> bool:
        return any(fnmatchcase(family, pattern) for pattern in self.families)


_OLD_SKLEARN = "scikit-learn 1.0 and older have no wheels for Python 3.11+; using the 1.1 line"
CATALOG: dict[str, CuratedEnvironment] = {
    entry.name: entry
    for entry in (
        CuratedEnvironment(
            "sklearn-1.0",
            ("scikit-learn==1.1.*", "numpy<2", "scipy", "pandas", "joblib"),
            "scikit-learn (1.1 line), numpy 1.x, scipy, pandas",
            ("sklearn-1.0", "sklearn-1.0.*", "sklearn-0.*"),
            note=_OLD_SKLEARN,
        ),
        CuratedEnvironment(
            "sklearn-1.1",
            ("scikit-learn==1.1.*", "numpy<2", "scipy", "pandas", "joblib"),
            "scikit-learn 1.1, numpy 1.x, scipy, pandas",
            ("sklearn-1.1", "sklearn-1.1.*"),
        ),
        CuratedEnvironment(
            "sklearn-1.5",
            ("scikit-learn==1.5.*", "numpy", "scipy", "pandas", "joblib"),
            "scikit-learn 1.5, numpy, scipy, pandas",
            ("sklearn-1.5", "sklearn-1.5.*"),
        ),
        CuratedEnvironment(
            "lightgbm-3.3",
            ("lightgbm==3.3.*", "scikit-learn", "numpy", "pandas"),
            "LightGBM 3.3, scikit-learn, numpy, pandas",
            ("lightgbm-3.*",),
            note="LightGBM 3.3 is the one catalogued 3.x line",
        ),
        CuratedEnvironment(
            "pytorch-2.x-cpu",
            ("torch==2.13.0", "numpy"),
            "PyTorch 2.13 (CPU build), numpy",
            ("pytorch-*", "acpt-pytorch-*", "torch-*"),
            note="PyTorch as the CPU build torch 2.13.0; CUDA and older torch versions are not reproduced",
        ),
        CuratedEnvironment(
            "tensorflow-2.x",
            ("tensorflow-cpu>=2.16,<3", "numpy"),
            "TensorFlow 2 (CPU build, 2.16 or later), numpy",
            ("tensorflow-2*",),
            note="TensorFlow as the CPU build of 2.16 or later (older 2.x have no wheels for Python 3.11+)",
        ),
        CuratedEnvironment(
            "minimal",
            (),
            "no packages beyond the interpreter (mlyard serves the scoring script itself)",
            ("minimal",),
        ),
        CuratedEnvironment(
            "mlflow",
            ("mlflow-skinny>=2", "numpy", "pandas"),
            "MLflow (skinny), numpy, pandas: for MLflow models, whose own requirements come with them",
            ("mlflow",),
        ),
    )
}

# Names as Azure ML users write them, for the "did you mean" of an unknown one.
KNOWN_NAMES = (
    "AzureML-sklearn-0.24-ubuntu18.04-py37-cpu", "AzureML-sklearn-1.0-ubuntu20.04-py38-cpu",
    "AzureML-sklearn-1.1-ubuntu20.04-py38-cpu", "sklearn-1.1", "sklearn-1.5",
    "AzureML-lightgbm-3.3-ubuntu20.04-py38-cpu", "lightgbm-3.3",
    "AzureML-pytorch-1.10-ubuntu18.04-py38-cuda11-gpu", "acpt-pytorch-2.2-cuda12.1",
    "AzureML-tensorflow-2.4-ubuntu18.04-py37-cuda11-gpu", "tensorflow-2.16-cuda12",
    "AzureML-Minimal", "AzureML-minimal-ubuntu20.04-py38-cpu-inference", "minimal-py311-inference",
    "AzureML-mlflow-ubuntu20.04-py38-cpu-inference", "mlflow-py311-inference",
)  # fmt: skip

_IMAGE_PART = re.compile(r"^(ubuntu\d+(\.\d+)*|py\d+|cpu|gpu|cuda\d*(\.\d+)*|cu\d+|inference)$")
_REGISTRY_REF = re.compile(
    r"^azureml://registries/(?P<registry>[^/]+)/environments/(?P<name>[^/:@]+)"
    r"(/versions/[^/]+|/labels/[^/]+)?(:[^/]+|@[^/]+)?/?$"
)


def is_curated_ref(ref: str) -> bool:
    """True for references that can only mean a curated environment (registry URL, `AzureML-…`)."""
    text = ref.strip()
    if text.startswith(REGISTRY_PREFIX):
        return True
    return text.removeprefix("azureml:").lower().startswith(CURATED_PREFIX)


def curated_name(ref: str) -> str:
    """The environment name inside a curated reference, without prefix, registry, version or label."""
    text = ref.strip()
    if text.startswith(REGISTRY_PREFIX):
        match = _REGISTRY_REF.match(text)
        if match is None:
            raise NotFound(
                f"{ref!r} is not a registry environment reference; expected "
                "azureml://registries/azureml/environments/NAME[/versions/N | /labels/latest]"
            )
        if match.group("registry") != "azureml":
            raise NotFound(
                f"registry {match.group('registry')!r} is not available locally; only Azure ML's own "
                "curated environments (azureml://registries/azureml/...) have local equivalents"
            )
        return match.group("name")
    text = text.removeprefix("azureml:")
    return re.split(r"[:@]", text, maxsplit=1)[0]


def family(name: str) -> str:
    """`AzureML-sklearn-1.0-ubuntu20.04-py38-cpu` → `sklearn-1.0`; `minimal-py311-inference` → `minimal`."""
    text = name.strip().lower().removeprefix(CURATED_PREFIX)
    return "-".join(part for part in text.split("-") if not _IMAGE_PART.match(part))


def find_curated(ref: str) -> CuratedEnvironment | None:
    """The catalog entry standing in for a curated reference, or None."""
    key = family(curated_name(ref))
    return next((entry for entry in CATALOG.values() if entry.matches(key)), None)


def resolve_curated(ref: str) -> ResolvedEnvironment:
    """The local equivalent of a curated environment; `NotFound` naming it and close matches."""
    entry = find_curated(ref)
    name = curated_name(ref)
    if entry is None:
        raise NotFound(unknown_curated_message(name))
    notes = [
        f"Azure ML curated environment {name}: local equivalent {entry.name!r} ({entry.description}); "
        f"Python {current_python_version()} (this machine's interpreter), not the image's"
    ]
    if entry.note:
        notes.append(entry.note)
    return ResolvedEnvironment(
        python_version=current_python_version(),
        requirements=tuple(sorted(normalize_requirement(p) for p in entry.packages)),
        curated=entry.name,
        ignored=tuple(notes),
    )


def unknown_curated_message(name: str) -> str:
    candidates = sorted({*KNOWN_NAMES, *CATALOG})
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5)
    close += [
        c for c in difflib.get_close_matches(family(name), list(CATALOG), n=3, cutoff=0.5) if c not in close
    ]
    hint = f"; did you mean {', '.join(close[:3])}?" if close else "."
    return (
        f"Azure ML curated environment {name!r} has no local equivalent in mlyard's catalog{hint} "
        f"Known families: {', '.join(CATALOG)}. Otherwise declare its packages in an environment "
        "of your own (conda_file or pip_requirements)."
    )
