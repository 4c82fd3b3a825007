"""Scorers in-process: each flavor's folder loads for serving and predicts what the model predicts.

The scikit-learn fast path must give the very same bits as `model.predict`, for the estimators
it takes (linear models) and those it leaves to `predict` (everything else).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlyard.entities.registry.model import ModelMetadata
from mlyard.errors import InputMismatch, InvalidArgument, NotFound
from mlyard.flavors.metadata import write_metadata
from mlyard.serving.inputs import parse_scoring_request
from mlyard.serving.scorers import SCORERS, load_scorer
from mlyard.serving.scorers.sklearn import SklearnScorer, linear_kernel

from .conftest import save_model, save_pyfunc_model


def _score(folder: Path, rows: Any) -> Any:
    scorer = load_scorer(folder)
    batch = parse_scoring_request(
        json.dumps({"input_data": np.asarray(rows).tolist()}).encode(), scorer.schema
    )
    return scorer.predict(batch)


def test_every_servable_flavor_is_registered() -> None:
    assert sorted(SCORERS) == ["custom", "mlflow", "onnx", "pytorch", "sklearn"]


@pytest.mark.parametrize(
    "estimator",
    [
        Ridge(alpha=0.5),
        LinearRegression(),
        Lasso(alpha=0.01),
        ElasticNet(alpha=0.01),
        make_pipeline(StandardScaler(), Ridge()),
        RandomForestRegressor(n_estimators=5, random_state=0),
    ],
    ids=lambda estimator: type(estimator).__name__,
)
def test_sklearn_scorer_predicts_the_same_bits_as_model_predict(
    estimator: Any, diabetes: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    features, target = diabetes
    model = estimator.fit(features, target)
    save_model(tmp_path, model, "sklearn", features[:5])
    for rows in (features[:1], features[:100]):
        np.testing.assert_array_equal(_score(tmp_path, rows), model.predict(rows))


def test_linear_models_take_the_validation_free_kernel_and_others_do_not(
    diabetes: tuple[np.ndarray, np.ndarray],
) -> None:
    features, target = diabetes
    assert linear_kernel(Ridge().fit(features, target)) is not None
    assert linear_kernel(LinearRegression().fit(features, target)) is not None
    assert linear_kernel(ElasticNet().fit(features, target)) is None  # its own _decision_function
    assert linear_kernel(make_pipeline(StandardScaler(), Ridge()).fit(features, target)) is None


def test_a_model_fitted_on_a_dataframe_gets_its_columns_by_name(diabetes_frame: Any, tmp_path: Path) -> None:
    frame, target = diabetes_frame.data, diabetes_frame.target
    model = make_pipeline(StandardScaler(), Ridge()).fit(frame, target)
    save_model(tmp_path, model, "sklearn", frame.head())
    scorer = load_scorer(tmp_path)
    shuffled = list(reversed(frame.columns))
    body = {"dataframe_split": {"columns": shuffled, "data": frame[shuffled].head(3).values.tolist()}}
    predictions = scorer.predict(parse_scoring_request(json.dumps(body).encode(), scorer.schema))
    np.testing.assert_array_equal(predictions, model.predict(frame.head(3)))


def test_without_a_signature_the_fitted_feature_names_are_the_columns(
    diabetes_frame: Any, tmp_path: Path
) -> None:
    frame, target = diabetes_frame.data, diabetes_frame.target
    model = Ridge().fit(frame, target)
    save_model(tmp_path, model, "sklearn")  # no input example: no signature
    scorer = load_scorer(tmp_path)
    assert scorer.schema is not None and scorer.schema.names == tuple(frame.columns)
    body = {"dataframe_split": {"columns": list(frame.columns), "data": frame.head(2).values.tolist()}}
    batch = parse_scoring_request(json.dumps(body).encode(), scorer.schema)
    assert batch.array is not None  # numbers went straight to an array, no DataFrame
    np.testing.assert_array_equal(scorer.predict(batch), model.predict(frame.head(2)))
    with pytest.raises(InputMismatch, match=r"^missing column 's6' in dataframe_split\.columns"):
        parse_scoring_request(
            json.dumps(
                {"dataframe_split": {"columns": list(frame.columns)[:-1], "data": [[1] * 9]}}
            ).encode(),
            scorer.schema,
        )


def test_a_classifier_answers_its_labels(tmp_path: Path) -> None:
    from sklearn.datasets import load_iris

    features, target = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[target]
    model = LogisticRegression(max_iter=500).fit(features, labels)
    save_model(tmp_path, model, "sklearn", features[:5])
    assert list(_score(tmp_path, features[:3])) == list(model.predict(features[:3]))


def test_the_sklearn_scorer_names_a_wrong_width(diabetes: tuple[np.ndarray, np.ndarray]) -> None:
    features, target = diabetes
    scorer = SklearnScorer(Ridge().fit(features, target), None)
    batch = parse_scoring_request(b'{"input_data": [[1, 2, 3]]}', None)
    with pytest.raises(InputMismatch, match=r"^the model takes 10 values per row, got 3$"):
        scorer.predict(batch)


def test_pytorch_scorer_runs_torchscript_in_float32(
    diabetes: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    import torch

    features, _ = diabetes
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(10, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    save_model(tmp_path, module, "pytorch", features[:5].astype(np.float32))
    with torch.inference_mode():
        expected = module(torch.from_numpy(features[:20].astype(np.float32))).numpy()
    np.testing.assert_array_equal(_score(tmp_path, features[:20]), expected)


def test_onnx_scorer_runs_the_graph(diabetes: tuple[np.ndarray, np.ndarray], tmp_path: Path) -> None:
    import onnxruntime
    from skl2onnx import to_onnx

    features, target = diabetes
    graph = to_onnx(Ridge().fit(features, target), features[:1].astype(np.float32), target_opset=17)
    save_model(tmp_path, graph, "onnx")
    session = onnxruntime.InferenceSession(graph.SerializeToString())
    expected = session.run(None, {session.get_inputs()[0].name: features[:20].astype(np.float32)})[0]
    np.testing.assert_array_equal(_score(tmp_path, features[:20]), expected)
    assert load_scorer(tmp_path).schema is not None


def _mlflow_folder(model: Any, folder: Path) -> Path:
    import mlflow.sklearn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mlflow's advice on signatures
        mlflow.sklearn.save_model(model, str(folder))
    return folder


def test_an_mlflow_sklearn_folder_is_served_without_the_mlflow_package(
    diabetes: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    features, target = diabetes
    model = Ridge(alpha=0.3).fit(features, target)
    folder = _mlflow_folder(model, tmp_path / "mlflow-model")
    np.save(tmp_path / "rows.npy", features[:5])
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["mlflow"] = None  # any `import mlflow` fails from here on
        import json, numpy as np
        from pathlib import Path
        from mlyard.serving.inputs import parse_scoring_request
        from mlyard.serving.scorers import load_scorer
        scorer = load_scorer(Path({str(folder)!r}))
        rows = np.load({str(tmp_path / "rows.npy")!r})
        batch = parse_scoring_request(json.dumps({{"input_data": rows.tolist()}}).encode(), scorer.schema)
        print(scorer.flavor, json.dumps(scorer.predict(batch).tolist()))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    flavor, predictions = done.stdout.split(" ", 1)
    assert flavor == "mlflow"
    np.testing.assert_array_equal(json.loads(predictions), model.predict(features[:5]))


def test_an_mlflow_pyfunc_folder_is_served_through_mlflow(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mlflow's advice on signatures
        folder = save_pyfunc_model(tmp_path / "pyfunc", "model_input.sum(axis=1) * 2")
    scorer = load_scorer(folder)
    body = b'{"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2], [3, 4]]}}'
    assert list(scorer.predict(parse_scoring_request(body, None))) == [6, 14]


def test_a_custom_pickle_with_predict_is_served(
    diabetes: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    features, target = diabetes
    model = Ridge().fit(features, target)
    save_model(tmp_path, model, "custom", features[:5])
    np.testing.assert_array_equal(_score(tmp_path, features[:3]), model.predict(features[:3]))


def test_a_prebuilt_custom_folder_needs_a_scoring_script(tmp_path: Path) -> None:
    (tmp_path / "weights.bin").write_bytes(b"\0")
    write_metadata(tmp_path, ModelMetadata(flavor="custom"))
    with pytest.raises(InvalidArgument, match=r"holds no model\.pkl, so it cannot be served without code"):
        load_scorer(tmp_path)


def test_a_folder_with_no_flavor_says_how_to_serve_it(tmp_path: Path) -> None:
    (tmp_path / "weights.bin").write_bytes(b"\0")
    with pytest.raises(NotFound, match=r"has neither mlyard-model\.yaml nor an MLflow MLmodel file"):
        load_scorer(tmp_path)
