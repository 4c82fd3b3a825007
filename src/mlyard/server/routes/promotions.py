"""Gated promotion: request that a protected alias move, and approve, reject or cancel the request;
the staging check reports an approval may require."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from mlyard.entities.governance.validation import CheckRecord
from mlyard.entities.registry.promotion import PromotionRequest
from mlyard.server.auth import ContributorWorkspace, OperatorWorkspace, ReaderWorkspace
from mlyard.server.schemas.access import (
    CheckReportCreate,
    CheckReportList,
    PromotionCreate,
    PromotionDecision,
    PromotionList,
    PromotionRejection,
)
from mlyard.services.model_registry import check_reports, promotions

router = APIRouter(prefix="/api/v1/workspaces/{ws}", tags=["promotions"])


@router.post(
    "/models/{name}/promotions", response_model=PromotionRequest, status_code=status.HTTP_201_CREATED
)
def request_promotion(workspace: ContributorWorkspace, name: str, body: PromotionCreate) -> PromotionRequest:
    """Ask for `alias` (default production) to move to `version`; another operator decides."""
    return promotions.request_promotion(workspace, name, body.version, body.alias, body.reason)


@router.get("/promotions", response_model=PromotionList)
def list_promotions(
    workspace: ReaderWorkspace,
    model: str | None = None,
    version: str | None = None,
    state: Annotated[str | None, Query(description="pending, approved, rejected or canceled")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> PromotionList:
    return PromotionList(value=promotions.list_promotions(workspace, model, version, state, limit))


@router.get("/promotions/{request_id}", response_model=PromotionRequest)
def get_promotion(workspace: ReaderWorkspace, request_id: str) -> PromotionRequest:
    return promotions.get_promotion(workspace, request_id)


@router.post("/promotions/{request_id}/approve", response_model=PromotionRequest)
def approve_promotion(
    workspace: OperatorWorkspace, request_id: str, body: PromotionDecision | None = None
) -> PromotionRequest:
    """Approve (not one's own request, unless the workspace allows it): the alias moves now."""
    return promotions.approve_promotion(workspace, request_id, body.comment if body else None)


@router.post("/promotions/{request_id}/reject", response_model=PromotionRequest)
def reject_promotion(
    workspace: OperatorWorkspace, request_id: str, body: PromotionRejection
) -> PromotionRequest:
    return promotions.reject_promotion(workspace, request_id, body.reason)


@router.post("/promotions/{request_id}/cancel", response_model=PromotionRequest)
def cancel_promotion(workspace: ContributorWorkspace, request_id: str) -> PromotionRequest:
    """Withdraw one's own pending request."""
    return promotions.cancel_promotion(workspace, request_id)


@router.post("/check-reports", response_model=CheckRecord, status_code=status.HTTP_201_CREATED)
def record_check_report(workspace: ContributorWorkspace, body: CheckReportCreate) -> CheckRecord:
    """Record a staging check's report against the model version it names (`report.model`)."""
    return check_reports.record_check_report(workspace, body.report, body.location, body.job_id)


@router.get("/models/{name}/check-reports", response_model=CheckReportList)
def list_check_reports(
    workspace: ReaderWorkspace,
    name: str,
    version: str | None = None,
    kind: Annotated[
        str | None, Query(description="smoke, performance, data_quality or responsible_ai")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> CheckReportList:
    return CheckReportList(value=check_reports.list_check_reports(workspace, name, version, kind, limit))
