"""Allocating the next version number of an asset when several writers register at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mlyard.errors import AlreadyExists, Conflict
from mlyard.services.workspaces.workspace import Workspace

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
