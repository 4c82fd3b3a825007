"""The supervisor: makes the instance processes match the database, and keeps the gateway's routing table.

The team server runs one (see `server/background.py`). Every pass (`INTERVAL_SECONDS`) advances
each deployment's generations (`serving.deployment_runtime`): starts, readiness, restarts,
probes. Every `READ_SECONDS`, or at once after `refresh()`, it also reads every served
workspace's endpoints and deployments, starts or rolls what changed, drains what was deleted,
and — when something changed — swaps in a new `RoutingTable`. A REST call that changes an
endpoint waits for `refresh()` before it answers (a local client asks the server for one), so
the next request already follows the new split or key. Readiness changes need no new table: the
deployment routes it points at are updated in place.

Environments are built by the function the server hands in (`runtime.environments.prepare_environment`
— the runtime layer is beside this one, not below it).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from mlyard.entities.assets.environment_spec import ResolvedEnvironment
from mlyard.entities.endpoints.endpoint import DeploymentState, OnlineDeployment
from mlyard.errors import MlyardError
from mlyard.services.online import endpoint_deployments, endpoints
from mlyard.services.workspaces.workspace import Workspace
from mlyard.serving.collector import CollectorWriter, DataCollector
from mlyard.serving.deployment_log import DeploymentLog
from mlyard.serving.deployment_runtime import DeploymentRuntime
from mlyard.serving.gateway import Gateway
from mlyard.serving.generations import Generation, Prepared, copy_code
from mlyard.serving.instances import socket_folder
from mlyard.serving.routing import (
    DeploymentRoute,
    EndpointRoute,
    InstanceRoute,
    RoutingTable,
    close_pool_soon,
)

logger = logging.getLogger("mlyard.gateway")
INTERVAL_SECONDS = 0.25
READ_SECONDS = 1.0  # changes made by clients come with a refresh(); this catches any other writer
# (workspace, resolved environment or None, log line sink) → the interpreter to run instances with
PrepareEnvironment = Callable[[Workspace, ResolvedEnvironment | None, Callable[[str], None]], Path]
RuntimeKey = tuple[str, str, str, str]  # workspace, endpoint, deployment, uid


class Supervisor:
    def __init__(
        self,
        workspaces: dict[str, Workspace],
        gateway: Gateway,
        prepare_environment: PrepareEnvironment,
        default_workspace: str | None = None,
        interval: float = INTERVAL_SECONDS,
    ) -> None:
        self.workspaces = workspaces
        self.gateway = gateway
        self.prepare_environment = prepare_environment
        self.default_workspace = default_workspace
        self.interval = interval
        self.runtimes: dict[RuntimeKey, DeploymentRuntime] = {}
        self.retiring: list[DeploymentRuntime] = []
        self.collectors = CollectorWriter()
        self.sockets = socket_folder()
        self.work_dir = self.sockets / "work"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._passes = 0
        self._done = threading.Condition()
        self._thread: threading.Thread | None = None
        self._tables: dict[str, dict[str, EndpointRoute]] = {}
        self._records: dict[str, list[endpoints.EndpointRecord]] = {}
        self._read_due = True
        self._next_read = 0.0

    def start(self) -> None:
        self.collectors.start()
        self._thread = threading.Thread(target=self._loop, name="mlyard-supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop every instance (they drain what is in flight), write collected data, clean up."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        for runtime in [*self.runtimes.values(), *self.retiring]:
            runtime.stop_now()
        self.collectors.stop()
        shutil.rmtree(self.sockets, ignore_errors=True)
        with self._done:
            self._done.notify_all()

    def refresh(self, timeout: float = 10.0) -> None:
        """Return once a whole pass has run after this call (the routing table follows the database)."""
        with self._done:
            target = self._passes + 2
            self._read_due = True
            self._wake.set()
            self._done.wait_for(lambda: self._passes >= target or self._stop.is_set(), timeout)

    # --- the loop ------------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._pass()
            except Exception:  # the loop must survive one bad pass
                logger.exception("the endpoint supervisor's pass failed")
            with self._done:
                self._passes += 1
                self._done.notify_all()
            self._wake.wait(self.interval)
            self._wake.clear()

    def _pass(self) -> None:
        now = time.monotonic()
        with self._done:
            read, self._read_due = self._read_due or now >= self._next_read, False
        if read:
            self._next_read = now + READ_SECONDS
            self._read_all()
        for runtime in [*self.runtimes.values(), *self.retiring]:
            runtime.step(now)
        self.retiring = [runtime for runtime in self.retiring if not runtime.stopped]

    def _read_all(self) -> None:
        """Follow the database: what to run, and a new routing table if anything changed."""
        seen: set[RuntimeKey] = set()
        changed = False
        for name, workspace in self.workspaces.items():
            try:
                records = endpoints.endpoint_records(workspace)
            except MlyardError as exc:  # keep serving what we know while the database is away
                logger.warning("workspace %r: reading endpoints failed: %s", name, exc.message)
                seen.update(key for key in self.runtimes if key[0] == name)
                continue
            tables = {
                record.endpoint.name: self._endpoint_route(name, workspace, record, seen)
                for record in records
            }
            if records != self._records.get(name):
                self._records[name], self._tables[name], changed = records, tables, True
        for key in [key for key in self.runtimes if key not in seen]:
            runtime = self.runtimes.pop(key)
            runtime.retire()
            self.retiring.append(runtime)
        if changed:
            self.gateway.table = RoutingTable(dict(self._tables), self.default_workspace)

    def _endpoint_route(
        self, ws: str, workspace: Workspace, record: endpoints.EndpointRecord, seen: set[RuntimeKey]
    ) -> EndpointRoute:
        endpoint = record.endpoint
        routes: dict[str, DeploymentRoute] = {}
        for deployment in record.deployments:
            key = (ws, endpoint.name, deployment.name, deployment.uid)
            seen.add(key)
            runtime = self.runtimes.get(key) or self._new_runtime(key, workspace, deployment)
            runtime.want(deployment)
            runtime.route.state = deployment.provisioning_state.value
            self._collect(workspace, runtime, deployment)
            routes[deployment.name] = runtime.route
        route = EndpointRoute.build(
            ws, endpoint.name, endpoint.auth_mode, (record.primary_key, record.secondary_key),
            record.token_secret, routes, endpoint.traffic, endpoint.mirror_traffic,
        )  # fmt: skip
        route.unrouted = self.gateway.metrics.stats(ws, endpoint.name, "")
        return route

    def _new_runtime(
        self, key: RuntimeKey, workspace: Workspace, deployment: OnlineDeployment
    ) -> DeploymentRuntime:
        ws, endpoint, name, uid = key
        route = DeploymentRoute(ws, endpoint, name)
        route.stats = self.gateway.metrics.stats(ws, endpoint, name)
        log = DeploymentLog(workspace.artifacts, endpoint_deployments.log_path(endpoint, name, uid))

        def prepare(generation: Generation) -> Prepared:
            return self._prepare(workspace, generation, log)

        def report(generation: Generation, state: str, error: str | None) -> None:
            route.state = state
            try:
                endpoint_deployments.set_state(
                    workspace, endpoint, name, generation.number, DeploymentState(state), error
                )
            except MlyardError as exc:
                logger.warning("recording the state of %s/%s failed: %s", endpoint, name, exc.message)

        def close_pool(instance: InstanceRoute) -> None:
            close_pool_soon(instance, self.gateway.loop)

        runtime = DeploymentRuntime(route, log, self.sockets, prepare, report, close_pool)
        self.runtimes[key] = runtime
        return runtime

    def _collect(
        self, workspace: Workspace, runtime: DeploymentRuntime, deployment: OnlineDeployment
    ) -> None:
        """Point the route at a data collector when the serving generation asks for one."""
        serving = runtime.serving.deployment if runtime.serving is not None else deployment
        collector_spec = serving.settings.data_collector
        key = (runtime.route.workspace, deployment.endpoint_name, deployment.name)
        wanted = collector_spec is not None and (
            collector_spec.collects("model_inputs") or collector_spec.collects("model_outputs")
        )
        if not wanted or collector_spec is None:
            runtime.route.collector = None
            return
        current = self.collectors.collectors.get(key)
        settings = (collector_spec.collects("model_inputs"), collector_spec.collects("model_outputs"),
                    collector_spec.rolling_rate)  # fmt: skip
        if current is None or (current.inputs, current.outputs, current.rolling_rate) != settings:
            root = endpoint_deployments.collected_root(deployment.endpoint_name, deployment.name)
            current = DataCollector(workspace.artifacts, root, *settings)
            self.collectors.collectors[key] = current
        runtime.route.collector, runtime.route.sampling_rate = current, collector_spec.sampling_rate

    # --- preparing a generation ----------------------------------------------------------------

    def _prepare(self, workspace: Workspace, generation: Generation, log: DeploymentLog) -> Prepared:
        from mlyard.services.assets.code_snapshots import code_folder
        from mlyard.services.model_registry import models
        from mlyard.services.model_registry.model_layout import scoring_model_dir

        deployment = generation.deployment
        resolved = (
            ResolvedEnvironment.model_validate(deployment.environment) if deployment.environment else None
        )
        python = self.prepare_environment(workspace, resolved, lambda line: log.write(line, "environment"))
        folder = self.work_dir / f"{deployment.uid}-g{generation.number}"
        folder.mkdir(parents=True, exist_ok=True)
        if deployment.model is not None:
            version = models.get_model_version(workspace, deployment.model.ref)
            model_dir = models.model_local_path(workspace, version)
            if deployment.code is not None:  # a score.py reads Azure's layout; a flavor, the files
                model_dir = scoring_model_dir(version, model_dir, folder / "azureml-models")
        else:
            model_dir = folder / "model"
            model_dir.mkdir(exist_ok=True)
        settings = deployment.settings
        requests = settings.request_settings
        command = [
            str(python), "-m", "mlyard.serving.instance", "--model-dir", str(model_dir),
            "--name", deployment.endpoint_name,
            "--max-concurrent-requests", str(requests.max_concurrent_requests_per_instance),
            "--request-timeout-ms", str(requests.request_timeout_ms),
            "--max-body-bytes", str(max(self.gateway.max_body_bytes, 1)), "--parent-pid", str(os.getpid()),
        ]  # fmt: skip
        if deployment.model is not None:
            command += ["--model-version", deployment.model.version]
        cwd = folder
        if deployment.code is not None:
            stored = code_folder(workspace, deployment.code.artifact_path, deployment.code.code_hash)
            cwd = copy_code(stored, folder / "code")
            command += ["--code-dir", str(cwd), "--scoring-script", deployment.code.scoring_script]
        env = {**os.environ, **settings.environment_variables, "PYTHONUNBUFFERED": "1"}
        log.write(f"generation {generation.number}: environment ready ({python})")
        return Prepared(command=command, env=env, cwd=cwd)
