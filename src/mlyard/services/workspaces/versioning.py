"""Versions of assets: the one rule of registering again, and allocating the next number when
several writers register at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mlyard.errors import AlreadyExists, Conflict
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import versions
from mlyard.store.versions import VersionedRow

T = TypeVar("T")
VERSION_RACE_RETRIES = 10


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
