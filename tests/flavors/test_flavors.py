"""Model flavors: one contract every saving flavor runs, then each flavor's own rules."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlyard.entities.registry.model import MODEL_METADATA_FILE, ModelMetadata, ModelSignature
from mlyard.errors import InvalidArgument, InvalidSpec, NotFound
from mlyard.flavors import FLAVORS, Flavor, get_flavor, guess_flavor
from mlyard.flavors.metadata import read_metadata, write_metadata
from mlyard.flavors.mlflow import read_mlmodel
from mlyard.flavors.signature import infer_signature

# Every registered flavor that can save a model object; "mlflow" only registers folders that
# MLflow wrote. A new flavor joins the contract below by being added to FLAVORS.
SAVING_FLAVORS = sorted(name for name in FLAVORS if name != "mlflow")
PROTOCOL_METHODS = ("check_model", "save", "load", "framework_versions", "can_register_folder")


@pytest.fixture(scope="module")
def diabetes() -> tuple[np.ndarray, np.ndarray]:
    features, target = load_diabetes(return_X_y=True)
    return features, target


@pytest.fixture(scope="module")
def ridge(diabetes: tuple[np.ndarray, np.ndarray]) -> Ridge:
    features, target = diabetes
    return Ridge(alpha=0.5).fit(features, target)


@pytest.fixture(params=SAVING_FLAVORS)
def saving_flavor(request: pytest.FixtureRequest) -> Flavor:
    flavor: Flavor = get_flavor(request.param)
    return flavor


# --- the contract ------------------------------------------------------------------------------


def test_saving_flavors_are_the_registered_ones_but_mlflow() -> None:
    assert SAVING_FLAVORS == ["custom", "onnx", "pytorch", "sklearn"]


@pytest.mark.parametrize("name", sorted(FLAVORS))
def test_every_flavor_module_exposes_its_flavor_with_the_protocol_shape(name: str) -> None:
    flavor = get_flavor(name)
    assert flavor.name == name
    assert get_flavor(name) is flavor  # cached
    for method in PROTOCOL_METHODS:
        assert callable(getattr(flavor, method))
    assert "python" in flavor.framework_versions()


@pytest.mark.parametrize("name", sorted(FLAVORS))
def test_every_flavor_refuses_an_object_it_cannot_save_naming_itself_and_the_type(
    name: str, tmp_path: Path
) -> None:
    flavor = get_flavor(name)
    with pytest.raises(InvalidArgument, match=rf"flavor '{name}' saves .*, not NoneType"):
        flavor.check_model(None)
    with pytest.raises(InvalidArgument, match=rf"flavor '{name}' saves .*, not NoneType"):
        flavor.save(None, tmp_path / "model")
    assert not (tmp_path / "model").exists()  # refused before anything is written


def test_a_saving_flavor_accepts_the_model_it_saves(saving_flavor: Flavor, ridge: Ridge) -> None:
    features = np.zeros((2, 10))
    model, _ = _sample(saving_flavor.name, ridge, features)
    saving_flavor.check_model(model)


@pytest.mark.parametrize("model", [object(), Ridge, {"coef": [1.0]}])
def test_sklearn_refuses_objects_without_a_predict_method(model: object, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="flavor 'sklearn' saves scikit-learn estimators .*'custom'"):
        get_flavor("sklearn").save(model, tmp_path)
    assert list(tmp_path.iterdir()) == []


def _sample(flavor: str, ridge: Ridge, features: np.ndarray) -> tuple[Any, Callable[[Any], np.ndarray]]:
    """A model each saving flavor takes, and how to get predictions out of it (or its loaded form)."""
    if flavor in ("sklearn", "custom"):
        return ridge, lambda model: np.asarray(model.predict(features))
    if flavor == "pytorch":
        import torch

        torch.manual_seed(0)
        module = torch.nn.Sequential(torch.nn.Linear(10, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
        tensor = torch.from_numpy(features.astype(np.float32))

        def torch_predict(model: Any) -> np.ndarray:
            with torch.inference_mode():
                return np.asarray(model(tensor).numpy())

        return module, torch_predict
    if flavor == "onnx":
        import onnxruntime
        from skl2onnx import to_onnx

        graph = to_onnx(ridge, features[:1].astype(np.float32), target_opset=17)

        def onnx_predict(model: Any) -> np.ndarray:
            session = model
            if not isinstance(model, onnxruntime.InferenceSession):
                session = onnxruntime.InferenceSession(model.SerializeToString())
            name = session.get_inputs()[0].name
            return np.asarray(session.run(None, {name: features.astype(np.float32)})[0])

        return graph, onnx_predict
    raise AssertionError(f"no sample model for flavor {flavor!r}: add one here")


def test_saved_model_loads_back_with_the_same_predictions(
    saving_flavor: Flavor, ridge: Ridge, diabetes: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    features, _ = diabetes
    model, predict = _sample(saving_flavor.name, ridge, features)
    model_file = saving_flavor.save(model, tmp_path)
    assert (tmp_path / model_file).is_file()
    metadata = ModelMetadata(
        flavor=saving_flavor.name,
        model_file=model_file,
        signature=infer_signature(features[:5]),
        framework_versions=saving_flavor.framework_versions(),
        created_at=datetime.now(UTC),
    )
    write_metadata(tmp_path, metadata)

    read_back = read_metadata(tmp_path)
    loaded = get_flavor(read_back.flavor).load(tmp_path, read_back)

    assert read_back == metadata
    np.testing.assert_array_equal(predict(loaded), predict(model))


def test_a_folder_a_flavor_saved_can_be_registered_with_it(
    saving_flavor: Flavor, ridge: Ridge, diabetes: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    model, _ = _sample(saving_flavor.name, ridge, diabetes[0])
    saving_flavor.save(model, tmp_path)
    saving_flavor.can_register_folder(tmp_path)


def test_framework_versions_name_python(saving_flavor: Flavor) -> None:
    versions = saving_flavor.framework_versions()
    assert versions["python"] == ".".join(str(part) for part in sys.version_info[:3])


# --- the registry ------------------------------------------------------------------------------


def test_unknown_flavor_names_the_valid_ones() -> None:
    with pytest.raises(
        InvalidArgument,
        match=r"^unknown model flavor 'x'; valid flavors are: custom, mlflow, onnx, pytorch, sklearn$",
    ):
        get_flavor("x")


class _OwnEstimator(BaseEstimator):  # type: ignore[misc]  # sklearn ships no type hints
    def predict(self, rows: Any) -> list[int]:
        return [0 for _ in rows]


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (Ridge(), "sklearn"),
        (make_pipeline(StandardScaler(), Ridge()), "sklearn"),
        (_OwnEstimator(), "sklearn"),
        ({"weights": [1, 2]}, "custom"),
        (object(), "custom"),
        (None, "custom"),
    ],
)
def test_guess_flavor(model: object, expected: str) -> None:
    assert guess_flavor(model) == expected


def test_importing_the_registry_and_guessing_a_plain_object_load_no_heavy_library() -> None:
    script = textwrap.dedent(
        """
        import sys
        from mlyard.flavors import guess_flavor
        assert guess_flavor({"a": 1}) == "custom"
        heavy = ("sklearn", "pandas", "numpy", "joblib", "mlflow", "mlyard.flavors.sklearn")
        print([name for name in heavy if name in sys.modules])
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# --- signatures --------------------------------------------------------------------------------


def test_signature_of_a_dataframe_names_normalised_column_types() -> None:
    frame = pd.DataFrame(
        {
            "age": [41, 52],
            "bmi": [22.5, 31.0],
            "sex": ["f", "m"],
            "smoker": [True, False],
            "visit": pd.to_datetime(["2024-01-02", "2024-03-04"]),
            "count": pd.array([1, None], dtype="Int64"),
            "group": pd.Categorical(["a", "b"]),
            "level": pd.Categorical([1, 2]),
            "mixed": [object(), 1],
        }
    )
    assert infer_signature(frame) == ModelSignature(
        kind="columns",
        columns=[
            {"name": "age", "type": "integer"},
            {"name": "bmi", "type": "number"},
            {"name": "sex", "type": "string"},
            {"name": "smoker", "type": "boolean"},
            {"name": "visit", "type": "datetime"},
            {"name": "count", "type": "integer"},
            {"name": "group", "type": "string"},  # pandas: categories that are strings
            {"name": "level", "type": "category"},
            {"name": "mixed", "type": "object"},
        ],
    )


def test_signature_of_an_ndarray_leaves_the_batch_dimension_open() -> None:
    signature = infer_signature(np.zeros((8, 3, 2), dtype=np.float32))
    assert signature == ModelSignature(kind="tensor", shape=[None, 3, 2], dtype="float32")


def test_signature_of_a_list_of_lists_is_a_tensor() -> None:
    signature = infer_signature([[1, 2, 3], [4, 5, 6]])
    assert signature == ModelSignature(kind="tensor", shape=[None, 3], dtype="int64")


def test_signature_of_ragged_lists_is_none() -> None:
    assert infer_signature([[1, 2], [3]]) is None


def test_signature_of_a_dict_of_lists_is_columns() -> None:
    signature = infer_signature({"age": [41, 52], "bmi": [22, 31.5], "sex": ["f", None]})
    assert signature == ModelSignature(
        kind="columns",
        columns=[
            {"name": "age", "type": "integer"},
            {"name": "bmi", "type": "number"},
            {"name": "sex", "type": "string"},
        ],
    )


@pytest.mark.parametrize("example", [None, "text", 3.5, [1, 2, 3], [], {}, {"a": 1}])
def test_signature_of_anything_else_is_none(example: object) -> None:
    assert infer_signature(example) is None


# --- metadata ----------------------------------------------------------------------------------


def test_metadata_round_trips_through_yaml(tmp_path: Path) -> None:
    metadata = ModelMetadata(
        flavor="sklearn",
        model_file="model.joblib",
        signature=ModelSignature(kind="tensor", shape=[None, 10], dtype="float64"),
        framework_versions={"scikit-learn": "1.5.2", "python": "3.11.7"},
        created_at=datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
    )
    write_metadata(tmp_path, metadata)
    assert "flavor: sklearn" in (tmp_path / MODEL_METADATA_FILE).read_text()
    assert read_metadata(tmp_path) == metadata


def test_missing_metadata_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=MODEL_METADATA_FILE):
        read_metadata(tmp_path)


def test_metadata_that_is_not_yaml_is_an_invalid_spec(tmp_path: Path) -> None:
    (tmp_path / MODEL_METADATA_FILE).write_text("flavor: [sklearn\n")
    with pytest.raises(InvalidSpec, match=f"{MODEL_METADATA_FILE} is not readable YAML"):
        read_metadata(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- sklearn\n", "must be a YAML mapping"),
        ("model_file: model.joblib\n", r"not valid model metadata: flavor: Field required"),
        ("flavor: sklearn\nsignature: {shape: [1]}\n", r"signature\.kind: Field required"),
    ],
)
def test_metadata_with_wrong_fields_is_an_invalid_spec_naming_file_and_field(
    tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / MODEL_METADATA_FILE).write_text(content)
    with pytest.raises(InvalidSpec, match=f"{MODEL_METADATA_FILE}.*{message}"):
        read_metadata(tmp_path)


# --- sklearn -----------------------------------------------------------------------------------


def test_sklearn_loads_back_the_estimator_class(ridge: Ridge, tmp_path: Path) -> None:
    flavor = get_flavor("sklearn")
    model_file = flavor.save(ridge, tmp_path)
    assert type(flavor.load(tmp_path, ModelMetadata(flavor="sklearn", model_file=model_file))) is Ridge


def test_sklearn_framework_versions_name_its_libraries() -> None:
    versions = get_flavor("sklearn").framework_versions()
    assert {"scikit-learn", "joblib", "numpy", "python"} <= versions.keys()


def test_sklearn_loads_the_only_pickle_of_a_registered_folder(
    ridge: Ridge, diabetes: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    import joblib

    features, _ = diabetes
    joblib.dump(ridge, tmp_path / "regressor.pkl")
    flavor = get_flavor("sklearn")
    flavor.can_register_folder(tmp_path)
    loaded = flavor.load(tmp_path, ModelMetadata(flavor="sklearn"))
    np.testing.assert_array_equal(loaded.predict(features), ridge.predict(features))


def test_sklearn_refuses_a_folder_without_a_model_file(tmp_path: Path) -> None:
    (tmp_path / "weights.pt").write_bytes(b"\0")
    with pytest.raises(InvalidArgument, match=rf"{tmp_path} has no \.joblib, \.pkl, \.pickle"):
        get_flavor("sklearn").can_register_folder(tmp_path)


def test_sklearn_load_names_a_missing_model_file(tmp_path: Path) -> None:
    metadata = ModelMetadata(flavor="sklearn", model_file="model.joblib")
    with pytest.raises(NotFound, match="model.joblib does not exist"):
        get_flavor("sklearn").load(tmp_path, metadata)


# --- custom ------------------------------------------------------------------------------------


def test_custom_load_returns_the_folder_of_a_prebuilt_model(tmp_path: Path) -> None:
    (tmp_path / "score.py").write_text("def run(data): return data\n")
    flavor = get_flavor("custom")
    flavor.can_register_folder(tmp_path)
    assert flavor.load(tmp_path, ModelMetadata(flavor="custom")) == tmp_path


def test_custom_refuses_an_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match=rf"model folder {tmp_path} is empty"):
        get_flavor("custom").can_register_folder(tmp_path)


def test_custom_save_of_an_unpicklable_model_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="cannot pickle the function model"):
        get_flavor("custom").save(lambda rows: rows, tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- pytorch and onnx ---------------------------------------------------------------------------


def test_pytorch_refuses_a_model_that_is_not_a_module(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="saves torch.nn.Module or TorchScript models, not dict"):
        get_flavor("pytorch").save({"weights": [1]}, tmp_path)


def test_pytorch_refuses_a_folder_without_torchscript(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes(b"\0")
    with pytest.raises(InvalidArgument, match=rf"{tmp_path} has no \.pt, \.pth, \.torchscript file"):
        get_flavor("pytorch").can_register_folder(tmp_path)


def test_onnx_refuses_a_model_that_is_not_a_graph(ridge: Ridge, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="saves an onnx.ModelProto .or its bytes., not Ridge"):
        get_flavor("onnx").save(ridge, tmp_path)


def test_onnx_load_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=rf"{tmp_path} has no \.onnx file to load"):
        get_flavor("onnx").load(tmp_path, ModelMetadata(flavor="onnx"))


def test_guess_flavor_of_torch_modules_and_onnx_graphs() -> None:
    import onnx
    import torch

    assert guess_flavor(torch.nn.Linear(2, 1)) == "pytorch"
    assert guess_flavor(onnx.ModelProto()) == "onnx"


# --- mlflow ------------------------------------------------------------------------------------

MLMODEL = """\
artifact_path: model
flavors:
  python_function:
    env:
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    python_version: 3.11.7
  sklearn:
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.5.2
mlflow_version: 2.16.0
signature:
  inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 10]}}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]'
"""


@pytest.fixture
def mlflow_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "mlflow-model"
    folder.mkdir()
    (folder / "MLmodel").write_text(MLMODEL)
    (folder / "model.pkl").write_bytes(b"not read by these tests")
    return folder


def test_mlflow_refuses_a_folder_without_mlmodel(tmp_path: Path) -> None:
    (tmp_path / "model.pkl").write_bytes(b"\0")
    with pytest.raises(InvalidArgument, match=rf"{tmp_path / 'MLmodel'} does not exist"):
        get_flavor("mlflow").can_register_folder(tmp_path)


def test_mlflow_registers_a_folder_with_mlmodel_and_reads_its_flavors(mlflow_folder: Path) -> None:
    get_flavor("mlflow").can_register_folder(mlflow_folder)
    mlmodel = read_mlmodel(mlflow_folder)
    assert sorted(mlmodel["flavors"]) == ["python_function", "sklearn"]
    assert "tensor-spec" in mlmodel["signature"]["inputs"]


def test_mlflow_refuses_an_mlmodel_without_flavors(tmp_path: Path) -> None:
    (tmp_path / "MLmodel").write_text("mlflow_version: 2.16.0\n")
    with pytest.raises(InvalidSpec, match="MLmodel is not an MLmodel file"):
        get_flavor("mlflow").can_register_folder(tmp_path)


def test_mlflow_cannot_save_a_model_object(ridge: Ridge, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="log it with mlflow itself"):
        get_flavor("mlflow").save(ridge, tmp_path)


def test_mlflow_load_without_mlflow_installed_says_how_to_install_it(
    mlflow_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # makes `import mlflow` fail
    monkeypatch.setitem(sys.modules, "mlflow.pyfunc", None)
    with pytest.raises(InvalidArgument, match=r"pip install 'mlyard\[mlflow\]'"):
        get_flavor("mlflow").load(mlflow_folder, ModelMetadata(flavor="mlflow"))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::UserWarning")  # mlflow's own advice on type hints
def test_mlflow_loads_a_model_mlflow_saved(
    ridge: Ridge, diabetes: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    import mlflow.sklearn as mlflow_sklearn  # the test extras install mlflow: never skipped

    features, _ = diabetes
    folder = tmp_path / "model"
    mlflow_sklearn.save_model(ridge, str(folder))
    flavor = get_flavor("mlflow")
    flavor.can_register_folder(folder)
    loaded = flavor.load(folder, ModelMetadata(flavor="mlflow"))
    np.testing.assert_array_equal(loaded.predict(features), ridge.predict(features))
