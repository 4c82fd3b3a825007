"""Online endpoints: create, update, delete; the traffic rules; keys and tokens.

Rules that live here (Azure ML's): live traffic percentages are whole numbers naming existing
deployments and sum to 100 — or are all 0, when only requests pinned with the
`azureml-model-deployment` header are served. Mirror traffic goes to one deployment, at most 50 %,
and never to a deployment that also takes live traffic. A deployment with live or mirror traffic
cannot be deleted. Every change, and every read of the credentials, is in the audit trail, in
the same transaction as the change.

Deployments (their specs, generations and states) are in `services.endpoint_deployments`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.orm import Session

from mlyard.entities.automation import event as events
from mlyard.entities.endpoints.endpoint import EndpointCredentials, OnlineDeployment, OnlineEndpoint
from mlyard.entities.endpoints.endpoint_spec import (
    MAX_MIRROR_PERCENT,
    OnlineEndpointSpec,
    validate_endpoint_name,
)
from mlyard.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from mlyard.services.events.outbox import emit
from mlyard.services.online import endpoint_auth
from mlyard.services.workspaces import audit
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import endpoints as rows
from mlyard.store.tables import OnlineEndpointRow

KeyType = Literal["primary", "secondary"]


@dataclass(frozen=True)
class EndpointRecord:
    """An endpoint with its secrets and deployments: what the gateway's routing table is built from."""

    endpoint: OnlineEndpoint
    primary_key: str
    secondary_key: str
    token_secret: str
    deployments: list[OnlineDeployment] = field(default_factory=list)


def create_endpoint(workspace: Workspace, spec: OnlineEndpointSpec) -> OnlineEndpoint:
    """Record a new endpoint with fresh keys; `AlreadyExists` if the name is taken."""
    if any(spec.traffic.values()) or any(spec.mirror_traffic.values()):
        raise InvalidArgument(
            f"endpoint {spec.name!r}: traffic names deployments, and a new endpoint has none yet; create "
            "the endpoint, then its deployments, then: mlyard online-endpoint update --traffic ..."
        )
    now = datetime.now(UTC)

    def work(session: Session) -> OnlineEndpoint:
        if rows.get_endpoint_row(session, spec.name) is not None:
            raise AlreadyExists(
                f"online endpoint {spec.name!r} already exists; change it with: mlyard online-endpoint "
                f"update --name {spec.name}"
            )
        row = OnlineEndpointRow(
            name=spec.name, description=spec.description, auth_mode=spec.auth_mode,
            primary_key=endpoint_auth.new_key(), secondary_key=endpoint_auth.new_key(),
            token_secret=endpoint_auth.new_secret(), traffic={}, mirror_traffic={}, tags=spec.tags,
            properties=spec.properties, state="Succeeded", created_at=now, updated_at=now,
            created_by=audit.current_actor().name,
        )  # fmt: skip
        session.add(row)
        session.flush()
        audit.record(
            session, "endpoint.create", "online_endpoint", spec.name,
            f"created online endpoint {spec.name} (auth_mode {spec.auth_mode})",
            after={"auth_mode": spec.auth_mode},
        )  # fmt: skip
        return rows.to_endpoint_entity(row)

    return workspace.database.write(work)


def get_endpoint(workspace: Workspace, name: str) -> OnlineEndpoint:
    with workspace.database.read() as session:
        return rows.to_endpoint_entity(_endpoint_row(session, name))


def list_endpoints(workspace: Workspace) -> list[OnlineEndpoint]:
    with workspace.database.read() as session:
        return [rows.to_endpoint_entity(row) for row in rows.list_endpoint_rows(session)]


def update_endpoint(
    workspace: Workspace,
    name: str,
    traffic: dict[str, int] | None = None,
    mirror_traffic: dict[str, int] | None = None,
    description: str | None = None,
    tags: dict[str, str] | None = None,
) -> OnlineEndpoint:
    """Replace the traffic split and/or the mirror traffic (each given whole), description, tags."""

    def work(session: Session) -> OnlineEndpoint:
        row = _endpoint_row(session, name, lock=True)
        before = {"traffic": row.traffic, "mirror_traffic": row.mirror_traffic}
        deployments = {d.name for d in rows.list_deployment_rows(session, name)}
        new_traffic = dict(row.traffic or {}) if traffic is None else _clean(traffic, "traffic")
        new_mirror = (
            dict(row.mirror_traffic or {})
            if mirror_traffic is None
            else _clean(mirror_traffic, "mirror_traffic")
        )
        check_traffic(name, new_traffic, new_mirror, deployments)
        row.traffic, row.mirror_traffic = new_traffic, new_mirror
        if description is not None:
            row.description = description
        if tags is not None:
            row.tags = {str(k): str(v) for k, v in tags.items()}
        row.updated_at = datetime.now(UTC)
        after = {"traffic": new_traffic, "mirror_traffic": new_mirror}
        audit.record(
            session, "endpoint.update", "online_endpoint", name,
            f"online endpoint {name}: traffic {_shown(new_traffic)}, mirror {_shown(new_mirror)}",
            before=before, after=after,
        )  # fmt: skip
        if after != before:
            emit(
                session, events.ENDPOINT_TRAFFIC_CHANGED, f"endpoints/{name}",
                {"EndpointName": name, "Traffic": new_traffic, "MirrorTraffic": new_mirror,
                 "PreviousTraffic": before["traffic"]},
            )  # fmt: skip
        return rows.to_endpoint_entity(row)

    return workspace.database.write(work)


def delete_endpoint(workspace: Workspace, name: str) -> None:
    """Remove the endpoint and all its deployments (their instances stop)."""

    def work(session: Session) -> None:
        row = _endpoint_row(session, name, lock=True)
        deployments = [d.name for d in rows.list_deployment_rows(session, name)]
        rows.delete_deployment_rows(session, name)
        session.delete(row)
        audit.record(
            session, "endpoint.delete", "online_endpoint", name,
            f"deleted online endpoint {name}" + (f" and its deployments {', '.join(deployments)}"
                                                 if deployments else ""),
            before={"deployments": deployments},
        )  # fmt: skip

    workspace.database.write(work)


def check_traffic(
    endpoint: str, traffic: dict[str, int], mirror: dict[str, int], deployments: set[str]
) -> None:
    """The traffic rules of the module docstring; `InvalidArgument` naming what is wrong."""
    known = ", ".join(sorted(deployments)) or "none yet"
    for what, split in (("traffic", traffic), ("mirror_traffic", mirror)):
        unknown = sorted(set(split) - deployments)
        if unknown:
            raise InvalidArgument(
                f"endpoint {endpoint!r}: {what} names {', '.join(map(repr, unknown))}, which is not a "
                f"deployment of it (deployments: {known})"
            )
    total = sum(traffic.values())
    if total not in (0, 100):
        raise InvalidArgument(
            f"endpoint {endpoint!r}: traffic percentages must sum to 100 (or all be 0), got {total}: "
            f"{_shown(traffic)}"
        )
    mirrored = {name: percent for name, percent in mirror.items() if percent > 0}
    if len(mirrored) > 1:
        raise InvalidArgument(
            f"endpoint {endpoint!r}: mirror traffic goes to one deployment only, got {_shown(mirrored)}"
        )
    for name, percent in mirrored.items():
        if percent > MAX_MIRROR_PERCENT:
            raise InvalidArgument(
                f"endpoint {endpoint!r}: mirror traffic to {name!r} is {percent} %; at most "
                f"{MAX_MIRROR_PERCENT} % of live requests can be mirrored"
            )
        if traffic.get(name, 0) > 0:
            raise InvalidArgument(
                f"endpoint {endpoint!r}: deployment {name!r} takes {traffic[name]} % of live traffic, so it "
                "cannot also receive mirror traffic; mirror to a deployment with 0 % live traffic"
            )


def get_credentials(
    workspace: Workspace, name: str, token_lifetime_seconds: float | None = None, *, now: float | None = None
) -> EndpointCredentials:
    """The endpoint's two keys, or a fresh token (`aml_token`), valid `token_lifetime_seconds`.

    A token's lifetime counts from `now` (epoch seconds, default: the real time), so tests can
    hold one that has already expired without waiting for it to.
    """
    lifetime = float(token_lifetime_seconds or endpoint_auth.DEFAULT_TOKEN_SECONDS)
    if not 0 < lifetime <= endpoint_auth.MAX_TOKEN_SECONDS:
        raise InvalidArgument(
            f"token lifetime must be between 0 and {endpoint_auth.MAX_TOKEN_SECONDS} seconds, "
            f"got {lifetime:g}"
        )

    def work(session: Session) -> EndpointCredentials:
        row = _endpoint_row(session, name)
        audit.record(session, "endpoint.credentials", "online_endpoint", name,
                     f"read the credentials of online endpoint {name}")  # fmt: skip
        return credentials_of(row, lifetime, now=now)

    return workspace.database.write(work)


def regenerate_keys(workspace: Workspace, name: str, key_type: KeyType = "primary") -> EndpointCredentials:
    """Replace one key; the other keeps working, so clients can switch to it first."""
    if key_type not in ("primary", "secondary"):
        raise InvalidArgument(f"--key-type must be primary or secondary, got {key_type!r}")

    def work(session: Session) -> EndpointCredentials:
        row = _endpoint_row(session, name, lock=True)
        if row.auth_mode != "key":
            raise Conflict(
                f"online endpoint {name!r} uses auth_mode {row.auth_mode}: it has no keys to regenerate; "
                "its tokens expire on their own (get a new one with get-credentials)"
            )
        if key_type == "primary":
            row.primary_key = endpoint_auth.new_key()
        else:
            row.secondary_key = endpoint_auth.new_key()
        row.updated_at = datetime.now(UTC)
        audit.record(session, "endpoint.regenerate_keys", "online_endpoint", name,
                     f"regenerated the {key_type} key of online endpoint {name}")  # fmt: skip
        return credentials_of(row, endpoint_auth.DEFAULT_TOKEN_SECONDS)

    return workspace.database.write(work)


def credentials_of(
    row: OnlineEndpointRow, lifetime: float, *, now: float | None = None
) -> EndpointCredentials:
    if row.auth_mode == "key":
        return EndpointCredentials.model_validate(
            {"auth_mode": "key", "primary_key": row.primary_key, "secondary_key": row.secondary_key}
        )
    token, expires = endpoint_auth.issue_token(row.token_secret, row.name, lifetime, now)
    return EndpointCredentials.model_validate(
        {"auth_mode": row.auth_mode, "access_token": token, "token_type": "Bearer",
         "expiry_time_utc": datetime.fromtimestamp(expires, UTC)}
    )  # fmt: skip


def endpoint_records(workspace: Workspace) -> list[EndpointRecord]:
    """Every endpoint with its secrets and deployments, read in one session (for the gateway)."""
    with workspace.database.read() as session:
        deployments: dict[str, list[OnlineDeployment]] = {}
        for row in rows.list_deployment_rows(session):
            deployments.setdefault(row.endpoint_name, []).append(rows.to_deployment_entity(row))
        return [
            EndpointRecord(
                rows.to_endpoint_entity(row),
                row.primary_key,
                row.secondary_key,
                row.token_secret,
                deployments.get(row.name, []),
            )  # fmt: skip
            for row in rows.list_endpoint_rows(session)
        ]


def _endpoint_row(session: Session, name: str, lock: bool = False) -> OnlineEndpointRow:
    row = rows.get_endpoint_row(session, name, lock=lock)
    if row is None:
        validate_endpoint_name(name)
        raise NotFound(
            f"online endpoint {name!r} does not exist; list them with: mlyard online-endpoint list"
        )
    return row


def _clean(split: dict[str, int], what: str) -> dict[str, int]:
    clean = {}
    for name, percent in split.items():
        if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
            raise InvalidArgument(f"{what}: {name}={percent!r} is not a whole percentage from 0 to 100")
        clean[str(name)] = percent
    return clean


def _shown(split: dict[str, int]) -> str:
    return " ".join(f"{name}={percent}" for name, percent in split.items()) or "(none)"
