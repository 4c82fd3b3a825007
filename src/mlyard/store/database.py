"""Connections to a workspace database: SQLite (embedded default, WAL) or PostgreSQL.

SQLite allows one writer at a time. Write transactions start with `BEGIN IMMEDIATE` so a writer
waits for the lock (busy timeout) up front instead of failing when it upgrades a read lock, and a
write that still meets "database is locked" is retried with backoff.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from mlyard.errors import StoreError, WorkspaceError

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_POOL = 32
WRITE_RETRIES = 8


def _configure_sqlite(engine: Engine, begin: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)


class Database:
    """An engine plus the two ways we use it: short read sessions and retried write transactions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        try:
            if self.is_sqlite:
                # Two engines so reads begin plainly and writes take the write lock first. The
                # pools keep as many connections as a busy server's threads use at once: a
                # connection closed for want of room costs a reconnect and its PRAGMAs next time.
                self.engine = create_engine(url, pool_size=SQLITE_POOL, max_overflow=SQLITE_POOL)
                _configure_sqlite(self.engine, "BEGIN")
                write_engine = create_engine(url, pool_size=SQLITE_POOL // 4, max_overflow=SQLITE_POOL)
                _configure_sqlite(write_engine, "BEGIN IMMEDIATE")
            else:
                self.engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
                write_engine = self.engine
        except Exception as exc:  # bad URL, missing driver
            raise WorkspaceError(f"cannot use database URL {redact_url(url)!r}: {exc}") from exc
        self.write_engine = write_engine
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(write_engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    def write(self, work: Callable[[Session], T]) -> T:
        """Run `work` in one transaction and commit; retried whole if SQLite stays locked."""
        for attempt in range(WRITE_RETRIES):
            try:
                with self._write_sessions() as session:
                    with session.begin():
                        result = work(session)
                    return result
            except OperationalError as exc:
                if not _is_lock_error(exc) or attempt == WRITE_RETRIES - 1:
                    raise StoreError(f"database {redact_url(self.url)} is unavailable: {exc.orig}") from exc
                time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()
        self.write_engine.dispose()


def _is_lock_error(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "locked" in text or "busy" in text or "could not serialize" in text


def redact_url(url: str) -> str:
    """Hide a password in a database URL before it reaches a message."""
    if "://" not in url or "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url
