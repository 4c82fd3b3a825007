"""One deployment as the supervisor runs it: generations of instance processes, rolled one to the next.

A generation is what one create or update recorded. It is prepared (environment built once per
spec hash, model and code fetched) in a thread, then its `instance_count` processes start; once
every one answers its readiness route it becomes the serving generation — the routing table
points at its instances — and the previous one drains (no new requests; SIGTERM once its
in-flight requests are done). A generation whose `init()` fails, whose environment does not
build, or whose instances keep exiting before they are ready is Failed with the reason; a serving
generation, if there was one, keeps serving.

A serving instance that exits is restarted with backoff (0.5 s doubling to 30 s, back to 0.5 s
once it stayed ready a minute) and the event, with its last stderr lines, goes into the
deployment's log. Probes follow the deployment's `liveness_probe` / `readiness_probe`: every
`period` seconds after `initial_delay`; `failure_threshold` failed liveness probes restart it,
failed readiness probes take it out of the routing until it answers again.

Everything here runs on the supervisor's thread, except preparing and draining (their own threads).
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from mlyard.entities.endpoints.endpoint import OnlineDeployment
from mlyard.errors import MlyardError
from mlyard.serving.deployment_log import DeploymentLog
from mlyard.serving.generations import BACKOFF_FIRST, BACKOFF_MAX, HEALTHY_RESET, Generation, Prepared, Slot
from mlyard.serving.instances import InstanceProcess
from mlyard.serving.routing import DeploymentRoute, InstanceRoute, Limits

EXITS_BEFORE_FAILED = 3
DRAIN_GRACE_SECONDS = 30.0


Prepare = Callable[[Generation], Prepared]
Report = Callable[[Generation, str, str | None], None]  # (generation, state, error)


class DeploymentRuntime:
    def __init__(
        self,
        route: DeploymentRoute,
        log: DeploymentLog,
        sockets: Path,
        prepare: Prepare,
        report: Report,
        close_pool: Callable[[InstanceRoute], None],
    ) -> None:
        self.route, self.log, self.sockets = route, log, sockets
        self._prepare, self._report, self._close_pool = prepare, report, close_pool
        self.serving: Generation | None = None
        self.pending: Generation | None = None
        self.draining: list[Generation] = []
        self.latest_tried = 0
        self.retired = False

    # --- what the database wants ---------------------------------------------------------------

    def want(self, deployment: OnlineDeployment) -> None:
        """Start the deployment's generation unless it was started (or tried) already."""
        if deployment.generation <= self.latest_tried:
            return
        if self.pending is not None:
            self.log.write(
                f"generation {self.pending.number} is superseded by generation {deployment.generation}"
            )
            self._drain(self.pending)
        self.latest_tried = deployment.generation
        generation = Generation(deployment.generation, deployment)
        self.pending = generation
        if self.serving is None:
            self._apply_settings(generation)
        self.log.write(
            f"generation {generation.number}: preparing {generation.deployment.settings.instance_count} "
            f"instance(s) of {deployment.model.ref if deployment.model else 'no model'}"
        )
        threading.Thread(
            target=self._run_prepare, args=(generation,), name="mlyard-prepare", daemon=True
        ).start()

    def retire(self) -> None:
        """The deployment was deleted: drain everything."""
        if not self.retired:
            self.retired = True
            self.log.write("deployment deleted: draining its instances")
            for generation in (self.pending, self.serving):
                if generation is not None:
                    self._drain(generation)
            self.pending = self.serving = None
            self.route.instances = ()

    @property
    def stopped(self) -> bool:
        return self.retired and all(g.phase == "stopped" for g in self.draining)

    # --- one supervisor pass -------------------------------------------------------------------

    def step(self, now: float) -> bool:
        """Advance starting generations, watch serving instances; True when the routing changed."""
        before = self.route.instances
        if self.pending is not None:
            self._advance(self.pending, now)
        if self.serving is not None:
            self._maintain(self.serving, now)
            self.route.instances = tuple(slot.route for slot in self.serving.slots if slot.route is not None)
        self.draining = [g for g in self.draining if g.phase != "stopped"]
        self.log.flush()
        return self.route.instances != before

    def _advance(self, generation: Generation, now: float) -> None:
        if generation.phase == "preparing":
            if generation.error is not None:
                self._fail(generation, generation.error)
            elif generation.prepared is not None:
                generation.phase = "starting"
                count = generation.deployment.settings.instance_count
                generation.slots = [Slot(index) for index in range(count)]
                for slot in generation.slots:
                    self._spawn(generation, slot, now)
            return
        if generation.phase != "starting":
            return
        for slot in generation.slots:
            problem = self._watch_start(generation, slot, now)
            if problem is not None:
                self._fail(generation, problem)
                return
        if all(slot.route is not None for slot in generation.slots):
            self._promote(generation, now)

    def _watch_start(self, generation: Generation, slot: Slot, now: float) -> str | None:
        """Why the generation failed to start, or None while it is fine so far."""
        process = slot.process
        if process is None:
            if slot.start_error is not None and slot.exits_before_ready >= EXITS_BEFORE_FAILED:
                return slot.start_error
            if now >= slot.start_at:
                self._spawn(generation, slot, now)
            return None
        if process.loaded == "failed":
            return self._init_failed(generation, slot, process)
        if process.returncode is not None:
            slot.exits_before_ready += 1
            tail = "\n".join(process.stderr_tail)
            if slot.exits_before_ready >= EXITS_BEFORE_FAILED:
                return (
                    f"instance {slot.index} {process.describe_exit()} before it was ready, "
                    f"{slot.exits_before_ready} times:\n{tail}"
                )
            self._schedule_restart(generation, slot, process, now)
            return None
        if process.loaded == "ready" and slot.route is None:
            self._mark_ready(generation, slot, process, now)
        readiness = generation.deployment.settings.readiness_probe
        limit = readiness.initial_delay + readiness.period * readiness.failure_threshold
        if slot.route is None and now - process.started_at > limit:
            return (
                f"instance {slot.index} was not ready after {limit} s "
                "(readiness_probe: initial_delay + period × failure_threshold)"
            )
        return None

    def _promote(self, generation: Generation, now: float) -> None:
        previous = self.serving
        generation.phase = "serving"
        self.serving, self.pending = generation, None
        self._apply_settings(generation)
        self.route.instances = tuple(slot.route for slot in generation.slots if slot.route is not None)
        seconds = now - generation.started_at
        self.log.write(
            f"generation {generation.number}: all {len(generation.slots)} instance(s) ready after "
            f"{seconds:.1f} s; serving it"
        )
        self._report(generation, "Succeeded", None)
        if previous is not None:
            self.log.write(f"generation {previous.number}: draining (its in-flight requests finish first)")
            self._drain(previous)

    def _maintain(self, generation: Generation, now: float) -> None:
        for slot in generation.slots:
            process = slot.process
            if process is None:
                if now >= slot.start_at:
                    self._spawn(generation, slot, now)
                continue
            if process.returncode is not None or process.loaded == "failed":
                if process.loaded == "failed":
                    self.log.write(self._init_failed(generation, slot, process))
                    process.kill()
                    process.wait(2)
                self._schedule_restart(generation, slot, process, now)
                continue
            if slot.route is None and process.loaded == "ready":
                self._mark_ready(generation, slot, process, now)
            if slot.route is not None:
                self._probe(generation, slot, process, now)

    # --- instances -----------------------------------------------------------------------------

    def _spawn(self, generation: Generation, slot: Slot, now: float) -> None:
        prepared = generation.prepared
        assert prepared is not None
        label = f"{generation.label}/i{slot.index}"
        uds = (
            self.sockets
            / f"{generation.deployment.uid}-{generation.label}-i{slot.index}-r{slot.restarts}.sock"
        )
        process = InstanceProcess(
            label, [*prepared.command, "--uds", str(uds)], prepared.env, prepared.cwd, uds, self.log
        )
        try:
            process.start()
        except OSError as exc:
            slot.start_error = f"cannot start instance {slot.index} ({prepared.command[0]}): {exc}"
            slot.exits_before_ready += 1
            self.log.write(slot.start_error)
            slot.start_at = now + slot.backoff
            slot.backoff = min(BACKOFF_MAX, slot.backoff * 2)
            return
        slot.process, slot.route, slot.ready_since = process, None, None
        self.log.write(f"{label}: started instance {slot.index} (pid {process.pid})")

    def _mark_ready(self, generation: Generation, slot: Slot, process: InstanceProcess, now: float) -> None:
        if process.probe("/ready", generation.deployment.settings.readiness_probe.timeout) != 200:
            return
        slot.route = InstanceRoute(f"{generation.label}/i{slot.index}", str(process.uds), self.route)
        slot.ready_since = now
        probes = generation.deployment.settings.liveness_probe
        slot.next_probe_at = now + max(probes.initial_delay, probes.period)
        self.log.write(f"{generation.label}/i{slot.index}: ready after {now - process.started_at:.1f} s")

    def _schedule_restart(
        self, generation: Generation, slot: Slot, process: InstanceProcess, now: float
    ) -> None:
        if slot.ready_since is not None and now - slot.ready_since > HEALTHY_RESET:
            slot.backoff = BACKOFF_FIRST
        tail = "\n".join(list(process.stderr_tail)[-15:])
        self.log.write(
            f"{generation.label}/i{slot.index}: instance (pid {process.pid}) {process.describe_exit()}; "
            f"restarting in {slot.backoff:.1f} s" + (f"; its last stderr lines:\n{tail}" if tail else "")
        )
        self._forget(slot)
        slot.restarts += 1
        slot.start_at = now + slot.backoff
        slot.backoff = min(BACKOFF_MAX, slot.backoff * 2)

    def _init_failed(self, generation: Generation, slot: Slot, process: InstanceProcess) -> str:
        time.sleep(0.3)  # the traceback comes on stderr, read by another thread than the stdout line
        script = generation.deployment.code.scoring_script if generation.deployment.code else None
        what = f"init() of {script}" if script else "loading the model"
        tail = "\n".join(process.stderr_tail)
        return f"{what} failed in instance {slot.index}, so the deployment cannot serve:\n{tail}"

    def _probe(self, generation: Generation, slot: Slot, process: InstanceProcess, now: float) -> None:
        if now < slot.next_probe_at:
            return
        settings = generation.deployment.settings
        live = process.probe("/live", settings.liveness_probe.timeout) == 200
        ready = live and process.probe("/ready", settings.readiness_probe.timeout) == 200
        slot.next_probe_at = now + min(settings.liveness_probe.period, settings.readiness_probe.period)
        slot.liveness_failures = 0 if live else slot.liveness_failures + 1
        slot.readiness_failures = 0 if ready else slot.readiness_failures + 1
        if ready and slot.route is not None:
            slot.route.broken = False
        if slot.liveness_failures >= settings.liveness_probe.failure_threshold:
            self.log.write(
                f"{generation.label}/i{slot.index}: {slot.liveness_failures} failed liveness probes; "
                "killing it"
            )
            process.kill()
        elif slot.readiness_failures >= settings.readiness_probe.failure_threshold and slot.route is not None:
            self.log.write(
                f"{generation.label}/i{slot.index}: not ready ({slot.readiness_failures} failed probes); "
                "out of the routing"
            )
            self._close_pool(slot.route)
            slot.route = None

    def _forget(self, slot: Slot) -> None:
        if slot.route is not None:
            self._close_pool(slot.route)
        slot.process, slot.route = None, None

    # --- failing and draining ------------------------------------------------------------------

    def _fail(self, generation: Generation, error: str) -> None:
        generation.phase, generation.error = "failed", error
        if self.pending is generation:
            self.pending = None
        kept = f"; generation {self.serving.number} keeps serving" if self.serving is not None else ""
        self.log.write(f"generation {generation.number} failed{kept}: {error}")
        self.log.flush()
        self._report(generation, "Failed", error + kept)
        self._drain(generation)

    def _drain(self, generation: Generation) -> None:
        if generation.phase in ("draining", "stopped"):
            return
        generation.phase = "draining"
        self.draining.append(generation)
        threading.Thread(target=self._stop_all, args=(generation,), name="mlyard-drain", daemon=True).start()

    def _stop_all(self, generation: Generation) -> None:
        deadline = (
            time.monotonic() + generation.deployment.settings.request_settings.request_timeout_ms / 1000 + 2
        )
        routes = [slot.route for slot in generation.slots if slot.route is not None]
        while any(route.in_flight > 0 for route in routes) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # a request picked just before the switch reaches the instance first
        processes = [slot.process for slot in generation.slots if slot.process is not None]
        for process in processes:
            process.terminate()
        for process in processes:
            if not process.wait(DRAIN_GRACE_SECONDS):
                self.log.write(
                    f"{process.label}: did not stop within {DRAIN_GRACE_SECONDS:.0f} s; killing it"
                )
                process.kill()
                process.wait(5)
        for route in routes:
            self._close_pool(route)
        self.log.write(f"generation {generation.number}: stopped")
        generation.phase = "stopped"

    def stop_now(self) -> None:
        """The server is stopping: SIGTERM every instance of every generation and wait for them."""
        generations = [g for g in (self.pending, self.serving, *self.draining) if g is not None]
        processes = [s.process for g in generations for s in g.slots if s.process is not None]
        for process in processes:
            process.terminate()
        for process in processes:
            if not process.wait(10):
                process.kill()
                process.wait(5)
        self.log.flush()

    # --- helpers -------------------------------------------------------------------------------

    def _run_prepare(self, generation: Generation) -> None:
        try:
            generation.prepared = self._prepare(generation)
        except MlyardError as exc:
            generation.error = exc.message
        except Exception as exc:  # noqa: BLE001 - reported as the deployment's failure, with its traceback
            generation.error = f"preparing the deployment failed: {exc!r}\n{traceback.format_exc()}"

    def _apply_settings(self, generation: Generation) -> None:
        deployment = generation.deployment
        requests = deployment.settings.request_settings
        self.route.limits = Limits(
            max_concurrent=requests.max_concurrent_requests_per_instance,
            queue_wait_seconds=requests.max_queue_wait_ms / 1000,
            timeout_seconds=requests.request_timeout_ms / 1000,
        )
