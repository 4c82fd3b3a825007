"""API keys, the audit trail, workspace settings and gated promotion; SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mlyard.entities.governance.access import Actor, Role
from mlyard.entities.registry.promotion import PromotionState
from mlyard.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from mlyard.services.model_registry import models, promotions
from mlyard.services.workspaces import audit, keys, settings


def _remote(name: str, role: Role = Role.OPERATOR) -> Actor:
    return Actor(name=name, role=role, via="api", address="10.0.0.7")


@pytest.fixture
def registered(workspace, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.txt").write_text("1 2 3")
    for _ in range(2):
        models.register_model_folder(workspace, "churn", folder, "custom_model")
        (folder / "weights.txt").write_text("4 5 6")
    return "churn"


# --- keys ----------------------------------------------------------------------------------------


def test_a_key_is_shown_once_stored_hashed_and_verifies_until_revoked(workspace):
    created = keys.create_key(workspace, "alice", "contributor", description="laptop")
    assert created.token.startswith(f"mly_{created.key.id}_")
    with workspace.database.read() as session:
        stored = session.execute(text("SELECT secret_hash FROM api_keys")).scalar()
    secret = created.token.split("_", 2)[2]
    assert stored.startswith("sha256:") and secret not in stored
    assert keys.verify_key(workspace, created.token).owner == "alice"
    assert keys.verify_key(workspace, created.token[:-2] + "xx") is None  # wrong secret
    assert keys.verify_key(workspace, "not-a-key") is None
    keys.revoke_key(workspace, created.key.id)
    assert keys.verify_key(workspace, created.token) is None
    [listed] = keys.list_keys(workspace)
    assert listed.state(datetime.now(UTC)) == "revoked" and listed.description == "laptop"
    with pytest.raises(NotFound, match="no active API key"):
        keys.revoke_key(workspace, created.key.id)


def test_an_expired_key_no_longer_verifies(workspace):
    created = keys.create_key(workspace, "ci", "reader", expires_in_days=1)
    assert keys.verify_key(workspace, created.token) is not None
    two_days_on = datetime.now(UTC) + timedelta(days=2)
    assert keys.verify_key(workspace, created.token, now=two_days_on) is None
    assert keys.list_keys(workspace)[0].state(two_days_on) == "expired"


def test_bad_key_requests_name_what_is_wrong(workspace):
    with pytest.raises(InvalidArgument, match="unknown role 'root'.*reader, contributor, operator, admin"):
        keys.create_key(workspace, "alice", "root")
    with pytest.raises(InvalidArgument, match="invalid key owner"):
        keys.create_key(workspace, "has space", "reader")
    with pytest.raises(InvalidArgument, match="expires_in_days"):
        keys.create_key(workspace, "alice", "reader", expires_in_days=-1)
    assert keys.list_keys(workspace) == []


# --- audit ---------------------------------------------------------------------------------------


def test_changes_are_audited_with_actor_address_and_before_after(workspace, registered):
    with audit.acting_as(_remote("bob", Role.ADMIN)):
        keys.create_key(workspace, "carol", "reader")
    models.set_alias(workspace, "churn", "staging", "1")  # local actor
    models.set_alias(workspace, "churn", "staging", "2")
    events = audit.list_events(workspace, entity_type="model", entity_id="churn")
    latest = events[0]
    assert latest.action == "model.alias.set" and latest.via == "local"
    assert latest.before == {"alias": "staging", "version": "1"}
    assert latest.after == {"alias": "staging", "version": "2"}
    [key_event] = audit.list_events(workspace, actions=["key.create"])
    assert (key_event.actor, key_event.role, key_event.address) == ("bob", "admin", "10.0.0.7")
    assert "carol" in key_event.summary
    assert [e.action for e in audit.list_events(workspace, actor="bob")] == ["key.create"]
    registrations = audit.list_events(workspace, actions=["model.register"])
    assert [e.entity_id for e in registrations] == ["churn:2", "churn:1"]
    future = datetime.now(UTC) + timedelta(hours=1)
    assert audit.list_events(workspace, since=future) == []


def test_the_audit_trail_is_append_only_in_the_database(workspace, registered):
    with pytest.raises(DBAPIError, match="append-only"):
        workspace.database.write(lambda session: session.execute(text("UPDATE audit_events SET actor = 'x'")))
    with pytest.raises(DBAPIError, match="append-only"):
        workspace.database.write(lambda session: session.execute(text("DELETE FROM audit_events")))
    assert len(audit.list_events(workspace)) >= 2


def test_a_refused_change_leaves_no_audit_event(workspace, registered):
    before = len(audit.list_events(workspace))
    with pytest.raises(NotFound):
        models.set_alias(workspace, "churn", "staging", "9")
    assert len(audit.list_events(workspace)) == before


# --- settings ------------------------------------------------------------------------------------


def test_settings_default_to_production_protected_and_change_with_an_audit_event(workspace):
    assert settings.get_settings(workspace).protected_aliases == ["production"]
    assert settings.get_settings(workspace).allow_self_approval is False
    updated = settings.update_settings(workspace, protected_aliases=["production", "staging"])
    assert settings.get_settings(workspace) == updated
    [event] = audit.list_events(workspace, actions=["workspace.settings.update"])
    assert event.after == {"protected_aliases": ["production", "staging"]}
    with pytest.raises(InvalidArgument, match="allow_self_aproval: unknown setting"):
        settings.update_settings(workspace, allow_self_aproval=True)
    with pytest.raises(InvalidArgument, match="allow_self_approval"):
        settings.update_settings(workspace, allow_self_approval="perhaps")


# --- gated promotion ------------------------------------------------------------------------------


def test_a_remote_caller_cannot_move_a_protected_alias_directly(workspace, registered):
    with audit.acting_as(_remote("alice")), pytest.raises(PermissionDenied, match="protected alias.*promote"):
        models.set_alias(workspace, "churn", "production", "1")
    with audit.acting_as(_remote("alice")):
        models.set_alias(workspace, "churn", "staging", "1")  # not protected
    models.set_alias(workspace, "churn", "production", "1")  # a local process holds the files
    with audit.acting_as(_remote("alice")), pytest.raises(PermissionDenied, match="protected"):
        models.delete_alias(workspace, "churn", "production")


def test_promotion_needs_another_operator_and_moves_the_alias_on_approval(workspace, registered):
    with audit.acting_as(_remote("alice", Role.CONTRIBUTOR)):
        request = promotions.request_promotion(workspace, "churn", 2, "production", "mse 2900 < 3100")
        with pytest.raises(PermissionDenied, match="only an operator"):
            promotions.approve_promotion(workspace, request.id)
    with (
        audit.acting_as(_remote("alice", Role.OPERATOR)),
        pytest.raises(PermissionDenied, match="cannot approve"),
    ):
        promotions.approve_promotion(workspace, request.id)
    assert models.model_aliases(workspace, "churn") == {}
    with audit.acting_as(_remote("bob")):
        approved = promotions.approve_promotion(workspace, request.id, "looks good")
    assert approved.state == PromotionState.APPROVED and approved.decided_by == "bob"
    assert models.get_model_version(workspace, "churn@production").version == "2"
    with audit.acting_as(_remote("carol")), pytest.raises(Conflict, match="already approved by bob"):
        promotions.approve_promotion(workspace, request.id)
    actions = [e.action for e in audit.list_events(workspace, entity_id="churn")]
    assert actions[:3] == ["model.promotion.approve", "model.alias.set", "model.promotion.request"]
    assert promotions.list_promotions(workspace, "churn", "2")[0].previous_version is None


def test_rejection_needs_a_reason_and_leaves_the_alias(workspace, registered):
    models.set_alias(workspace, "churn", "production", "1")
    with audit.acting_as(_remote("alice", Role.CONTRIBUTOR)):
        request = promotions.request_promotion(workspace, "churn", 2, reason="retrained")
        with pytest.raises(Conflict, match="already pending"):
            promotions.request_promotion(workspace, "churn", 2, reason="again")
    with audit.acting_as(_remote("bob")):
        with pytest.raises(InvalidArgument, match="reason is required"):
            promotions.reject_promotion(workspace, request.id, "  ")
        rejected = promotions.reject_promotion(workspace, request.id, "drift on age")
    assert rejected.state == PromotionState.REJECTED and rejected.decision_comment == "drift on age"
    assert models.get_model_version(workspace, "churn@production").version == "1"
    assert promotions.list_promotions(workspace, state="pending") == []


def test_self_approval_is_allowed_only_when_the_workspace_says_so(workspace, registered):
    settings.update_settings(workspace, allow_self_approval=True)
    with audit.acting_as(_remote("alice")):
        request = promotions.request_promotion(workspace, "churn", 1, reason="solo team")
        assert promotions.approve_promotion(workspace, request.id).state == PromotionState.APPROVED


def test_the_requester_may_cancel_and_bad_requests_are_refused(workspace, registered):
    with audit.acting_as(_remote("alice", Role.CONTRIBUTOR)):
        with pytest.raises(InvalidArgument, match="reason is required"):
            promotions.request_promotion(workspace, "churn", 1, reason="")
        with pytest.raises(NotFound):
            promotions.request_promotion(workspace, "churn", 7, reason="x")
        request = promotions.request_promotion(workspace, "churn", 1, reason="x")
    with (
        audit.acting_as(_remote("dave", Role.CONTRIBUTOR)),
        pytest.raises(PermissionDenied, match="only they"),
    ):
        promotions.cancel_promotion(workspace, request.id)
    with audit.acting_as(_remote("alice", Role.CONTRIBUTOR)):
        assert promotions.cancel_promotion(workspace, request.id).state == PromotionState.CANCELED
    with pytest.raises(NotFound, match="promotion request 'nope'"):
        promotions.get_promotion(workspace, "nope")
    with pytest.raises(InvalidArgument, match="unknown promotion state"):
        promotions.list_promotions(workspace, state="done")


def test_two_operators_approving_at_once_make_one_approval(workspace, registered):
    with audit.acting_as(_remote("alice", Role.CONTRIBUTOR)):
        request = promotions.request_promotion(workspace, "churn", 2, reason="better")
    outcomes: list[str] = []

    def approve(name: str) -> None:
        with audit.acting_as(_remote(name)):
            try:
                promotions.approve_promotion(workspace, request.id)
                outcomes.append("approved")
            except Conflict:
                outcomes.append("conflict")

    threads = [threading.Thread(target=approve, args=(name,)) for name in ("bob", "carol")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["approved", "conflict"]
    assert len(audit.list_events(workspace, actions=["model.promotion.approve"])) == 1
