"""E-mail to a sales or marketing inbox over SMTP_URL: plain text plus an HTML alternative.

`SMTP_URL=file:///some/dir` (the development default, `instance/outbox/`) sends nothing: each
message is written to that directory as `lead-<idempotency key>.eml`, so a local demo reaches an
"inbox" any mail client opens, and a retry rewrites the same file instead of adding a second one.

Header injection is impossible by construction: every header value goes through
`text.one_line` (no CR, LF or other control characters), recipients must match a
strict address pattern, and the message is built with `email.message.EmailMessage`,
which folds and encodes header values itself.

The HTML alternative is rendered from `templates/email/lead.html` (autoescaped) by a Jinja
environment of its own: adapters run without Flask (the worker's jobs and the admin's test sends
both call them with plain values).
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from tempfile import NamedTemporaryFile
from typing import Any
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from app.forwarding.adapters import text
from app.forwarding.adapters.types import AttemptResult, DeliverySettings, DestinationSpec

# Deliberately stricter than RFC 5322: no quoted local parts, no comments, no display names.
ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
SMTP_SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}

log = logging.getLogger(__name__)

TEMPLATES = Environment(
    loader=PackageLoader("app", "templates"),
    autoescape=select_autoescape(["html"]),
    keep_trailing_newline=True,
    undefined=StrictUndefined,
)


class EmailConfigError(ValueError):
    """SMTP_URL or the destination's addresses cannot be used."""


@dataclass(frozen=True)
class SmtpServer:
    """A parsed SMTP_URL."""

    scheme: str
    host: str
    port: int
    username: str = ""
    password: str = ""


def parse_smtp_url(url: str) -> SmtpServer:
    """smtp://[user:pass@]host[:port], smtp+starttls://… (port 587) or smtps://… (implicit TLS, 465)."""
    if not url:
        raise EmailConfigError("SMTP_URL is not set; e-mail destinations cannot send")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EmailConfigError(f"SMTP_URL is not a valid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in SMTP_SCHEMES or not parts.hostname:
        raise EmailConfigError(
            "SMTP_URL must look like smtp://host:25, smtp+starttls://host:587, "
            "smtps://host:465 or file:///directory/for/eml/files"
        )
    return SmtpServer(
        scheme=scheme,
        host=parts.hostname,
        port=port or SMTP_SCHEMES[scheme],
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


def outbox_dir(url: str) -> Path | None:
    """The directory of a `file:///…` SMTP_URL (write .eml files, send nothing), else None."""
    parts = urlsplit(url or "")
    if parts.scheme.lower() != "file":
        return None
    path = unquote(parts.path)
    if parts.netloc not in ("", "localhost") or not path.startswith("/"):
        raise EmailConfigError("a file SMTP_URL must name an absolute directory, e.g. file:///srv/leadsieve/outbox")
    return Path(path)


def eml_path(directory: Path, idempotency_key: str) -> Path:
    """Where the outbox keeps one delivery's message: `lead-<key>.eml` (erasure finds it here too)."""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", idempotency_key)[:100] or "unkeyed"
    return directory / f"lead-{name}.eml"


def write_eml(directory: Path, msg: EmailMessage, *, idempotency_key: str) -> Path:
    """Write the message as `lead-<key>.eml` (atomically; a retry replaces the same file); its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = eml_path(directory, idempotency_key)
    with NamedTemporaryFile("wb", dir=directory, prefix=".lead-", suffix=".tmp", delete=False) as tmp:
        tmp.write(msg.as_bytes())
    os.replace(tmp.name, path)
    return path


def valid_address(address: str) -> bool:
    """True for a plain addr-spec such as sales@example.com (nothing that could smuggle a header)."""
    return bool(ADDRESS.fullmatch(address))


def parse_recipients(target: str) -> list[str]:
    """The comma-separated addresses of an e-mail destination; EmailConfigError names a bad one."""
    recipients = [item.strip() for item in (target or "").split(",") if item.strip()]
    if not recipients:
        raise EmailConfigError("an e-mail destination needs at least one address")
    for address in recipients:
        if not valid_address(address):
            raise EmailConfigError(f"not a valid recipient address: {text.one_line(address, 100)!r}")
    return recipients


def message_id(idempotency_key: str, sender: str) -> str:
    """A Message-ID derived from the idempotency key, so every retry of one delivery carries the same one."""
    key = re.sub(r"[^A-Za-z0-9.-]", "", idempotency_key)[:64] or "lead"
    domain = sender.rsplit("@", 1)[-1] if valid_address(sender) else "leadsieve.invalid"
    return f"<lead-{key}@{domain}>"


def html_body(payload: dict[str, Any]) -> str:
    """The HTML alternative, rendered from `email/lead.html` (autoescaped)."""
    feedback_url = payload.get("feedback_url")
    return TEMPLATES.get_template("email/lead.html").render(
        headline=text.headline(payload),
        rows=text.details(payload),
        message=text.message(payload),
        feedback_url=feedback_url if text.is_web_url(feedback_url) else "",
    )


def build_message(payload: dict[str, Any], *, recipients: list[str], sender: str, idempotency_key: str) -> EmailMessage:
    """The EmailMessage for one lead; header values are single-line and recipients validated."""
    sender = text.one_line(sender, 320)
    if not valid_address(sender):
        raise EmailConfigError(f"SMTP_FROM is not a plain address: {sender!r}")
    msg = EmailMessage()
    msg["Subject"] = text.one_line(text.headline(payload), 200)
    msg["From"] = Address(display_name="leadsieve", addr_spec=sender)
    msg["To"] = ", ".join(recipients)
    lead_email = text.one_line(payload.get("email"), 320)
    if valid_address(lead_email):
        name = text.full_name(payload)
        msg["Reply-To"] = Address(display_name=name if name != lead_email else "", addr_spec=lead_email)
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id(idempotency_key, sender)
    msg["X-Leadsieve-Idempotency-Key"] = text.one_line(idempotency_key, 100)
    msg.set_content(text.headline(payload) + "\n\n" + text.plain_text(payload))
    msg.add_alternative(html_body(payload), subtype="html")
    return msg


def _smtp_error(exc: smtplib.SMTPResponseException) -> str:
    reply = exc.smtp_error
    reply = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"SMTP {exc.smtp_code} {text.one_line(reply, 300)}"


def send(
    spec: DestinationSpec, payload: dict[str, Any], *, idempotency_key: str, settings: DeliverySettings
) -> AttemptResult:
    """Send the lead to the destination's addresses (or write it to the file:// outbox); 4xx SMTP
    replies and network errors are retryable."""
    start = time.perf_counter()
    elapsed = lambda: int((time.perf_counter() - start) * 1000)  # noqa: E731
    try:
        outbox = outbox_dir(settings.smtp_url)
        server = None if outbox is not None else parse_smtp_url(settings.smtp_url)
        recipients = parse_recipients(spec.target)
        msg = build_message(payload, recipients=recipients, sender=settings.smtp_from, idempotency_key=idempotency_key)
    except EmailConfigError as exc:
        return AttemptResult(ok=False, error=str(exc), retryable=False)
    if outbox is not None:
        return _write_to_outbox(outbox, msg, recipients=recipients, idempotency_key=idempotency_key, elapsed=elapsed)
    assert server is not None
    try:
        client: smtplib.SMTP
        if server.scheme == "smtps":
            client = smtplib.SMTP_SSL(
                server.host, server.port, timeout=settings.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=settings.timeout)
        with client:
            if server.scheme == "smtp+starttls":
                client.starttls(context=ssl.create_default_context())
            if server.username:
                client.login(server.username, server.password)
            refused = client.send_message(msg, from_addr=text.one_line(settings.smtp_from, 320), to_addrs=recipients)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        return AttemptResult(
            ok=False,
            status_code=max(codes, default=None),
            latency_ms=elapsed(),
            error=f"all recipients refused: {text.one_line(exc.recipients, 300)}",
            retryable=any(400 <= code < 500 for code in codes),
        )
    except smtplib.SMTPResponseException as exc:
        return AttemptResult(
            ok=False,
            status_code=exc.smtp_code,
            latency_ms=elapsed(),
            error=_smtp_error(exc),
            retryable=not 500 <= exc.smtp_code < 600,
        )
    except TimeoutError:
        return AttemptResult(
            ok=False, error=f"SMTP timed out after {settings.timeout:g} s", retryable=True, latency_ms=elapsed()
        )
    except (OSError, smtplib.SMTPException) as exc:
        return AttemptResult(ok=False, error=f"SMTP {type(exc).__name__}: {exc}", retryable=True, latency_ms=elapsed())
    excerpt = f"accepted for {len(recipients) - len(refused)} of {len(recipients)} recipient(s)"
    if refused:
        excerpt += f"; refused: {text.one_line(refused, 300)}"
    return AttemptResult(ok=True, status_code=250, latency_ms=elapsed(), response_excerpt=excerpt)


def _write_to_outbox(
    outbox: Path, msg: EmailMessage, *, recipients: list[str], idempotency_key: str, elapsed: Callable[[], int]
) -> AttemptResult:
    """The local "inbox" of SMTP_URL=file://…: delivered once the .eml file is on disk."""
    try:
        path = write_eml(outbox, msg, idempotency_key=idempotency_key)
    except OSError as exc:  # a full disk or a permission problem may be fixed: retry
        return AttemptResult(
            ok=False, error=f"could not write to the outbox {outbox}: {exc}", retryable=True, latency_ms=elapsed()
        )
    log.info("e-mail to %s written to %s (SMTP_URL is a file outbox: nothing was sent)", ", ".join(recipients), path)
    return AttemptResult(ok=True, latency_ms=elapsed(), response_excerpt=f"written to {path}")
