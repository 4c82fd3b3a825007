"""`check_database`: the health probe behind the server's /healthz."""

from __future__ import annotations

import dataclasses

import pytest

from mlyard.errors import StoreError
from mlyard.services.workspaces.workspace import check_database
from mlyard.store.database import Database


def test_a_reachable_database_passes(workspace):
    check_database(workspace)


def test_an_unreachable_database_is_a_store_error_naming_it(workspace):
    database = Database("postgresql+psycopg://mlyard:secret@127.0.0.1:1/gone")
    gone = dataclasses.replace(workspace, database=database)
    try:
        with pytest.raises(
            StoreError, match=r"database postgresql\+psycopg://mlyard:\*\*\*@127.0.0.1:1/gone is unreachable"
        ):
            check_database(gone)
    finally:
        database.dispose()
