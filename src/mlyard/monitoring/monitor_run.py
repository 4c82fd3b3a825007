"""One monitor run: `python -m mlyard.monitoring.monitor_run JOB_ID` (started by runtime/monitor_runner).

For each signal of the job's monitor snapshot: find its production and reference data
(services/monitors/sources: the deployment's collected files of the window, a batch deployment's
jobs, data assets, the model's training data through lineage), `compare` them, and keep every
metric's value, threshold, verdict and histograms. A signal that cannot run (no data in the
window, a malformed file, a missing column) is recorded as that signal's error and the others
still run. Then the results are stored and `alerts.apply_verdicts` decides what to announce.
Lines on stdout are the job's log. Exit 0 whatever breached; 1 only when the run itself broke.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlyard.entities.automation.monitor import Verdict
from mlyard.errors import InvalidArgument, MlyardError
from mlyard.monitoring import custom_signal, reading
from mlyard.monitoring.attribution import feature_attribution_drift
from mlyard.monitoring.compare import MetricResult, compare
from mlyard.monitoring.signals import plan_signals
from mlyard.services.monitors import sources
from mlyard.services.monitors.specs import COLLECTED, ENDPOINT_HEALTH_METRICS
from mlyard.services.workspaces.workspace import ENV_WORKSPACE, Workspace, open_workspace

if TYPE_CHECKING:
    import pyarrow as pa

# Columns the data collector adds to every row: never features.
COLLECTOR_COLUMNS = ("request_id", "timestamp", "row")
Say = Callable[[str], None]


@dataclass(frozen=True)
class Side:
    table: pa.Table | None  # None: left as `files`, summarised on Ray
    described: str  # what `show` says was used
    window: sources.Window | None
    files: Path | None = None


# Signals whose production side is only summarised, so its files can be summarised on Ray.
SUMMARISED = ("data_drift", "prediction_drift", "data_quality")


class MonitorRun:
    def __init__(
        self, workspace: Workspace, job_id: str, spec: dict[str, Any], cache: Path, say: Say
    ) -> None:
        self.workspace, self.job_id, self.spec, self.cache, self.say = workspace, job_id, spec, cache, say
        self.monitor: str = spec["monitor"]
        self.as_of = datetime.fromisoformat(spec["as_of"])
        self.lookback: str = spec["lookback"]
        self.target: dict[str, Any] = spec["target"]
        self.ray: str | None = self._ray_address(spec["create_monitor"].get("compute"))

    def _ray_address(self, compute: Any) -> str | None:
        """`compute` naming a Ray target: its address ("" for a Ray instance on this machine)."""
        if not isinstance(compute, str):
            return None
        from mlyard.services.assets.computes import resolve_compute

        found = resolve_compute(self.workspace, compute)
        if found is None or found.type != "ray":
            return None
        return found.address or ""

    def run(self) -> int:
        signals: dict[str, dict[str, Any]] = self.spec["create_monitor"]["monitoring_signals"]
        watched = (
            f"{self.target['endpoint']}:{self.target['deployment']} ({self.target['kind']})"
            if self.target.get("endpoint") else "data assets"
        )  # fmt: skip
        self.say(
            f"[monitor] {self.monitor}: {len(signals)} signal(s) on {watched}, as of {self.as_of.isoformat()}"
        )
        results: list[dict[str, Any]] = []
        for name, signal in signals.items():
            try:
                found = self._signal(name, signal)
            except MlyardError as exc:
                found = [self._error(name, signal, exc.message)]
            except Exception as exc:  # noqa: BLE001 - one signal's failure must not stop the others
                found = [self._error(name, signal, f"{type(exc).__name__}: {exc}")]
            for result in found:
                self._describe(result)
            results.extend(found)
        from mlyard.services.monitors.monitors import record_results

        record_results(self.workspace, self.monitor, self.job_id, results)
        verdicts = [
            Verdict(r["signal"], r["signal_type"], r["feature"], r["metric"], r["value"], r["threshold"],
                    r["breached"], r["error"])
            for r in results
        ]  # fmt: skip
        self._alert(verdicts)
        breached = sorted({v.signal for v in verdicts if v.breached})
        errors = sorted({v.signal for v in verdicts if v.error})
        self.say(
            f"[monitor] done: {len(results)} result(s); breached: {', '.join(breached) or 'none'}; "
            f"signal errors: {', '.join(errors) or 'none'}"
        )
        return 0

    def _alert(self, verdicts: list[Verdict]) -> None:
        from mlyard.services.monitors.alerts import apply_verdicts

        notification = self.spec["create_monitor"].get("alert_notification") or {}
        outcome = apply_verdicts(
            self.workspace, monitor_name=self.monitor, job_id=self.job_id, verdicts=verdicts,
            emails=notification.get("emails", []), webhooks=notification.get("webhooks", []),
            model=self.target.get("model"),
        )  # fmt: skip
        self.say(f"[monitor] alerts: {outcome}")

    # --- one signal -------------------------------------------------------------------------

    def _signal(self, name: str, signal: dict[str, Any]) -> list[dict[str, Any]]:
        kind = signal["type"]
        if kind == "model_staleness":
            return [self._staleness(name, signal)]
        if kind == "endpoint_health":
            return self._endpoint_health(name, signal)
        if kind == "custom":
            return self._custom(name, signal)
        production = self._production(signal)
        reference = self._reference(signal, production)
        assert reference.table is not None
        rows = f"{production.table.num_rows} rows" if production.table is not None else "files on Ray"
        self.say(
            f"[monitor] {name} ({kind}): production {production.described}, "
            f"{rows}; reference {reference.described}, {reference.table.num_rows} rows"
        )
        checked = {name: {k: v for k, v in signal.items() if k not in ("production_data", "reference_data",
                                                                        "alert_enabled")}}  # fmt: skip
        columns = {**(signal.get("data_column_names") or {}),
                   **((signal.get("reference_data") or {}).get("data_column_names") or {})}  # fmt: skip
        if columns:
            checked[name]["data_column_names"] = columns
        if production.table is None:  # on Ray: the files, summarised where Ray runs them
            from mlyard.monitoring.ray_summaries import ray_summarizer

            assert production.files is not None
            summarizer = ray_summarizer(self.ray or None)
            ref_only = _without_collector_columns(reference.table)
            found = compare(ref_only, production.files, checked, summarize_files=summarizer)
            return self._rows(found, production, reference)
        prod_table, ref_table = production.table, reference.table
        if kind == "model_performance":
            # The ground truth names its correlation id column (data_column_names.correlation_id);
            # without one, a ground truth keyed by `request_id` joins the collected request ids.
            correlation = columns.get("correlation_id") or (
                "request_id" if "request_id" in ref_table.column_names else "correlation_id"
            )
            checked[name]["data_column_names"] = {**columns, "correlation_id": correlation}
            if correlation not in prod_table.column_names and "request_id" in prod_table.column_names:
                prod_table = prod_table.rename_columns(
                    [correlation if c == "request_id" else c for c in prod_table.column_names]
                )
        else:
            prod_table = _without_collector_columns(prod_table)
            ref_table = _without_collector_columns(ref_table)
        return self._rows(self._compared(kind, ref_table, prod_table, checked), production, reference)

    @staticmethod
    def _rows(found: list[MetricResult], production: Side, reference: Side) -> list[dict[str, Any]]:
        window = production.window
        return [
            {
                "signal": r.signal,
                "signal_type": r.signal_type,
                "feature": r.feature,
                "metric": r.metric,
                "value": r.value,
                "threshold": r.threshold,
                "breached": bool(r.breached),
                "error": None,
                "reference_histogram": _histogram(r.reference_histogram),
                "production_histogram": _histogram(r.production_histogram),
                "window_start": window.start if window else None,
                "window_end": window.end if window else None,
                "reference": reference.described,
            }  # fmt: skip
            for r in found
        ]

    @staticmethod
    def _compared(
        kind: str, reference: pa.Table, production: pa.Table, checked: dict[str, Any]
    ) -> list[MetricResult]:
        if kind == "feature_attribution_drift":  # importances need both whole tables, not summaries
            (plan,) = plan_signals(checked)
            return feature_attribution_drift(reference, production, plan)
        return compare(reference, production, checked)

    def _window(self, data_window: dict[str, Any] | None) -> sources.Window:
        """What a `data_window` selects as of this run (no window: the monitor's lookback)."""
        return sources.window_of(data_window, self.as_of, self.lookback)

    def _production(self, signal: dict[str, Any]) -> Side:
        given = signal.get("production_data") or {}
        window = self._window(given.get("data_window"))
        input_data = given.get("input_data")
        if input_data:
            ref = self._input_ref(input_data["path"])
            path = sources.data_path(self.workspace, ref)
            whole = not given.get("data_window") and input_data.get("type") != "mltable"
            whole = whole and not (path.is_dir() and (path / "MLTable").is_file())
            if self.ray is not None and whole and signal["type"] in SUMMARISED:
                return Side(None, f"{ref} (summarised on Ray)", None, files=path)
            table = _read(path, input_data.get("type"))
            if given.get("data_window"):
                table = _in_window(table, window, "production_data")
            return Side(table, ref, window if given.get("data_window") else None)
        context = given.get("data_context") or COLLECTED[signal["type"]]
        return Side(
            self._deployment_data(context, window, "production_data"), f"{context} (collected)", window
        )

    def _deployment_data(self, context: str, window: sources.Window, what: str) -> pa.Table:
        endpoint, deployment = self.target["endpoint"], self.target["deployment"]
        if self.target["kind"] == "batch":
            files = sources.batch_files(self.workspace, endpoint, deployment, context, window, self.cache)
        else:
            files = sources.collected_files(self.workspace, endpoint, deployment, context, window, self.cache)
        where = f"{what}: {endpoint}:{deployment} {context}"
        sources.require_files(files, where, window)
        table = _concat([reading.read_file(path) for path in files])
        if self.target["kind"] != "batch":
            table = _in_window(table, window, where)
        return table

    def _reference(self, signal: dict[str, Any], production: Side) -> Side:
        given = signal.get("reference_data") or {}
        input_data = given.get("input_data")
        if input_data:
            ref = self._input_ref(input_data["path"])
            table = _read(sources.data_path(self.workspace, ref), input_data.get("type"))
            if given.get("data_window"):
                window = self._window(given["data_window"])
                table = _in_window(table, window, "reference_data")
            return Side(table, ref, None)
        if signal["type"] == "prediction_drift":
            if production.window is None or not self.target.get("endpoint"):
                raise InvalidArgument("reference_data: give reference_data.input_data for prediction drift")
            previous = production.window.previous()
            context = (signal.get("production_data") or {}).get("data_context") or "model_outputs"
            table = self._deployment_data(context, previous, "reference_data (the previous window)")
            return Side(table, f"{context} of the previous window", previous)
        model = self.target.get("model")
        from mlyard.services.monitors.specs import training_data

        training = training_data(self.workspace, model) if model else None
        if training is None:
            raise InvalidArgument(f"reference_data: model {model} has no training data in its lineage")
        from mlyard.services.data_assets.data import get_data_asset

        asset = get_data_asset(self.workspace, training)
        table = _read(sources.data_path(self.workspace, training), str(asset.type))
        return Side(table, f"{training} (training data of model {model}, through lineage)", None)

    def _input_ref(self, path: str) -> str:
        return path  # pinned at create time: `name:version` or an absolute path

    def _staleness(self, name: str, signal: dict[str, Any]) -> dict[str, Any]:
        from mlyard.services.model_registry.models import get_model_version
        from mlyard.services.tracking.jobs import get_job

        model = self.target.get("model")
        if model is None:
            raise InvalidArgument("model_staleness: the monitor watches no model")
        version = get_model_version(self.workspace, model)
        trained, described = version.created_at, f"model {model} registered"
        if version.job_id is not None:
            job = get_job(self.workspace, version.job_id)
            trained = job.end_time or job.created_at
            described = f"model {model} trained by job {job.id}"
        window = self._window((signal.get("production_data") or {}).get("data_window"))
        age = (window.end - _utc(trained)).total_seconds() / 86400.0
        limit = float(signal.get("max_age_days", 60.0))
        return {
            "signal": name, "signal_type": "model_staleness", "feature": model, "metric": "max_age_days",
            "value": round(age, 4), "threshold": limit, "breached": age > limit, "error": None,
            "reference_histogram": None, "production_histogram": None,
            "window_start": window.start, "window_end": window.end,
            "reference": f"{described} at {_utc(trained).isoformat()}",
        }  # fmt: skip

    def _endpoint_health(self, name: str, signal: dict[str, Any]) -> list[dict[str, Any]]:
        """The gateway's persisted minutes of the window (services/online/endpoint_health). Latency
        and error rate breach above their thresholds, requests per second below its (traffic that
        stopped); a metric without a threshold is recorded, never breached."""
        from mlyard.services.online.endpoint_health import deployment_health

        endpoint, deployment = self.target["endpoint"], self.target["deployment"]
        window = self._window((signal.get("production_data") or {}).get("data_window"))
        health = deployment_health(self.workspace, endpoint, deployment, window.start, window.end)
        thresholds: dict[str, Any] = signal.get("metric_thresholds") or {}
        results = []
        for metric in ENDPOINT_HEALTH_METRICS:
            value: float | None = getattr(health, metric)
            threshold = thresholds.get(metric)
            breached = False
            if value is not None and threshold is not None:
                breached = value < threshold if metric == "requests_per_second" else value > threshold
            results.append({
                "signal": name, "signal_type": "endpoint_health", "feature": f"{endpoint}:{deployment}",
                "metric": metric, "value": value, "threshold": threshold, "breached": breached,
                "error": None, "reference_histogram": None, "production_histogram": None,
                "window_start": window.start, "window_end": window.end,
                "reference": f"{health.requests} request(s) through the gateway in the window",
            })  # fmt: skip
        return results

    def _custom(self, name: str, signal: dict[str, Any]) -> list[dict[str, Any]]:
        """The component as a child job on the signal's data (cut to its windows), its table read back."""
        from mlyard.entities.jobs.job import QUEUE
        from mlyard.entities.jobs.job_spec import ResolvedInput
        from mlyard.services.execution import queue
        from mlyard.services.execution.job_inputs import input_path
        from mlyard.services.monitors.custom_signals import custom_thresholds, submit_custom_child

        data_inputs: dict[str, str] = {}
        described = []
        window: sources.Window | None = None
        for port, given in (signal.get("input_data") or {}).items():
            ref = given["input_data"]["path"]
            data_type = given["input_data"].get("type")
            described.append(f"{port}={ref}")
            if not given.get("data_window"):
                data_inputs[port] = ref if ref.startswith("/") else f"azureml:{ref}"
                continue
            window = self._window(given["data_window"])
            table = _in_window(
                _read(sources.data_path(self.workspace, ref), data_type), window, f"input_data.{port}"
            )
            data_inputs[port] = str(_write_window(table, self.cache / "custom" / name / port, data_type))
        child, output = submit_custom_child(
            self.workspace, self.job_id, self.monitor, name, signal, data_inputs
        )
        local = queue.dispatch_of(self.workspace, child) != QUEUE
        self.say(f"[monitor] {name} (custom {signal['component_id']}): child job {child} on "
                 f"{', '.join(described) or 'its literal inputs'}")  # fmt: skip
        custom_signal.run_child(self.workspace, child, local, self.cache / "custom" / f"{child}.runner.log")
        output_type = "uri_folder"
        produced = input_path(
            self.workspace,
            ResolvedInput(type=output_type, source="job_output", job_id=child, output=output),
            self.cache / "custom" / child,
        )
        table = _read(produced, None)
        thresholds = custom_thresholds(signal.get("metric_thresholds"), "metric_thresholds")
        rows = custom_signal.verdicts(table, thresholds, f"output {output} of child job {child}")
        return [
            {
                "signal": name,
                "signal_type": "custom",
                "feature": row.feature,
                "metric": row.metric,
                "value": row.value,
                "threshold": row.threshold,
                "breached": row.breached,
                "error": None,
                "reference_histogram": None,
                "production_histogram": None,
                "window_start": window.start if window else None,
                "window_end": window.end if window else None,
                "reference": f"{signal['component_id']} (child job {child})",
            }  # fmt: skip
            for row in rows
        ]

    def _error(self, name: str, signal: dict[str, Any], message: str) -> dict[str, Any]:
        return {
            "signal": name, "signal_type": signal["type"], "feature": "", "metric": "", "value": None,
            "threshold": None, "breached": False, "error": message, "reference_histogram": None,
            "production_histogram": None, "window_start": None, "window_end": None, "reference": None,
        }  # fmt: skip

    def _describe(self, result: dict[str, Any]) -> None:
        if result["error"]:
            self.say(f"[monitor] {result['signal']}: signal error: {result['error']}")
            return
        verdict = "BREACHED" if result["breached"] else "ok"
        value = "n/a" if result["value"] is None else f"{result['value']:.6g}"
        self.say(f"[monitor] {result['signal']} {result['feature']} {result['metric']} = {value} "
                 f"(threshold {result['threshold']}): {verdict}")  # fmt: skip


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _histogram(histogram: Any) -> dict[str, Any] | None:
    return None if histogram is None else {"bins": list(histogram.bins), "counts": list(histogram.counts)}


def _read(path: Path, data_type: str | None) -> pa.Table:
    """A data asset's or a path's rows: Parquet/CSV files, or an MLTable folder."""
    import pyarrow as pa

    if data_type == "mltable" or (path.is_dir() and (path / "MLTable").is_file()):
        from mlyard.services.data_assets.tabular import read_mltable

        return pa.Table.from_pandas(read_mltable(path), preserve_index=False)
    return reading.read_all(path)


def _write_window(table: pa.Table, folder: Path, data_type: str | None) -> Path:
    """A data input's rows of the window as a Parquet file the child job reads (an MLTable folder
    when the input is one; the file itself for a uri_file)."""
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / "data.parquet")
    if data_type == "mltable":
        (folder / "MLTable").write_text(
            "paths:\n  - file: ./data.parquet\ntransformations:\n  - read_parquet\n"
        )
    return folder / "data.parquet" if data_type == "uri_file" else folder


def _concat(tables: list[pa.Table]) -> pa.Table:
    import pyarrow as pa

    return tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")


def _in_window(table: pa.Table, window: sources.Window, where: str) -> pa.Table:
    """The rows whose `timestamp` falls in the window (a table without one is kept whole)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if "timestamp" not in table.column_names:
        return table
    stamps: Any = table.column("timestamp")
    if not pa.types.is_timestamp(stamps.type):
        stamps = pc.cast(stamps, pa.timestamp("us", tz="UTC"))
    elif stamps.type.tz is None:
        stamps = pc.assume_timezone(stamps, "UTC")
    start = pa.scalar(window.start, type=pa.timestamp("us", tz="UTC"))
    end = pa.scalar(window.end, type=pa.timestamp("us", tz="UTC"))
    kept = table.filter(pc.and_(pc.greater_equal(stamps, start), pc.less(stamps, end)))
    if kept.num_rows == 0:
        raise InvalidArgument(
            f"{where}: no rows in the window {window.start.isoformat()} – {window.end.isoformat()}"
        )
    return kept


def _without_collector_columns(table: pa.Table) -> pa.Table:
    return table.drop_columns([c for c in COLLECTOR_COLUMNS if c in table.column_names])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m mlyard.monitoring.monitor_run JOB_ID", file=sys.stderr)
        return 2
    job_id = args[0]
    from mlyard.services.execution import job_runs

    def say(line: str) -> None:
        print(line, flush=True)

    try:
        workspace = open_workspace(os.environ.get(ENV_WORKSPACE), create=False)
        spec = job_runs.get_spec(workspace, job_id)
        cache = Path(os.environ.get("MLYARD_MONITOR_CACHE") or workspace.path / "cache" / "monitors" / job_id)
        return MonitorRun(workspace, job_id, spec, cache, say).run()
    except MlyardError as exc:
        say(f"[monitor] {exc.message}")
        return 1
    except Exception:  # noqa: BLE001 - the reason goes to the job's log
        say(f"[monitor] monitor run error: {traceback.format_exc(limit=5)}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
