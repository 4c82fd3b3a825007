"""Compute targets: `local` and `ray` are built in; named ones are created (`mlyard compute create`).

Rules that live here: a job's `compute:` must name a target that exists — `local`, `ray`,
`ray://host:port`, or a created name (with or without `azureml:`) — so an Azure ML YAML whose
`compute: azureml:cpu-cluster` has no counterpart here is refused before it runs, with the fix
in the message. Creating `cpu-cluster` as a local or Ray target lets such YAML run unchanged.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mlyard.entities.assets.compute import Compute
from mlyard.entities.specs.names import validate_name
from mlyard.errors import AlreadyExists, InvalidArgument, NotFound
from mlyard.services.workspaces import audit
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store.jobs import as_utc
from mlyard.store.tables import ComputeRow

BUILT_IN = {
    "local": Compute(name="local", type="local", description="processes on this machine"),
    "ray": Compute(name="ray", type="ray", description="a Ray instance started on this machine"),
}


def create_compute(
    workspace: Workspace,
    name: str,
    type: str,
    address: str | None = None,
    description: str | None = None,
) -> Compute:
    validate_name(name, "compute name")
    if name in BUILT_IN:
        raise AlreadyExists(f"compute {name!r} is built in; pick another name")
    if type not in ("local", "ray", "docker"):
        raise InvalidArgument(f"compute type must be local, ray or docker, not {type!r}")
    if type == "local" and address:
        raise InvalidArgument("a local compute takes no --address")
    compute = Compute.model_validate(
        dict(name=name, type=type, address=address, description=description, created_at=datetime.now(UTC))
    )

    def work(session: Session) -> None:
        session.add(
            ComputeRow(
                name=name,
                type=type,
                address=address,
                description=description,
                properties={},
                created_at=compute.created_at,
            )  # fmt: skip
        )
        audit.record(session, "compute.create", "compute", name, f"compute {name} ({type}"
                     + (f" at {address}" if address else "") + ")")  # fmt: skip

    try:
        workspace.database.write(work)
    except IntegrityError:
        raise AlreadyExists(f"compute {name!r} already exists") from None
    return compute


def list_computes(workspace: Workspace) -> list[Compute]:
    with workspace.database.read() as session:
        rows = session.execute(select(ComputeRow).order_by(ComputeRow.name)).scalars().all()
        created = [_to_entity(row) for row in rows]
    return [*BUILT_IN.values(), *created]


def get_compute(workspace: Workspace, name: str) -> Compute:
    resolved = resolve_compute(workspace, name)
    if resolved is None:
        raise NotFound(f"compute {name!r} does not exist")
    return resolved


def delete_compute(workspace: Workspace, name: str) -> None:
    if name in BUILT_IN:
        raise InvalidArgument(f"compute {name!r} is built in and cannot be deleted")

    def work(session: Session) -> int:
        result = session.execute(delete(ComputeRow).where(ComputeRow.name == name))
        deleted = int(getattr(result, "rowcount", 0))
        if deleted:
            audit.record(session, "compute.delete", "compute", name, f"compute {name} deleted")
        return deleted

    if workspace.database.write(work) == 0:
        raise NotFound(f"compute {name!r} does not exist")


def resolve_compute(workspace: Workspace, text: str | None) -> Compute | None:
    """The target `compute:` names: None → local; `ray://…` → that Ray cluster; else by name."""
    if text is None or not text.strip():
        return BUILT_IN["local"]
    name = text.strip().removeprefix("azureml:")
    if name.startswith("ray://"):
        return Compute(name=name, type="ray", address=name)
    if name in BUILT_IN:
        return BUILT_IN[name]
    with workspace.database.read() as session:
        row = session.get(ComputeRow, name)
        return _to_entity(row) if row is not None else None


def check_compute(workspace: Workspace, text: str | None, where: str) -> Compute:
    """`resolve_compute`, or an error that says how to make the YAML run here."""
    compute = resolve_compute(workspace, text)
    if compute is None:
        name = (text or "").strip().removeprefix("azureml:")
        known = ", ".join(c.name for c in list_computes(workspace))
        raise InvalidArgument(
            f"{where}: compute {text!r} does not exist here (known: {known}). Change it to "
            "`compute: local` or `compute: ray`, or create it: "
            f"mlyard compute create --name {name} --type local"
        )
    return compute


def _to_entity(row: ComputeRow) -> Compute:
    return Compute.model_validate(
        dict(
            name=row.name,
            type=row.type,
            address=row.address,
            description=row.description,
            properties=row.properties,
            created_at=as_utc(row.created_at),
        )
    )
