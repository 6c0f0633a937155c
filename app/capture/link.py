"""Capture's own Redis connections: a form post waits for Redis once (the gate), never for its enqueue.

Each Redis round trip is a wait for another process. On a busy machine that wait is not the
microseconds Redis needs but however long the scheduler takes to come back to the web worker,
and a sync worker serves nobody meanwhile. A post needs one answer from Redis before it may store
(the rate limit and the forms' version, app/capture/gate.py); the screening job it queues after
the commit needs no answer at all to answer the visitor. So the job's commands are written to this
connection and the post goes on; their answer is read when the connection is next used (by then it
has long arrived), and a failure is logged then. Nothing is lost by not waiting: the submission is
committed before its job is sent, and the sweeper queues every `received` submission without a job
(Redis down, an error in the answer, the process gone before it was read).

One connection per thread (a sync worker has one; a threaded server's posts must not wait for each
other's round trips); a forked child opens its own.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from redis import Redis
from redis.client import Pipeline
from redis.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

Command = Sequence[Any]
# A lost connection: the answers still owed on it will never come.
LOST = (RedisConnectionError, RedisTimeoutError, OSError)


@dataclass(frozen=True)
class _Owed:
    """Answers still to read for commands sent without waiting: how many, and what they were for."""

    replies: int
    what: str


@dataclass
class _Line:
    """One thread's connection and the answers still owed on it."""

    connection: AbstractConnection
    owed: list[_Owed] = field(default_factory=list)


class RedisLink:
    """Connections to REDIS_URL for the capture path, one per thread (a threaded server's posts must not
    queue behind each other's round trips): `call` waits for its answers, `send` does not."""

    def __init__(self, redis: Redis) -> None:
        pool = redis.connection_pool
        self._make = lambda: pool.connection_class(**pool.connection_kwargs)
        self._local = threading.local()
        os.register_at_fork(after_in_child=self._forget)

    def call(self, *commands: Command) -> list[Any]:
        """Send `commands` and return their answers; an error answer raises (ResponseError), as do a lost
        connection and a time-out (the connection is then dropped)."""
        line = self._line()
        _settle(line)
        try:
            line.connection.send_packed_command(line.connection.pack_commands(commands))
            return [line.connection.read_response() for _ in commands]
        except LOST:
            line.connection.disconnect()
            raise

    def send(self, commands: Sequence[Command], *, what: str) -> bool:
        """Send `commands` and return at once (False, logged, if they could not be sent); their answers are
        read, and a failure among them logged naming `what`, before this thread's connection is next used."""
        line = self._line()
        _settle(line)
        try:
            line.connection.send_packed_command(line.connection.pack_commands(commands))
        except LOST as exc:
            line.connection.disconnect()
            log.warning("could not send %s (%s); the sweeper will retry", what, exc)
            return False
        line.owed.append(_Owed(len(commands), what))
        return True

    def settle(self) -> None:
        """Read every answer still owed on this thread's connection (each use does it first anyway)."""
        _settle(self._line())

    def _line(self) -> _Line:
        line: _Line | None = getattr(self._local, "line", None)
        if line is None:
            line = self._local.line = _Line(self._make())
        return line

    def _forget(self) -> None:
        """In a forked child: the parent's sockets are not ours to use; open our own when needed."""
        self._local = threading.local()


def _settle(line: _Line) -> None:
    """Read the answers owed on `line`, logging what failed."""
    while line.owed:
        owed = line.owed.pop(0)
        try:
            for _ in range(owed.replies):
                reply = line.connection.read_response()
                failed = [r for r in reply if isinstance(r, Exception)] if isinstance(reply, list) else []
                if failed:
                    log.warning("%s failed in Redis (%s); the sweeper will retry", owed.what, failed[0])
        except (ResponseError, *LOST) as exc:
            # An error answer leaves the conversation's place unsure, a lost connection ends it: start a new
            # one. What the answers not read would have confirmed is the sweeper's to check.
            line.connection.disconnect()
            unconfirmed = [owed, *line.owed]
            line.owed.clear()
            log.warning(
                "Redis did not confirm %s (%s); the sweeper will retry", ", ".join(o.what for o in unconfirmed), exc
            )


def transaction(pipeline: Pipeline) -> list[Command]:
    """The commands a (never executed) pipeline recorded, as one MULTI/EXEC transaction for `send`."""
    return [("MULTI",), *(args for args, _options in pipeline.command_stack), ("EXEC",)]
