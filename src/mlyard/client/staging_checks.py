"""Staging checks from Python, the CLI (`mlyard check …`) and the built-in components alike.

    smoke(client, endpoint="diabetes", data=Path("sample.csv"), model="diabetes:3")
    performance(client, endpoint="diabetes", request=Path("req.json"), plan=LoadPlan(300, 8, 30))
    data_quality(client, Path("scoring.csv"), against="diabetes-train@latest")
    responsible_ai(client, "credit:2", Path("test.csv"), label="default", sensitive_feature="sex")
    record(client, report, location="report.json")   # against report.model: what the gate reads

The requests are sent here (the SDK's layer may talk HTTP and reach endpoints by name, local or
remote); the verdicts are the rules of `services/validation/staging_checks.py` and
`fairness_checks.py`. Each returns a `CheckReport`; none raises because the endpoint, the data or
the model falls short (that is the report's job), only when the check cannot run (an unknown
endpoint, a missing file or column).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlyard.entities.governance.validation import CheckRecord, CheckReport
from mlyard.entities.registry.data import DataType
from mlyard.errors import InvalidArgument, MlyardError, NotFound, NotReady
from mlyard.services.data_assets.tabular import read_table
from mlyard.services.validation.data_checks import validate_data_file
from mlyard.services.validation.fairness_checks import Task, fairness_report
from mlyard.services.validation.scoring_checks import sample_request
from mlyard.services.validation.staging_checks import (
    DEFAULT_MAX_ERROR_RATE,
    DEFAULT_P99_MS,
    LoadPlan,
    checked_deployment,
    data_quality_report,
    performance_report,
    smoke_report,
)

if TYPE_CHECKING:
    import pandas as pd

    from mlyard.client.mlclient import MLClient

__all__ = [
    "ENV_ENDPOINT_KEY",
    "LoadPlan",
    "data_quality",
    "performance",
    "record",
    "responsible_ai",
    "smoke",
    "write_report",
]

ENV_ENDPOINT_KEY = "MLYARD_ENDPOINT_KEY"  # the key for --url, when --key is not given
DEFAULT_SAMPLE_ROWS = 5
# What a column of each signature type holds in a sample made from the signature alone.
_SIGNATURE_VALUES: dict[str, Any] = {
    "integer": 0, "number": 0.0, "boolean": False, "string": "", "datetime": "2024-01-01T00:00:00",
}  # fmt: skip


@dataclass(frozen=True)
class Target:
    """Where the requests go and with which headers; `name` is what reports call it."""

    url: str
    headers: dict[str, str]
    name: str


@dataclass(frozen=True)
class Sample:
    body: bytes
    rows: int | None


def smoke(
    client: MLClient,
    *,
    endpoint: str | None = None,
    url: str | None = None,
    key: str | None = None,
    request: Path | None = None,
    data: Path | None = None,
    rows: int = DEFAULT_SAMPLE_ROWS,
    model: str | None = None,
    expect_keys: Sequence[str] = (),
    deployment: str | None = None,
    timeout: float = 30.0,
) -> CheckReport:
    """One sample request to the endpoint (`endpoint` by name, or `url` with `key`); status 200 and
    one prediction per row (and `expect_keys`) expected back. Without `model`, an endpoint's is its
    deployment's (`deployment`, else the one taking the traffic)."""
    import httpx

    model = model or _deployed_model(client, endpoint, deployment)
    target = _target(client, endpoint, url, key, deployment)
    sample = _sample(client, request, data, rows, model)
    started = time.perf_counter()
    try:
        response = httpx.post(target.url, content=sample.body, headers=target.headers, timeout=timeout)
    except httpx.TransportError as exc:
        raise NotReady(f"the endpoint at {target.url} does not answer: {exc}") from exc
    report = smoke_report(
        target.name,
        response.status_code,
        response.text,
        sample.rows,
        expect_keys,
        time.perf_counter() - started,
    )
    return report.model_copy(update={"model": model})


def performance(
    client: MLClient,
    *,
    endpoint: str | None = None,
    url: str | None = None,
    key: str | None = None,
    request: Path | None = None,
    data: Path | None = None,
    rows: int = 1,
    model: str | None = None,
    plan: LoadPlan | None = None,
    p99_ms: float = DEFAULT_P99_MS,
    max_error_rate: float = DEFAULT_MAX_ERROR_RATE,
    deployment: str | None = None,
    timeout: float = 30.0,
) -> CheckReport:
    """A bounded load (`plan`: requests, concurrency, seconds) of one sample request; P50/P95/P99
    latency and the error rate held to `p99_ms` and `max_error_rate`."""
    import httpx

    plan = (plan or LoadPlan()).checked()
    model = model or _deployed_model(client, endpoint, deployment)
    target = _target(client, endpoint, url, key, deployment)
    sample = _sample(client, request, data, rows, model)
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    tickets = iter(range(plan.requests))
    started = time.monotonic()
    deadline = started + plan.seconds

    def worker() -> None:
        with httpx.Client(timeout=timeout) as http:
            while time.monotonic() < deadline:
                with lock:
                    if next(tickets, None) is None:
                        return
                sent = time.perf_counter()
                failure = None
                try:
                    response = http.post(target.url, content=sample.body, headers=target.headers)
                    if response.status_code != 200:
                        failure = f"{response.status_code}: {response.text[:120]}"
                except httpx.HTTPError as exc:
                    failure = f"{type(exc).__name__}: {exc}"
                elapsed = (time.perf_counter() - sent) * 1000
                with lock:
                    latencies.append(elapsed)
                    if failure is not None:
                        failures.append(failure)

    with ThreadPoolExecutor(plan.concurrency, thread_name_prefix="mlyard-load") as pool:
        for future in [pool.submit(worker) for _ in range(plan.concurrency)]:
            future.result()
    report = performance_report(
        target.name, latencies, failures, time.monotonic() - started, plan, p99_ms, max_error_rate
    )
    return report.model_copy(update={"model": model})


def data_quality(client: MLClient, data: Path, against: str, model: str | None = None) -> CheckReport:
    """The scoring input `data` against data asset `against`'s profile (`mlyard validate`'s rule)."""
    return data_quality_report(validate_data_file(data, client.data.get(against)), model)


def responsible_ai(
    client: MLClient,
    model: str,
    data: Path,
    label: str,
    sensitive_feature: str,
    task: Task | None = None,
    max_demographic_parity: float = 0.1,
    max_equalized_odds: float = 0.1,
    max_rmse_difference: float | None = None,
) -> CheckReport:
    """Registered model `model` scores the labelled test set `data` as a deployment would; the
    predictions' fairness across `sensitive_feature` against the thresholds, errors by group."""
    frame = _table(data)
    for option, column in (("--label", label), ("--sensitive-feature", sensitive_feature)):
        if column not in frame.columns:
            raise InvalidArgument(
                f"{option}: column {column!r} is not in {data} "
                f"(its columns: {', '.join(map(str, frame.columns))})"
            )
    if frame.empty:
        raise InvalidArgument(f"data file {data} has no rows to check")
    version = client.models.get(model)
    predictions = _predict(client, f"{version.name}:{version.version}", frame.drop(columns=[label]))
    report = fairness_report(
        str(data), frame[label], predictions, frame[sensitive_feature], task,
        max_demographic_parity, max_equalized_odds, max_rmse_difference,
    )  # fmt: skip
    return report.model_copy(update={"model": version.ref})


def record(
    client: MLClient, report: CheckReport, location: str | None = None, job_id: str | None = None
) -> CheckRecord | None:
    """Record `report` against the model version it names; None when it names none. Inside a job
    (`MLYARD_JOB_ID`), the job is recorded with it."""
    if report.model is None:
        return None
    return client.models.record_check(report, location, job_id or os.environ.get("MLYARD_JOB_ID"))


REPORT_ARTIFACT = "report"  # the job artifact folder a failed step's report is kept in
_JOBS = "azureml://jobs/"


def job_report_location(client: MLClient, report: CheckReport, written: Path, job_id: str) -> str:
    """Where a built-in component's step keeps the report it wrote to its `report` output.

    Outputs are stored for completed steps only, so a passing check's report is that output; a
    failing check fails its step, so its report is logged as the job's artifact `report/` too,
    and the record points there (`azureml://jobs/<id>/artifacts/report`)."""
    if report.passed:
        return f"{_JOBS}{job_id}/outputs/report"
    for file in (written, *written.parent.glob("*.txt")):
        client.jobs.log_artifact(job_id, file, REPORT_ARTIFACT)
    return f"{_JOBS}{job_id}/artifacts/{REPORT_ARTIFACT}"


def download_report(client: MLClient, record: CheckRecord, path: Path) -> Path:
    """The recorded report's files into `path`: from the job output or job artifact the record's
    location names, or the local file it names. NotFound when there is none to fetch."""
    location = record.location
    if location and location.startswith(_JOBS):
        job_id, _, rest = location[len(_JOBS) :].partition("/")
        kind, _, name = rest.partition("/")
        if kind == "outputs":
            return client.jobs.download(job_id, path, output_name=name)
        if kind == "artifacts":
            return client.jobs.download(job_id, path, artifact_path=name)
    if location and Path(location).is_file():
        path.mkdir(parents=True, exist_ok=True)
        target = path / Path(location).name
        target.write_bytes(Path(location).read_bytes())
        return target
    raise NotFound(
        f"check report {record.id} has no stored report to download (location: {location or 'none'}); "
        "write one with --report when running the check"
    )


def write_report(report: CheckReport, path: Path) -> Path:
    """Write the report: `path` ending in .json gets the JSON and a .txt summary beside it; any
    other path is a folder (a component's `report` output) that gets report.json and summary.txt.
    Returns the JSON file."""
    if path.suffix.lower() == ".json":
        json_file, text_file = path, path.with_suffix(".txt")
    else:
        json_file, text_file = path / "report.json", path / "summary.txt"
    json_file.parent.mkdir(parents=True, exist_ok=True)
    json_file.write_text(json.dumps(report.summary(), indent=2, default=str) + "\n")
    text_file.write_text(report.text())
    return json_file


def _target(
    client: MLClient, endpoint: str | None, url: str | None, key: str | None, deployment: str | None
) -> Target:
    if (endpoint is None) == (url is None):
        raise InvalidArgument(
            "say which endpoint to check: --endpoint NAME or --url SCORING_URL (one of them)"
        )
    headers = {"content-type": "application/json"}
    if deployment:
        headers["azureml-model-deployment"] = deployment
    if url is not None:
        if not url.startswith(("http://", "https://")):
            raise InvalidArgument(f"--url must be an http(s) URL, not {url!r}")
        key = key or os.environ.get(ENV_ENDPOINT_KEY)
        if key:
            headers["authorization"] = f"Bearer {key}"
        return Target(url, headers, url)
    assert endpoint is not None
    found = client.online_endpoints.get(endpoint)  # NotFound names the endpoint
    if found.scoring_uri is None:
        raise NotReady(
            f"online endpoint {endpoint!r} is not served by a running server; start: mlyard server start"
        )
    bearer = key or client.online_endpoints.get_credentials(endpoint).bearer
    headers["authorization"] = f"Bearer {bearer}"
    return Target(found.scoring_uri, headers, f"online endpoint {endpoint}")


def _deployed_model(client: MLClient, endpoint: str | None, deployment: str | None) -> str | None:
    """Without `--model`, the model version of the deployment the check measures (`--deployment`,
    else the one taking the traffic): its signature shapes the sample and the report is recorded
    against it. None for a URL, or a deployment without a registered model (code only)."""
    if endpoint is None:
        return None
    traffic = client.online_endpoints.get(endpoint).traffic  # NotFound names the endpoint
    chosen = checked_deployment(endpoint, traffic, deployment)
    found = client.online_deployments.get(chosen, endpoint)
    return found.model.ref if found.model is not None else None


def _sample(
    client: MLClient, request: Path | None, data: Path | None, rows: int, model: str | None
) -> Sample:
    """The request to send: a request file as it is, `rows` rows of a data file, or rows made from
    the model's signature when neither is given."""
    if request is not None and data is not None:
        raise InvalidArgument("give --request FILE or --data FILE, not both")
    if rows < 1:
        raise InvalidArgument(f"--rows must be at least 1, not {rows}")
    if request is not None:
        if not request.is_file():
            raise NotFound(f"request file {request} does not exist")
        body = request.read_bytes()
        return Sample(body, _request_rows(body))
    columns = _signature_columns(client, model) if model is not None else None
    if data is not None:
        frame = _table(data).head(rows)
        if columns:
            frame = frame[[name for name, _ in columns if name in frame.columns]]
        return Sample(sample_request(frame), len(frame))
    if not columns:
        raise InvalidArgument(
            "the check needs a sample request: give --request FILE or --data FILE"
            + (f" (model {model} has no column signature to make one from)" if model else "")
        )
    import pandas as pd

    frame = pd.DataFrame({name: [_SIGNATURE_VALUES.get(kind, "")] * rows for name, kind in columns})
    return Sample(sample_request(frame), rows)


def _signature_columns(client: MLClient, model: str) -> list[tuple[str, str]] | None:
    signature = client.models.get(model).signature
    if signature is None or signature.kind != "columns" or not signature.columns:
        return None
    return [(column["name"], column.get("type", "string")) for column in signature.columns]


def _request_rows(body: bytes) -> int | None:
    """The rows of a request file, counted by the scoring runtime's own parser; None when it
    cannot tell (a custom payload for a scoring script)."""
    from mlyard.serving.inputs import parse_scoring_request

    try:
        return parse_scoring_request(body, None).rows
    except MlyardError:
        return None


def _table(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise NotFound(f"data file {path} does not exist")
    frame = read_table(path, DataType.URI_FOLDER if path.is_dir() else DataType.URI_FILE)
    if frame is None:
        raise InvalidArgument(f"data file {path} is not a table: give a .csv, .tsv, .parquet or .jsonl file")
    return frame


def _predict(client: MLClient, model: str, features: pd.DataFrame) -> Any:
    """The model's predictions for `features`, through the scorer its deployments use."""
    from mlyard.serving.inputs import parse_scoring_request
    from mlyard.serving.scorers import load_scorer

    with tempfile.TemporaryDirectory(prefix="mlyard-check-", ignore_cleanup_errors=True) as folder:
        files = client.models.download(model, Path(folder) / "model")
        scorer = load_scorer(files.resolve())
        if scorer.schema is not None and scorer.schema.names:
            features = features[[name for name in scorer.schema.names if name in features.columns]]
        batch = parse_scoring_request(sample_request(features), scorer.schema)
        predictions = scorer.predict(batch)
    if isinstance(predictions, dict):  # named outputs: the first is the prediction
        predictions = next(iter(predictions.values()))
    return predictions
