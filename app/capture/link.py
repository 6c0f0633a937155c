"""Capture's own Redis connection: a form post waits for Redis once (the gate), never for its enqueue.

Each Redis round trip is a wait for another process. On a busy machine that wait is not the
microseconds Redis needs but however long the scheduler takes to come back to the web worker,
and a sync worker serves nobody meanwhile. A post needs one answer from Redis before it may store
(the rate limit and the forms' version, app/capture/gate.py); the screening job it queues after
the commit needs no answer at all to answer the visitor. So the job's commands are written to this
connection and the post goes on; their answer is read when the connection is next used (by then it
has long arrived), and a failure is logged then. Nothing is lost by not waiting: the submission is
committed before its job is sent, and the sweeper queues every `received` submission without a job
(Redis down, an error in the answer, the process gone before it was read).

One connection per process, used under a lock (threaded servers share it); a forked child opens
its own.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
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


class RedisLink:
    """One connection to REDIS_URL for the capture path: `call` waits for its answers, `send` does not."""

    def __init__(self, redis: Redis) -> None:
        pool = redis.connection_pool
        self._make = lambda: pool.connection_class(**pool.connection_kwargs)
        self._connection: AbstractConnection = self._make()
        self._owed: list[_Owed] = []
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=self._forget)

    def call(self, *commands: Command) -> list[Any]:
        """Send `commands` and return their answers; an error answer raises (ResponseError), as do a lost
        connection and a time-out (the connection is then dropped)."""
        with self._lock:
            self._settle()
            try:
                self._connection.send_packed_command(self._connection.pack_commands(commands))
                return [self._connection.read_response() for _ in commands]
            except LOST:
                self._connection.disconnect()
                raise

    def send(self, commands: Sequence[Command], *, what: str) -> bool:
        """Send `commands` and return at once (False, logged, if they could not be sent); their answers are
        read, and a failure among them logged naming `what`, before this connection is next used."""
        with self._lock:
            self._settle()
            try:
                self._connection.send_packed_command(self._connection.pack_commands(commands))
            except LOST as exc:
                self._connection.disconnect()
                log.warning("could not send %s (%s); the sweeper will retry", what, exc)
                return False
            self._owed.append(_Owed(len(commands), what))
            return True

    def settle(self) -> None:
        """Read every answer still owed (tests and shutdown; each use does it first anyway)."""
        with self._lock:
            self._settle()

    def _settle(self) -> None:
        while self._owed:
            owed = self._owed.pop(0)
            try:
                for _ in range(owed.replies):
                    reply = self._connection.read_response()
                    failed = [r for r in reply if isinstance(r, Exception)] if isinstance(reply, list) else []
                    if failed:
                        log.warning("%s failed in Redis (%s); the sweeper will retry", owed.what, failed[0])
            except ResponseError as exc:  # an error answer: the rest of this command's answers still follow
                log.warning("%s failed in Redis (%s); the sweeper will retry", owed.what, exc)
                self._drop_after_error(owed)
            except LOST as exc:
                self._connection.disconnect()
                lost = [owed, *self._owed]
                self._owed.clear()
                log.warning(
                    "Redis went away before confirming %s (%s); the sweeper will retry",
                    ", ".join(o.what for o in lost),
                    exc,
                )

    def _drop_after_error(self, owed: _Owed) -> None:
        """After an error answer the connection's place in the conversation is unsure: start a new one (the
        answers still owed on the old one are not read; what they confirmed is the sweeper's to check)."""
        self._connection.disconnect()
        if self._owed:
            log.warning("unconfirmed after an error: %s", ", ".join(o.what for o in self._owed))
        self._owed.clear()

    def _forget(self) -> None:
        """In a forked child: the parent's socket is not ours to use; open our own when needed."""
        self._connection = self._make()
        self._owed = []
        self._lock = threading.Lock()


def transaction(pipeline: Pipeline) -> list[Command]:
    """The commands a (never executed) pipeline recorded, as one MULTI/EXEC transaction for `send`."""
    return [("MULTI",), *(args for args, _options in pipeline.command_stack), ("EXEC",)]
