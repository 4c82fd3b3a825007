"""Monitors (Azure ML's `create_monitor`): reading them is for readers, running one (a job) for
contributors, creating and deleting them for operators, as schedules."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from mlyard.entities.automation.monitor import Monitor, MonitorDetails
from mlyard.entities.jobs.job import QUEUE, Job
from mlyard.monitoring.monitor_checks import check_signals
from mlyard.runtime.child_jobs import notify_queued
from mlyard.server.auth import ContributorWorkspace, OperatorWorkspace, ReaderWorkspace
from mlyard.server.schemas.monitors import MonitorList, MonitorRequest, MonitorResultList
from mlyard.server.uploads import kept_files
from mlyard.services.monitors import monitors, runs
from mlyard.services.schedules import schedules
from mlyard.services.tracking.jobs import get_job

router = APIRouter(prefix="/api/v1/workspaces/{ws}", tags=["monitors"])
MAX_WAIT_SECONDS = 3600.0


@router.post("/monitors", response_model=Monitor, status_code=status.HTTP_201_CREATED)
def create_monitor(ws: str, workspace: OperatorWorkspace, body: MonitorRequest, request: Request) -> Monitor:
    """Check the monitor whole (target, signals, metrics, data) and store it; with a trigger, its
    schedule too. Nothing is stored on any error."""
    with kept_files(request, ws, workspace.path, body.upload, body.base) as base:
        return schedules.create_monitor_spec(
            workspace, body.spec, base, body.source, check_statistics=check_signals
        )


@router.get("/monitors", response_model=MonitorList)
def list_monitors(workspace: ReaderWorkspace) -> MonitorList:
    return MonitorList(value=monitors.list_monitors(workspace))


@router.get("/monitors/{name}", response_model=MonitorDetails)
def show_monitor(workspace: ReaderWorkspace, name: str) -> MonitorDetails:
    """The monitor, its latest run's verdicts and its last runs."""
    return monitors.show_monitor(workspace, name)


@router.post("/monitors/{name}/run", response_model=Job, status_code=status.HTTP_201_CREATED)
def run_monitor(
    workspace: ContributorWorkspace,
    name: str,
    wait: Annotated[bool, Query(description="answer once the job has ended")] = False,
    timeout: Annotated[float, Query(gt=0, le=MAX_WAIT_SECONDS)] = 600.0,
) -> Job:
    """Queue a monitor run (a job of type monitor) for the server's workers."""
    job = runs.submit_monitor_run(workspace, name, dispatch=QUEUE)
    notify_queued()
    deadline = time.monotonic() + timeout
    while wait and not job.status.is_terminal and time.monotonic() < deadline:
        time.sleep(0.2)
        job = get_job(workspace, job.id)
    return job


@router.get("/monitors/{name}/history", response_model=MonitorResultList)
def monitor_history(
    workspace: ReaderWorkspace,
    name: str,
    signal: str,
    feature: str,
    metric: str | None = None,
) -> MonitorResultList:
    """One signal's results for one feature (and metric) across runs, oldest first."""
    return MonitorResultList(value=monitors.monitor_history(workspace, name, signal, feature, metric))


@router.delete("/monitors/{name}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_monitor(workspace: OperatorWorkspace, name: str) -> Response:
    """Remove the monitor and its schedule; its runs and their results stay."""
    monitors.delete_monitor(workspace, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
