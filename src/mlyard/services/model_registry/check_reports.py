"""Staging check reports recorded against model versions, and the approval gate that reads them.

`mlyard check …` and the built-in check components record every report they produce against the
model version they checked (`--model NAME:VERSION`). A workspace that sets
`require_passing_checks` (e.g. `[smoke, performance]`) lets a protected alias move only to a
version whose newest report of each required kind, made after the promotion was requested,
passed: a report from before the request proves nothing about the candidate that was asked for.
Each record emits `mlyard.model.check_recorded` in its transaction, so triggers and
subscriptions can react to a verdict (approve on a pass, page someone on a failure).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from mlyard.entities.automation import event as events
from mlyard.entities.governance.validation import CHECK_KINDS, CheckRecord, CheckReport
from mlyard.entities.specs.names import parse_ref
from mlyard.errors import InvalidArgument
from mlyard.services.events.outbox import emit
from mlyard.services.model_registry.models import get_model_version
from mlyard.services.workspaces import audit
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import check_reports as rows

MAX_LOCATION = 2000


def record_check_report(
    workspace: Workspace, report: CheckReport, location: str | None = None, job_id: str | None = None
) -> CheckRecord:
    """Store `report` against the model version it names (`report.model`, `name:version` or
    `name@alias`, resolved now so that the record names a fixed version)."""
    if not report.model:
        raise InvalidArgument(
            f"the {report.kind} report names no model: give --model NAME:VERSION to record it"
        )
    if location is not None and len(location) > MAX_LOCATION:
        raise InvalidArgument(f"location is {len(location)} characters; at most {MAX_LOCATION}")
    version = get_model_version(workspace, parse_ref(report.model, default_alias=None))
    checked = report.model_copy(update={"model": version.ref})
    record_id = secrets.token_hex(6)
    now = datetime.now(UTC)
    actor = audit.current_actor().name
    verdict = "passed" if checked.passed else "failed"

    def work(session: Session) -> None:
        rows.insert(
            session,
            dict(
                id=record_id, kind=checked.kind, model_name=version.name, model_version=version.version,
                passed=checked.passed, summary=checked.text(), report=checked.summary(), location=location,
                job_id=job_id, created_at=now, created_by=actor,
            ),
        )  # fmt: skip
        audit.record(
            session, "model.check.record", "model", version.name,
            f"{checked.kind} check of {version.ref} {verdict} (report {record_id})",
            after={"report": record_id, "kind": checked.kind, "version": version.version,
                   "passed": checked.passed},
        )  # fmt: skip
        emit(
            session, events.MODEL_CHECK_RECORDED, f"models/{version.name}:{version.version}",
            {"ModelName": version.name, "ModelVersion": version.version, "CheckKind": checked.kind,
             "Passed": checked.passed, "ReportId": record_id, "JobId": job_id, "Location": location},
        )  # fmt: skip

    workspace.database.write(work)
    return list_check_reports(workspace, version.name, version.version, checked.kind, limit=1)[0]


def list_check_reports(
    workspace: Workspace, name: str, version: str | None = None, kind: str | None = None, limit: int = 100
) -> list[CheckRecord]:
    """Reports of model `name` (optionally one version and kind), newest first."""
    if kind is not None:
        kind = check_kind(kind)
    if not 1 <= limit <= 10_000:
        raise InvalidArgument(f"limit must be between 1 and 10000, got {limit}")
    get_model_version(workspace, parse_ref(name if version is None else f"{name}:{version}"))
    with workspace.database.read() as session:
        return rows.search(session, name, version, kind, limit)


def check_kind(text: str) -> str:
    """A check kind as the gate names it (`data-quality` is read as `data_quality`)."""
    kind = text.strip().replace("-", "_")
    if kind not in CHECK_KINDS:
        raise InvalidArgument(f"unknown check {text!r}; checks are: {', '.join(CHECK_KINDS)}")
    return kind


def unmet_checks(
    session: Session, name: str, version: str, required: Sequence[str], since: datetime
) -> list[str]:
    """Why each required check is not met for `name:version` since `since`; empty when all are."""
    unmet = []
    for kind in required:
        newest = rows.search(session, name, version, kind, limit=1)
        if not newest or newest[0].created_at < since:
            unmet.append(f"{kind}: no report since the request")
        elif not newest[0].passed:
            unmet.append(f"{kind}: the newest report ({newest[0].id}) failed")
    return unmet
