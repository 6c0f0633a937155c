"""Engine and session lifecycle.

Views use `get_session()`, one session per app context, closed on teardown.
Jobs and commands open their own with `session_scope()` so a long-lived worker
context never keeps a stale session between jobs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Connection, CursorResult, Engine, Result, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

# Pooled PostgreSQL connections are replaced after this long (below common idle time-outs of proxies).
POOL_RECYCLE_SECONDS = 1800


def make_engine(url: str, *, busy_timeout: float = 30.0, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout.

    The busy timeout is how long a SQLite connection waits for another writer's lock before it
    fails; a job that waits longer than its own time-out cannot be stopped (it sits in C code)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": busy_timeout}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL never corrupts and a commit survives a crash of the process; only an OS
            # crash or power loss may undo the last commits. It saves an fsync per capture (SQLite is
            # the local default; production runs PostgreSQL, which keeps its own durable commit).
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            cursor.close()

        return engine
    # No pre-ping: it cost a round trip on every checkout (every request). A connection the server dropped
    # fails its first statement instead; SQLAlchemy then invalidates the whole pool, so after a database
    # restart one statement per process fails (a job is retried, capture retries its insert itself), and
    # connections older than POOL_RECYCLE_SECONDS are replaced before idle-connection killers reach them.
    kwargs.setdefault("pool_recycle", POOL_RECYCLE_SECONDS)
    return create_engine(url, **kwargs)


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched (`Session.execute` is typed as returning a plain Result)."""
    assert isinstance(result, CursorResult)
    return result.rowcount


def init_app(app: Flask) -> None:
    """Bind an engine and a session factory to the app."""
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        os.makedirs(os.path.dirname(url.removeprefix("sqlite:///")) or ".", exist_ok=True)
    engine = make_engine(url, busy_timeout=app.config.get("SQLITE_BUSY_TIMEOUT_SECONDS", 30.0))
    # A forked RQ work horse must not reuse the parent's pooled connections.
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    app.extensions["leadsieve.engine"] = engine
    app.extensions["leadsieve.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    # The same pool, each statement its own transaction (`autocommit_connection`). Not on SQLite: in-process,
    # BEGIN and COMMIT cost no round trip, and switching a connection's level is a PRAGMA per checkout.
    app.extensions["leadsieve.autocommit_engine"] = (
        engine if url.startswith("sqlite") else engine.execution_options(isolation_level="AUTOCOMMIT")
    )
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    """The current app's engine."""
    return current_app.extensions["leadsieve.engine"]


def get_session() -> Session:
    """The request's session, created on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["leadsieve.sessionmaker"]()
    return g.db_session


@contextmanager
def autocommit_connection() -> Iterator[Connection]:
    """For an action that is one INSERT (a capture), on a Core connection (a Session's unit of work would
    only add CPU). On PostgreSQL every statement commits by itself, durably, before it returns: no BEGIN
    and COMMIT of their own, two round trips fewer, and `commit()` has nothing left to do. On SQLite it is
    an ordinary transaction, which the caller's `commit()` commits. Never for more than one write: on
    PostgreSQL each would stand alone."""
    with current_app.extensions["leadsieve.autocommit_engine"].connect() as connection:
        yield connection


@contextmanager
def session_scope() -> Iterator[Session]:
    """A fresh session for a job or command; rolled back on error, always closed."""
    session: Session = current_app.extensions["leadsieve.sessionmaker"]()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
