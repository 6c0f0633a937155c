"""Real local receivers for forwarding tests: an HTTP server and an SMTP server on loopback.

`HttpReceiver` answers from a script of responses (status, delay, headers) and
then 200, records every request, and behaves like a well-written webhook consumer:
a request whose Idempotency-Key was already processed is acknowledged but counted
as a duplicate, not as a second delivery. `SmtpReceiver` is an aiosmtpd server that
keeps every message it accepts, parsed.
"""

from __future__ import annotations

import email
import email.policy
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Reply:
    """One scripted HTTP answer."""

    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Request:
    """One request as the receiver got it."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    status: int

    @property
    def key(self) -> str:
        """The Idempotency-Key header, or ""."""
        return self.headers.get("idempotency-key", "")

    def json(self) -> Any:
        """The body parsed as JSON."""
        import json

        return json.loads(self.body)


class HttpReceiver:
    """A threaded HTTP server on 127.0.0.1, on `port` or an ephemeral one; HTTPS when given a TLS context."""

    def __init__(self, port: int = 0, *, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[Request] = []
        self.server_names: list[str | None] = []  # TLS SNI of each handshake
        self.effective: list[Request] = []  # first 2xx-answered request per idempotency key
        self.duplicates: list[Request] = []  # later requests with a key already processed
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            tls.sni_callback = lambda _sock, name, _ctx: self.server_names.append(name)
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        """The port it listens on."""
        return self._server.server_address[1]

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        """A URL on this receiver."""
        return f"{self.scheme}://{host}:{self.port}{path}"

    def script(self, *replies: Reply | int) -> None:
        """Answer the next requests with these replies (ints are plain statuses), then 200."""
        with self._lock:
            self._script.extend(Reply(r) if isinstance(r, int) else r for r in replies)

    def start(self) -> HttpReceiver:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        key = headers.get("idempotency-key", "")
        with self._lock:
            if key and any(r.key == key for r in self.effective):
                reply = Reply(200, "duplicate")
                request = Request(method, path, headers, body, reply.status)
                self.duplicates.append(request)
            else:
                reply = self._script.popleft() if self._script else Reply()
                request = Request(method, path, headers, body, reply.status)
                if 200 <= reply.status < 300:
                    self.effective.append(request)
            self.requests.append(request)
        return reply

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                reply = receiver._handle(self.command, self.path, headers, body)
                if reply.delay:
                    time.sleep(reply.delay)
                data = reply.body.encode()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (time-out test)
                self.close_connection = True

            do_GET = do_PUT = do_POST  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Quiet."""

        return Handler


class _Collector:
    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        with self.receiver.lock:
            if self.receiver.replies:
                return self.receiver.replies.popleft()
            message = email.message_from_bytes(
                envelope.original_content or envelope.content, policy=email.policy.default
            )
            self.receiver.messages.append(
                SmtpMessage(
                    envelope.mail_from, list(envelope.rcpt_tos), message, envelope.original_content or envelope.content
                )
            )
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class SmtpMessage:
    """One accepted message: envelope and parsed content."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


class SmtpReceiver:
    """An aiosmtpd server on 127.0.0.1; `replies` scripts SMTP answers to DATA (e.g. "451 later")."""

    def __init__(self, port: int) -> None:
        self.lock = threading.Lock()
        self.messages: list[SmtpMessage] = []
        self.replies: deque[str] = deque()
        self.port = port
        self._controller = Controller(_Collector(self), hostname="127.0.0.1", port=port)

    @property
    def url(self) -> str:
        """The SMTP_URL that reaches it."""
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpReceiver:
        """Start the server thread."""
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop the server thread."""
        self._controller.stop()

    def reset(self) -> None:
        """Forget messages and scripted replies (between tests)."""
        with self.lock:
            self.messages.clear()
            self.replies.clear()
