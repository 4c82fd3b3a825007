"""Versions of assets: the one rule of registering again, and allocating the next number when
several writers register at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mlyard.entities.specs.names import AssetRef
from mlyard.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import versions
from mlyard.store.versions import VersionedRow

T = TypeVar("T")
VERSION_RACE_RETRIES = 10


@dataclass(frozen=True)
class AssetKind:
    """How one kind of versioned asset is named in the messages of a lookup."""

    label: str  # "data asset"
    plural: str  # "data assets"
    register_hint: str  # "mlyard data create --name {name} --path ..."
    alias_hint: str = ""  # for kinds with aliases: how to set one, "{name}" and "{alias}" filled in


def find_version_row(
    session: Session,
    table: type[VersionedRow],
    kind: AssetKind,
    ref: AssetRef,
    alias_version: Callable[[Session, str, str], str | None] | None = None,
    name_exists: Callable[[Session, str], bool] | None = None,
) -> VersionedRow:
    """The row `name:version`, `name@latest` or — for kinds with aliases (`alias_version`) —
    `name@alias` names; NotFound saying what exists instead.

    The one lookup of data assets, environments, components and model versions: a hit costs one
    query (two for an alias); only a miss reads more, to explain itself. `name_exists` answers for
    kinds whose names exist apart from their versions (a model created empty).
    """
    if ref.version is not None:
        row = versions.version_row(session, table, ref.name, ref.version)
    elif ref.alias == "latest":
        row = versions.latest_row(session, table, ref.name)
    elif alias_version is not None:
        assert ref.alias is not None
        pinned = alias_version(session, ref.name, ref.alias)
        row = versions.version_row(session, table, ref.name, pinned) if pinned is not None else None
    else:
        raise InvalidArgument(f"{kind.plural} have no aliases; use {ref.name}:VERSION or {ref.name}@latest")
    if row is not None:
        return row
    known = [found.version for found in versions.rows_newest_first(session, table, ref.name)]
    exists = name_exists(session, ref.name) if name_exists is not None else bool(known)
    if not exists:
        raise NotFound(
            f"{kind.label} {ref.name!r} does not exist; register it with: "
            + kind.register_hint.format(name=ref.name)
        )
    if ref.version is not None:
        shown = ", ".join(known[:20]) or "none yet"
        raise NotFound(f"{kind.label} {ref.name!r} has no version {ref.version!r}; versions: {shown}")
    if ref.alias == "latest":
        raise NotFound(f"{kind.label} {ref.name!r} has no versions that are not archived")
    raise NotFound(
        f"{kind.label} {ref.name!r} has no alias {ref.alias!r}; set one with: "
        + kind.alias_hint.format(name=ref.name, alias=ref.alias)
    )


def insert_new_version(
    workspace: Workspace, insert: Callable[[Session], T], ref: str, version: str | None
) -> T:
    """Run `insert` (which picks the next number when `version` is None) in a write transaction.

    Two writers may read the same highest number; the unique (name, version) constraint refuses
    the second, which then simply tries again with the next number. An explicit `version` that
    another writer took in the meantime is an error instead: versions are immutable.
    """
    for _ in range(VERSION_RACE_RETRIES):
        try:
            return workspace.database.write(insert)
        except IntegrityError:
            if version is not None:
                raise AlreadyExists(f"{ref}:{version} was just registered by someone else") from None
    raise Conflict(f"could not allocate a version for {ref} after {VERSION_RACE_RETRIES} tries; try again")


def registered_version(
    session: Session,
    table: type[VersionedRow],
    name: str,
    version: str | None,
    is_same: Callable[[VersionedRow], bool],
    what: str,
    differs: str = "different content",
) -> VersionedRow | None:
    """The version a registration of `name` returns instead of creating one; None: create it.

    The one rule of registering again, for data assets, environments, components and models:
    - no `version`: the newest version whose content `is_same` as this one's, else None (the next
      number is created);
    - an explicit `version` that exists: returned when `is_same`, else AlreadyExists (versions are
      immutable);
    - an explicit `version` that does not exist yet: None — it is created even when another version
      has identical content, because the user named it (stored files are shared, not copied).
    Call it twice: before uploading anything, and again in the insert's transaction after
    `lock_asset_name`, so two writers of the same content make one version.
    """
    if version is not None:
        taken = versions.version_row(session, table, name, version)
        if taken is None or is_same(taken):
            return taken
        raise AlreadyExists(
            f"{what} {name}:{version} already exists with {differs}; versions are immutable: register "
            "without --version to get the next number, or give a new --version"
        )
    return next((row for row in versions.rows_newest_first(session, table, name) if is_same(row)), None)
