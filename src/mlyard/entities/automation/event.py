"""Events: CloudEvents 1.0 records of what happened in a workspace, and the catalog of their types.

Types use Azure ML's Event Grid names where Azure has one, so a handler written for Azure filters
the same way (`Microsoft.MachineLearningServices.ModelRegistered`, with `ModelName`,
`ModelVersion`, … in `data`), and `mlyard.*` names for the rest. A type may be written without
its prefix (`ModelRegistered`, `ScheduleFired`, `monitor.alert`) wherever a user names one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

AZURE_PREFIX = "Microsoft.MachineLearningServices."
MLYARD_PREFIX = "mlyard."
SPEC_VERSION = "1.0"
CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json"

RUN_STATUS_CHANGED = AZURE_PREFIX + "RunStatusChanged"
RUN_COMPLETED = AZURE_PREFIX + "RunCompleted"
MODEL_REGISTERED = AZURE_PREFIX + "ModelRegistered"
MODEL_DEPLOYED = AZURE_PREFIX + "ModelDeployed"
MODEL_ALIAS_MOVED = MLYARD_PREFIX + "ModelAliasMoved"
PROMOTION_REQUESTED = MLYARD_PREFIX + "PromotionRequested"
PROMOTION_DECIDED = MLYARD_PREFIX + "PromotionDecided"
DEPLOYMENT_UPDATED = MLYARD_PREFIX + "DeploymentUpdated"
DEPLOYMENT_DELETED = MLYARD_PREFIX + "DeploymentDeleted"
ENDPOINT_TRAFFIC_CHANGED = MLYARD_PREFIX + "EndpointTrafficChanged"
DATA_ASSET_REGISTERED = MLYARD_PREFIX + "DataAssetRegistered"
SCHEDULE_FIRED = MLYARD_PREFIX + "ScheduleFired"
# Monitors (issue 14): lower-case names, as the issue and Azure's monitor docs write them.
MONITOR_ALERT = MLYARD_PREFIX + "monitor.alert"
MONITOR_RECOVERED = MLYARD_PREFIX + "monitor.recovered"
MODEL_STALE = MLYARD_PREFIX + "model.stale"
# Staging checks (issue 15): a check report recorded against a model version, passed or failed.
MODEL_CHECK_RECORDED = MLYARD_PREFIX + "model.check_recorded"

# Every type mlyard emits, with the fields of its `data` (what filters and bindings may name).
EVENT_TYPES: dict[str, tuple[str, ...]] = {
    RUN_STATUS_CHANGED: (
        "experimentId", "experimentName", "runId", "runType", "runTags", "runProperties", "runStatus",
    ),
    RUN_COMPLETED: ("experimentId", "experimentName", "runId", "runType", "runTags", "runProperties"),
    MODEL_REGISTERED: ("ModelName", "ModelVersion", "ModelTags", "ModelProperties", "JobId"),
    MODEL_DEPLOYED: (
        "ServiceName", "ServiceComputeType", "ModelIds", "ServiceTags", "ServiceProperties",
        "EndpointName", "DeploymentName",
    ),
    MODEL_ALIAS_MOVED: ("ModelName", "Alias", "ModelVersion", "PreviousVersion"),
    PROMOTION_REQUESTED: ("RequestId", "ModelName", "ModelVersion", "Alias", "RequestedBy", "Reason"),
    PROMOTION_DECIDED: (
        "RequestId", "ModelName", "ModelVersion", "Alias", "Decision", "DecidedBy", "Comment",
    ),
    DEPLOYMENT_UPDATED: ("EndpointName", "DeploymentName", "ModelIds", "Generation"),
    DEPLOYMENT_DELETED: ("EndpointName", "DeploymentName"),
    ENDPOINT_TRAFFIC_CHANGED: ("EndpointName", "Traffic", "MirrorTraffic", "PreviousTraffic"),
    DATA_ASSET_REGISTERED: ("DataName", "DataVersion", "DataType", "DataTags", "ContentHash"),
    SCHEDULE_FIRED: ("ScheduleName", "Reason", "ScheduledFor", "TriggerEventId"),
    MONITOR_ALERT: (
        "MonitorName", "SignalName", "SignalType", "JobId", "ModelName", "ModelVersion", "BreachedSince",
        "Features",
    ),
    MONITOR_RECOVERED: (
        "MonitorName", "SignalName", "SignalType", "JobId", "ModelName", "ModelVersion", "BreachedSince",
        "BreachJobId", "Features",
    ),
    MODEL_STALE: (
        "ModelName", "ModelVersion", "AgeDays", "MaxAgeDays", "MonitorName", "SignalName", "JobId",
    ),
    MODEL_CHECK_RECORDED: (
        "ModelName", "ModelVersion", "CheckKind", "Passed", "ReportId", "JobId", "Location",
    ),
}  # fmt: skip


def short_name(event_type: str) -> str:
    """`ModelRegistered` for `Microsoft.MachineLearningServices.ModelRegistered`, `monitor.alert`
    for `mlyard.monitor.alert`: the name without its prefix."""
    for prefix in (AZURE_PREFIX, MLYARD_PREFIX):
        if event_type.startswith(prefix):
            return event_type[len(prefix) :]
    return event_type


class Event(BaseModel):
    """One CloudEvents 1.0 record, as delivered in structured mode (all attributes in the body)."""

    id: str
    source: str
    specversion: str = SPEC_VERSION
    type: str
    subject: str | None = None
    time: datetime
    datacontenttype: str = "application/json"
    data: dict[str, Any] = Field(default_factory=dict)

    def cloudevent(self) -> dict[str, Any]:
        """The JSON object a receiver gets (`application/cloudevents+json`)."""
        return self.model_dump(mode="json")
