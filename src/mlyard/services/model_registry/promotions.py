"""Gated promotion: a protected alias (default `production`) moves only by an approved request.

    request (contributor) ──► pending ──► approved by another operator: the alias moves
                                      ├─► rejected by an operator, with a reason
                                      └─► canceled by the requester

Self-approval is refused unless the workspace allows it (`allow_self_approval`). A workspace
that sets `require_passing_checks` refuses an approval (Conflict, nothing changed) until the
version has a passing report of each required staging check made after the request
(`check_reports`). A decision is taken once: two operators approving at the same time get one
approval and one Conflict. Every step is in the audit trail, and the alias moves in the same
transaction as the approval.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from mlyard.entities.automation import event as events
from mlyard.entities.governance.access import Role
from mlyard.entities.registry.promotion import PromotionRequest, PromotionState
from mlyard.entities.specs.names import AssetRef, validate_alias
from mlyard.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from mlyard.services.events.outbox import emit
from mlyard.services.model_registry.check_reports import unmet_checks
from mlyard.services.model_registry.models import get_model_version, move_alias
from mlyard.services.workspaces import audit
from mlyard.services.workspaces.settings import get_settings
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import models as model_rows
from mlyard.store import promotions as rows

MAX_REASON = 4000


def request_promotion(
    workspace: Workspace, name: str, version: str | int, alias: str = "production", reason: str = ""
) -> PromotionRequest:
    """Ask for `alias` of model `name` to move to `version`; returns the pending request."""
    validate_alias(alias)
    reason = _required_text(reason, "reason", "say why this version should be promoted")
    model = get_model_version(workspace, AssetRef(name, version=str(version)))
    if model.archived:
        raise Conflict(f"model {model.ref} is archived; restore it before promoting it")
    actor = audit.current_actor()
    request_id = secrets.token_hex(6)
    now = datetime.now(UTC)

    def work(session: Session) -> None:
        if model_rows.get_alias(session, model.name, alias) == model.version:
            raise Conflict(f"alias {alias!r} of model {model.name} already points at version {model.version}")
        if rows.find_pending(session, model.name, model.version, alias) is not None:
            raise Conflict(
                f"a promotion of {model.ref} to {alias!r} is already pending; list it with: "
                f"mlyard model promotion list {model.name}"
            )
        rows.insert(
            session,
            dict(
                id=request_id, model_name=model.name, version=model.version, alias=alias,
                state=PromotionState.PENDING.value, reason=reason, requested_by=actor.name,
                requested_at=now,
            ),
        )  # fmt: skip
        audit.record(
            session, "model.promotion.request", "model", model.name,
            f"promotion {request_id}: {model.ref} to @{alias} requested: {reason}",
            after={"request": request_id, "version": model.version, "alias": alias},
        )  # fmt: skip
        emit(
            session, events.PROMOTION_REQUESTED, f"models/{model.name}:{model.version}",
            {"RequestId": request_id, "ModelName": model.name, "ModelVersion": model.version, "Alias": alias,
             "RequestedBy": actor.name, "Reason": reason},
        )  # fmt: skip

    workspace.database.write(work)
    return get_promotion(workspace, request_id)


def approve_promotion(workspace: Workspace, request_id: str, comment: str | None = None) -> PromotionRequest:
    """Approve a pending request (an operator other than the requester) and move the alias."""
    request = _pending(workspace, request_id)
    _check_decider(workspace, request, "approve")
    actor = audit.current_actor()
    required = get_settings(workspace).require_passing_checks

    def work(session: Session) -> None:
        # In the approval's transaction: a report recorded meanwhile is seen, never half of one.
        unmet = unmet_checks(session, request.model_name, request.version, required, request.requested_at)
        if unmet:
            raise Conflict(
                f"promotion {request_id} ({request.target}) needs passing staging checks made after it was "
                f"requested ({request.requested_at:%Y-%m-%d %H:%M:%S} UTC): {'; '.join(unmet)}. Run them "
                f"with: mlyard check <kind> --model {request.model_name}:{request.version} …"
            )
        previous = model_rows.get_alias(session, request.model_name, request.alias)
        values = dict(
            decided_by=actor.name, decided_at=datetime.now(UTC), decision_comment=comment,
            previous_version=previous,
        )  # fmt: skip
        if not rows.decide(session, request_id, PromotionState.APPROVED, values):
            raise Conflict(
                f"promotion {request_id} was decided meanwhile; show it with: mlyard model promotion show"
            )
        move_alias(session, request.model_name, request.alias, request.version, f" (promotion {request_id})")
        audit.record(
            session, "model.promotion.approve", "model", request.model_name,
            f"promotion {request_id} approved: {request.target}" + (f": {comment}" if comment else ""),
            before={"version": previous}, after={"version": request.version, "request": request_id},
        )  # fmt: skip
        _emit_decision(session, request, PromotionState.APPROVED, actor.name, comment)

    workspace.database.write(work)
    return get_promotion(workspace, request_id)


def reject_promotion(workspace: Workspace, request_id: str, reason: str) -> PromotionRequest:
    """Reject a pending request with a reason (an operator other than the requester)."""
    reason = _required_text(reason, "reason", "say why the promotion is rejected")
    request = _pending(workspace, request_id)
    _check_decider(workspace, request, "reject")
    _decide(workspace, request, PromotionState.REJECTED, reason, "reject")
    return get_promotion(workspace, request_id)


def cancel_promotion(workspace: Workspace, request_id: str) -> PromotionRequest:
    """Withdraw one's own pending request."""
    request = _pending(workspace, request_id)
    actor = audit.current_actor()
    if actor.name != request.requested_by and not actor.role.allows(Role.OPERATOR):
        raise PermissionDenied(
            f"promotion {request_id} was requested by {request.requested_by}; only they or an "
            "operator can cancel it"
        )
    _decide(workspace, request, PromotionState.CANCELED, None, "cancel")
    return get_promotion(workspace, request_id)


def get_promotion(workspace: Workspace, request_id: str) -> PromotionRequest:
    with workspace.database.read() as session:
        found = rows.get(session, request_id)
    if found is None:
        raise NotFound(
            f"promotion request {request_id!r} does not exist; list them with: mlyard model promotion list"
        )
    return found


def list_promotions(
    workspace: Workspace,
    name: str | None = None,
    version: str | None = None,
    state: str | PromotionState | None = None,
    limit: int = 100,
) -> list[PromotionRequest]:
    """Requests newest first, optionally of one model (and version) or in one state."""
    chosen = None
    if state is not None:
        try:
            chosen = PromotionState(state)
        except ValueError:
            valid = ", ".join(s.value for s in PromotionState)
            raise InvalidArgument(f"unknown promotion state {state!r}; states are: {valid}") from None
    if not 1 <= limit <= 10_000:
        raise InvalidArgument(f"limit must be between 1 and 10000, got {limit}")
    with workspace.database.read() as session:
        return rows.search(session, name, version, chosen, limit)


def _pending(workspace: Workspace, request_id: str) -> PromotionRequest:
    request = get_promotion(workspace, request_id)
    if request.state != PromotionState.PENDING:
        by = f" by {request.decided_by}" if request.decided_by else ""
        raise Conflict(f"promotion {request_id} is already {request.state.value}{by}")
    return request


def _check_decider(workspace: Workspace, request: PromotionRequest, verb: str) -> None:
    actor = audit.current_actor()
    if not actor.role.allows(Role.OPERATOR):
        raise PermissionDenied(
            f"only an operator or admin can {verb} a promotion; {actor.name} has role {actor.role.value}"
        )
    if actor.name == request.requested_by and not get_settings(workspace).allow_self_approval:
        raise PermissionDenied(
            f"{actor.name} requested promotion {request.id} and cannot {verb} it too: another operator "
            "must decide (an admin may allow self-approval: mlyard workspace settings set "
            "allow_self_approval=true)"
        )


def _decide(
    workspace: Workspace, request: PromotionRequest, state: PromotionState, comment: str | None, verb: str
) -> None:
    actor = audit.current_actor()

    def work(session: Session) -> None:
        values = dict(decided_by=actor.name, decided_at=datetime.now(UTC), decision_comment=comment)
        if not rows.decide(session, request.id, state, values):
            raise Conflict(f"promotion {request.id} was decided meanwhile")
        audit.record(
            session, f"model.promotion.{verb}", "model", request.model_name,
            f"promotion {request.id} {state.value}: {request.target}" + (f": {comment}" if comment else ""),
        )  # fmt: skip
        _emit_decision(session, request, state, actor.name, comment)

    workspace.database.write(work)


def _emit_decision(
    session: Session, request: PromotionRequest, state: PromotionState, by: str, comment: str | None
) -> None:
    emit(
        session, events.PROMOTION_DECIDED, f"models/{request.model_name}:{request.version}",
        {"RequestId": request.id, "ModelName": request.model_name, "ModelVersion": request.version,
         "Alias": request.alias, "Decision": state.value, "DecidedBy": by, "Comment": comment},
    )  # fmt: skip


def _required_text(value: str | None, field: str, hint: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidArgument(f"{field} is required: {hint}")
    if len(text) > MAX_REASON:
        raise InvalidArgument(f"{field} is {len(text)} characters; at most {MAX_REASON}")
    return text
